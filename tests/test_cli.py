"""The storybuild command: check, reroll, cache."""

from __future__ import annotations


def test_check_reports_each_story(project):
    project.add_story("tiny")
    bad = project.root / "stories" / "bad"
    bad.mkdir()
    (bad / "story.txt").write_text("(a) x\n(a) y\n[b] hi\n", encoding="utf-8")
    result = project.storybuild("check")
    assert result.returncode == 1
    assert "ok   tiny: 'The Small Bell', 3 scenes, 6 lines, 2 cues" in result.stdout
    assert "FAIL bad: stories/bad/story.txt:2:2:" in result.stdout


def test_reroll_records_the_seed_and_rejects_unknown_items(project):
    project.add_story("tiny")
    assert project.storybuild("reroll", "scene", "tiny/barn").returncode == 0
    assert project.storybuild("reroll", "scene", "tiny/barn").returncode == 0
    seeds = (project.root / "stories" / "tiny" / "seeds.toml").read_text()
    assert '[scene]\n"barn" = 2' in seeds
    wrong = project.storybuild("reroll", "scene", "tiny/attic")
    assert wrong.returncode == 1 and "no item 'attic'" in wrong.stderr and "barn" in wrong.stderr


def test_cache_info_and_clear(project):
    project.add_story("tiny")
    project.doit("cast")
    info = project.storybuild("cache", "info").stdout
    assert "1 entries" in info
    assert project.storybuild("cache", "clear").returncode == 0
    assert "0 entries" in project.storybuild("cache", "info").stdout


def run_cli(*args, cwd, env=None):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "storybuild.cli", *map(str, args)], cwd=cwd,
                          env=env or dict(os.environ), capture_output=True, text=True, timeout=120)


def test_root_is_the_projects_folder_from_anywhere(project, tmp_path):
    project.add_story("tiny")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".storybuild" / "cache" / "ab").mkdir(parents=True)  # must survive `cache clear`
    check = run_cli("--root", project.root, "check", cwd=elsewhere, env=project.env() | {"STORYBUILD_CACHE_DIR": ""})
    assert check.returncode == 0 and "ok   tiny: 'The Small Bell'" in check.stdout
    project.doit("cast")
    cleared = run_cli("--root", project.root, "cache", "clear", cwd=elsewhere, env=project.env() | {"STORYBUILD_CACHE_DIR": ""})
    assert cleared.returncode == 0 and str(project.root / ".storybuild" / "cache") in cleared.stdout
    assert (elsewhere / ".storybuild" / "cache" / "ab").is_dir()
    assert not (project.root / ".storybuild" / "cache").exists()
    reroll = run_cli("--root", project.root, "reroll", "scene", "tiny/barn", cwd=elsewhere)
    assert reroll.returncode == 0 and (project.root / "stories" / "tiny" / "seeds.toml").is_file()
    assert not (elsewhere / "stories").exists()


def test_check_names_backends_warnings_and_strict(project):
    project.add_story("tiny")
    story = project.story("tiny")
    story.write_text("author: me\n" + story.read_text(encoding="utf-8"), encoding="utf-8")
    check = project.storybuild("check")
    assert check.returncode == 0
    assert "backends: llm rules, tts espeak, sfx procedural, image storybook, animate kenburns (ready)" in check.stdout
    assert "warning: stories/tiny/story.txt:1:1: 'author:' is not a header" in check.stdout
    strict = project.storybuild("check", "--strict")
    assert strict.returncode == 1 and "FAIL tiny" in strict.stdout
    assert "error: stories/tiny/story.txt:1:1:" in strict.stdout


def test_check_asks_each_backends_server(project):
    project.add_story("tiny")
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (project.root / "storybuild.toml").write_text(
        f'[llm]\nbackend = "openai"\noptions = {{ model = "m" }}\n[servers]\nllm_url = "http://127.0.0.1:{port}/v1"\nllm_model = "m"\n'
    )
    check = project.storybuild("check")
    assert check.returncode == 1 and "FAIL tiny" in check.stdout, check.stdout + check.stderr
    assert f"llm openai: " in check.stdout and f"127.0.0.1:{port}" in check.stdout


def test_prune_removes_what_no_task_makes(project):
    project.add_story("tiny")
    project.doit("final_wav")
    listed = sorted((project.build / "tiny" / "sfx").glob("i*.wav"))  # listed in sfx/inferred.json
    assert listed
    lines = project.build / "tiny" / "lines"
    stale = lines / "0099.wav"
    stale.write_bytes(b"RIFF")
    gone = project.build / "deleted-story"
    gone.mkdir()
    (gone / "final.wav").write_bytes(b"RIFF")
    dry = project.storybuild("prune", "--dry-run")
    assert "would remove build/tiny/lines/0099.wav" in dry.stdout and "would remove build/deleted-story/" in dry.stdout
    assert stale.exists() and gone.exists()
    asked = project.storybuild("prune")  # stdin is not a terminal: no deleted story goes without --yes
    assert "removed build/tiny/lines/0099.wav" in asked.stdout and "pass --yes" in asked.stdout
    assert not stale.exists() and gone.exists() and len(list(lines.glob("*.wav"))) == 6
    assert project.storybuild("prune", "--yes").returncode == 0 and not gone.exists()
    assert all(path.is_file() for path in listed)
    mark = project.mark()
    result = project.doit("final_wav")
    assert project.records()[mark:] == [] and "nothing to do" in result.stdout


def test_help_describes_every_command_with_examples():
    import subprocess
    import sys

    main = subprocess.run([sys.executable, "-m", "storybuild.cli", "--help"], capture_output=True, text=True)
    assert "--debug" in main.stdout and "doit tts:<story>" in main.stdout
    for command in ("check", "reroll", "cache", "prune"):
        assert command in main.stdout
        text = subprocess.run([sys.executable, "-m", "storybuild.cli", command, "--help"],
                              capture_output=True, text=True).stdout
        assert "examples:" in text and f"storybuild {command}" in text.split("examples:")[1]
        description = text.split("\n\n")[1]
        assert len(description) > 60, text


def test_debug_shows_tracebacks(project):
    quiet = project.storybuild("reroll", "scene", "nosuch/x")
    assert quiet.returncode == 1 and "no story 'nosuch'" in quiet.stderr and "Traceback" not in quiet.stderr
    loud = project.storybuild("--debug", "reroll", "scene", "nosuch/x")
    assert loud.returncode == 1 and "Traceback" in loud.stderr and "no story 'nosuch'" in loud.stderr
