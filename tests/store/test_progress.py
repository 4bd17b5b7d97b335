"""The reporter shows what running tasks say of themselves: on the live line, or now and then as lines."""

from __future__ import annotations

import io
from types import SimpleNamespace

from storybuild import progress
from storybuild.progress import StoryReporter


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _task(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, actions=[object()], values={"outcome": "generated", "seconds": 1.0})


def test_a_task_s_report_is_on_the_live_line_until_it_ends() -> None:
    out = Terminal()
    reporter = StoryReporter(out, {})
    reporter.initialize({}, [])
    task = _task("animate:lighthouse/harbor")
    reporter.execute_task(task)
    progress.update(task.name, "comfyui 127.0.0.1:8188 KSampler 12/30")
    assert "animate   lighthouse/harbor  comfyui 127.0.0.1:8188 KSampler 12/30 0s" in out.getvalue()
    reporter.add_success(task)
    assert reporter.statuses == {}
    reporter.complete_run()
    progress.update(task.name, "after the run: shown nowhere")
    assert "after the run" not in out.getvalue()


def test_off_a_terminal_reports_are_plain_lines_at_most_every_few_seconds() -> None:
    out = io.StringIO()
    reporter = StoryReporter(out, {})
    reporter.initialize({}, [])
    task = _task("tts:tiny/0001")
    reporter.execute_task(task)
    for step in range(50):
        progress.update(task.name, f"step {step}/50")
    reporter.complete_run()
    lines = [line for line in out.getvalue().splitlines() if "step" in line]
    assert lines == ["[0/0] tts       tiny/0001  step 0/50 0s"]
    assert "\r" not in out.getvalue()


def test_a_warning_is_a_line_of_its_own() -> None:
    out = io.StringIO()
    reporter = StoryReporter(out, {})
    reporter.initialize({}, [])
    progress.warn("cache entry x/ab/abcd has a scene.png that differs from its manifest")
    reporter.complete_run()
    assert "warning: cache entry x/ab/abcd has a scene.png" in out.getvalue().splitlines()[0]
