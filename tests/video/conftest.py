"""Media tests run once per ffmpeg the machine has, so two builds that disagree fail a test.

The bundled binary (imageio-ffmpeg) always; the one on PATH when there is one, and in CI
(CI=true) always: there a missing system ffmpeg fails instead of quietly testing less.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from storybuild.media.ffmpeg import ENVIRONMENT

IN_CI = os.environ.get("CI") == "true"


def ffmpeg_choices() -> list[str]:
    """Every ffmpeg to test with, as STORYBUILD_FFMPEG values."""
    return ["bundled", "system"] if IN_CI or shutil.which("ffmpeg") else ["bundled"]


@pytest.fixture(params=ffmpeg_choices())
def each_ffmpeg(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with each ffmpeg in turn; yields the choice."""
    if request.param == "system" and shutil.which("ffmpeg") is None:
        pytest.fail("CI=true but there is no ffmpeg on PATH to test with: apt-get install ffmpeg")
    monkeypatch.setenv(ENVIRONMENT, request.param)
    yield request.param
