"""How a server runs: where it listens, who may call it, how many builds at once, where jobs live.

Values come from the command line, the environment (``STORYBUILD_API_TOKEN``,
``STORYBUILD_DATABASE_URL``, ``STORYBUILD_WEBHOOK_SECRET``, ``STORYBUILD_WEBHOOK_ALLOW_PRIVATE``)
and the ``[serve]`` table of storybuild.toml (``ServeSettings``), strongest first; never from a
story: they are the server's, not the build's. Secrets belong in the environment, not in a file
that is committed, so the table holds none.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError

__all__ = ["DEFAULT_PORT", "ServeConfig", "ServeSettings"]

DEFAULT_PORT = 8313  # the bridge's port, so its callers need no change
MAX_BODY = 6 * 1024 * 1024  # a story.txt may be 5 MB; its toml and the JSON around it fit in the rest


class ServeSettings(BaseModel):
    """The ``[serve]`` table of storybuild.toml."""

    model_config = ConfigDict(extra="forbid")

    max_concurrent: int = Field(3, ge=1, description="builds at once, each its own doit process")
    allow_private_webhooks: bool = Field(False, description="let webhooks reach loopback and private addresses")


@dataclass
class ServeConfig:
    """Everything the server needs to know besides the project itself."""

    root: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token: str = ""
    database_url: str = ""
    max_concurrent: int = 3
    webhook_secret: str = ""
    allow_private_webhooks: bool = False
    max_body: int = MAX_BODY
    webhook_first_retry: float = 10.0  # seconds before the first retry; each next one waits twice as long
    webhook_timeout: float = 10.0  # seconds a receiver has to answer one attempt
    cancel_grace: float = 20.0  # seconds a cancelled build has to stop before SIGKILL
    state_dir: Path | None = None

    @classmethod
    def from_environment(cls, root: Path, **values: object) -> ServeConfig:
        """A config from the project's ``[serve]`` table, the environment, then ``values`` (the command line)."""
        from ..graph.project import Project

        env = os.environ
        project = Project(Path(root).resolve())
        if project.error is not None:
            raise project.error
        table = getattr(project.settings, "serve", None) or ServeSettings()
        chosen = {
            "token": env.get("STORYBUILD_API_TOKEN", ""),
            "database_url": env.get("STORYBUILD_DATABASE_URL", ""),
            "webhook_secret": env.get("STORYBUILD_WEBHOOK_SECRET", ""),
            "allow_private_webhooks": table.allow_private_webhooks
            or env.get("STORYBUILD_WEBHOOK_ALLOW_PRIVATE", "") not in ("", "0"),
            "max_concurrent": table.max_concurrent,
        }
        chosen.update({key: value for key, value in values.items() if value is not None})
        config = cls(root=project.root, **chosen)
        config.check()
        return config

    def check(self) -> None:
        """Refuse a config that would expose the API: a non-loopback bind without a token."""
        if self.max_concurrent < 1:
            raise ConfigError(f"serve: max_concurrent must be at least 1, not {self.max_concurrent}")
        if not self.token and not is_loopback(self.host):
            raise ConfigError(
                f"serve: binding {self.host} exposes the API beyond this machine: set STORYBUILD_API_TOKEN"
                " (callers send it as `Authorization: Bearer <token>`), or bind 127.0.0.1"
            )

    def state_path(self) -> Path:
        """The folder holding the job database and the webhook secret (the project's state_dir)."""
        if self.state_dir is not None:
            return Path(self.state_dir)
        from ..graph.project import Project

        project = Project(self.root)
        return project.path(project.settings.state_dir)

    def secret(self) -> str:
        """The webhook signing secret: the configured one, else one made once and kept in the state dir."""
        if self.webhook_secret:
            return self.webhook_secret
        path = self.state_path() / "webhook-secret"
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            from ..store.atomic import write_text

            path.parent.mkdir(parents=True, exist_ok=True)
            write_text(path, secrets.token_hex(32) + "\n")
            os.chmod(path, 0o600)
            return path.read_text(encoding="utf-8").strip()


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
