"""A loopback ComfyUI that knows every node class the shipped workflows use (see ``helpers``).

The loopback server (``tests/servers/comfyui.py``) validates prompts against its node classes;
its defaults are the core nodes. Every class of the shipped templates is declared through its
public ``node_classes`` setting: model files as the choices the template names, LoadImage and
LoadAudio inputs as uploaded files, links as optional inputs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from comfyui.helpers import shipped_node_classes
from servers.comfyui import ComfyUIServer, running_comfyui

@pytest.fixture(scope="module")
def comfy_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComfyUIServer]:
    """One loopback ComfyUI per test module (starting one costs ~0.1 s, but clients are per URL)."""
    with running_comfyui(tmp_path_factory.mktemp("comfyui"), node_classes=shipped_node_classes()) as server:
        yield server


@pytest.fixture
def comfy(comfy_module: ComfyUIServer) -> ComfyUIServer:
    """The module's server with its faults reset and its records noted, for one test."""
    comfy_module.configure(node_classes=shipped_node_classes(), job_time=0.0, error_jobs=0, black_jobs=0,
                           wrong_size_jobs=0)
    return comfy_module
