"""The loopback language-model server, started per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servers.openai_server import OpenAIServer


@pytest.fixture
def llm_server() -> Iterator[OpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1, serving qwen/qwen3-14b."""
    server = OpenAIServer().start()
    yield server
    server.stop()
