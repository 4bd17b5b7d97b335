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
