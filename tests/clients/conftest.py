"""A loopback ComfyUI per test and the small workflows the client tests submit."""

from __future__ import annotations

import pytest

from servers.comfyui import running_comfyui


@pytest.fixture
def comfyui(tmp_path):
    """A fresh loopback ComfyUI whose files live under the test's tmp_path."""
    with running_comfyui(tmp_path / "comfyui") as server:
        yield server

