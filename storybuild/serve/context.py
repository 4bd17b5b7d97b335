"""What every route shares: the config, the job store, the queue and the webhook sender."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from ..graph.project import Project
from .jobs import JobStore
from .runner import Runner
from .settings import ServeConfig
from .webhooks import WebhookSender

__all__ = ["Services", "services"]


@dataclass
class Services:
    """The server's parts, made once by ``app.create_app``."""

    config: ServeConfig
    store: JobStore
    runner: Runner
    sender: WebhookSender

    @property
    def root(self) -> Path:
        """The project folder."""
        return self.config.root

    def project(self) -> Project:
        """The project as it is on disk now: stories change between requests, so never a cached one."""
        return Project(self.config.root)


def services(request: Request) -> Services:
    """The ``Services`` of the app serving ``request``."""
    return request.app.state.serve
