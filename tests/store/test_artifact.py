"""artifact.run on real files: failures keep the last good target and say where; keys ignore paths."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from unittest.mock import ANY

import pytest
from doit.exceptions import TaskFailed

from storybuild.backends.context import current_job
from storybuild.errors import BackendError
from storybuild.graph.artifact import Artifact, Runtime, cache_key, run, tools_of
from storybuild.progress import StoryReporter
from storybuild.store import journal
from storybuild.store.cache import ArtifactCache
from storybuild.store.hashing import file_digest
from storybuild.store.tools import identity, stage_tools


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    return Runtime(cache=ArtifactCache(tmp_path / "cache"), journal=tmp_path / "state" / "log.jsonl")


def _writer(text: str):
    def build(request, out):
        for path in out.values():
            path.write_text(text)

    return build


def _failing(exc: Exception):
    def build(request, out):
        out["line.wav"].write_text("half")
        raise exc

    return build


def _artifact(runtime: Runtime, tmp_path: Path, build, recipe=None, **more) -> Artifact:
    return Artifact(
        stage="tts", item="tiny/0001", targets={"line.wav": str(tmp_path / "build" / "lines" / "0001.wav")},
        recipe=recipe or {"text": "hello"}, build=build, runtime=runtime, tools=(), **more,
    )


def test_a_failure_keeps_the_last_good_target_and_the_next_success_replaces_it(runtime, tmp_path) -> None:
    target = tmp_path / "build" / "lines" / "0001.wav"
    assert run(_artifact(runtime, tmp_path, _writer("good"))) == {
        "outcome": "generated", "seconds": pytest.approx(0, abs=5), "key": ANY, "recipe": {"text": "hello"},
        "targets": {target.as_posix(): [4, ANY, ANY, ANY, file_digest(target)]},
    }
    failed = run(_artifact(runtime, tmp_path, _failing(BackendError("no such voice")), {"text": "changed"}))
    assert isinstance(failed, TaskFailed)
    assert target.read_text() == "good"
    assert [p.name for p in target.parent.iterdir()] == ["0001.wav"], "no temp file left"
    assert run(_artifact(runtime, tmp_path, _writer("better"), {"text": "changed"}))["outcome"] == "generated"
    assert target.read_text() == "better"


def test_an_unexpected_exception_is_a_task_failure_naming_stage_story_and_item(runtime, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("STORYBUILD_DEBUG", raising=False)
    failed = run(_artifact(runtime, tmp_path, _failing(KeyError("mara"))))
    message = failed.get_msg()
    assert isinstance(failed, TaskFailed)
    assert message.startswith("tts tiny/0001: unexpected KeyError: 'mara'")
    assert "STORYBUILD_DEBUG=1" in message and "Traceback" not in message
    monkeypatch.setenv("STORYBUILD_DEBUG", "1")
    message = run(_artifact(runtime, tmp_path, _failing(KeyError("mara")))).get_msg()
    assert "Traceback" in message and "in build" in message


def test_storybuild_errors_get_the_task_s_place_unless_they_know_better(runtime, tmp_path) -> None:
    error = BackendError("the server answered 500", service="http://127.0.0.1:8188")
    assert run(_artifact(runtime, tmp_path, _failing(error))).get_msg().startswith(
        "tts tiny/0001: the server answered 500"
    )
    assert (error.stage, error.story, error.item) == ("tts", "tiny", "tiny/0001")
    assert error.service == "http://127.0.0.1:8188"
    own = BackendError("bad", stage="cast", item="tiny")
    assert run(_artifact(runtime, tmp_path, _failing(own))).get_msg().startswith("cast tiny: bad")


def test_an_os_error_names_the_file(runtime, tmp_path) -> None:
    missing = tmp_path / "voices" / "mara.wav"

    def build(request, out):
        missing.read_bytes()

    message = run(_artifact(runtime, tmp_path, build)).get_msg()
    assert message.startswith("tts tiny/0001: No such file or directory") and str(missing) in message


def test_the_build_runs_in_a_job_context_that_reports_progress(runtime, tmp_path) -> None:
    seen = {}

    def build(request, out):
        job = current_job()
        seen.update(stage=job.stage, item=job.item, key=job.key, state=job.state_dir)
        job.progress("comfyui 127.0.0.1:8188 KSampler 12/30")
        out["line.wav"].write_text("x")

    out = io.StringIO()
    reporter = StoryReporter(out, {})
    reporter.initialize({}, [])
    try:
        artifact = _artifact(runtime, tmp_path, build)
        run(artifact)
    finally:
        reporter.complete_run()
    assert current_job() is None
    assert seen["stage"] == "tts" and seen["item"] == "tiny/0001" and seen["state"] == tmp_path / "state"
    assert seen["key"] == journal.read(runtime.journal)[-1]["key"] == cache_key(artifact, {}, {})
    assert "tts       tiny/0001  comfyui 127.0.0.1:8188 KSampler 12/30" in out.getvalue()


def test_the_key_depends_on_input_content_not_on_where_inputs_live(runtime, tmp_path) -> None:
    def animate(folder: str, content: bytes) -> tuple[Artifact, dict]:
        image = tmp_path / "build" / folder / "scenes" / "harbor.png"
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(content)
        artifact = Artifact(
            stage="animate", item=f"{folder}/harbor", targets={"clip.mp4": str(tmp_path / folder / "clip.mp4")},
            recipe={"fps": 24}, build=_writer("x"), runtime=runtime, inputs=[str(image)], tools=(),
        )
        return artifact, {"image": str(image), "frames": 48, "characters": [{"portrait": str(image)}]}

    first, second, other = animate("tiny", b"png"), animate("tiny2", b"png"), animate("tiny3", b"other png")
    assert cache_key(*first) == cache_key(*second)
    assert cache_key(*first) != cache_key(*other)
    assert cache_key(*first, {"ffmpeg": "ffmpeg 5.1"}) != cache_key(*first, {"ffmpeg": "ffmpeg 7.0"})


def test_tool_identities_are_in_the_manifest_and_backends_may_declare_theirs(runtime, tmp_path) -> None:
    artifact = Artifact(
        stage="sfx", item="tiny/001", targets={"cue.wav": str(tmp_path / "build" / "sfx" / "001.wav")},
        recipe={"sfx": "procedural 1 abc"}, build=_writer("x"), runtime=runtime,
    )
    assert tools_of(artifact) == ("numpy",)
    run(artifact)
    key = journal.read(runtime.journal)[-1]["key"]
    manifest = json.loads((runtime.cache.entry(key) / "manifest.json").read_text())
    assert manifest["tools"] == {"numpy": identity("numpy")} and manifest["stage"] == "sfx"

    class Remote:
        tools = ("ffmpeg",)

    assert stage_tools("animate", Remote) == ("ffmpeg",)
    assert stage_tools("thumbnail", Remote) == ("ffmpeg", "fonts", "pillow")
    assert stage_tools("cast") == ()


def test_a_task_sweeps_what_a_killed_writer_left_beside_its_target(runtime, tmp_path) -> None:
    folder = tmp_path / "build" / "lines"
    code = (
        "import sys\nfrom storybuild.store.atomic import temp_path\n"
        f"p = temp_path({str(folder / '0001.wav')!r}); p.parent.mkdir(parents=True); p.write_bytes(b'x'); print(p)"
    )
    orphan = Path(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip())
    assert orphan.exists()
    run(_artifact(runtime, tmp_path, _writer("good")))
    assert sorted(p.name for p in folder.iterdir()) == ["0001.wav"]
