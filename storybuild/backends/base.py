"""What every backend declares: a name, a version, and its options as a pydantic model.

The name, version and options go into every artifact's recipe, so upgrading a backend or changing
one option rebuilds exactly what it made. Connection settings (server URLs, timeouts, keys) reach a
backend beside its options as ``servers`` and never enter a recipe: moving ComfyUI to another host
rebuilds nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class NoOptions(BaseModel):
    """For backends that take no options."""

    model_config = ConfigDict(extra="forbid")


class Backend:
    """Base of every backend class: identity plus validated options."""

    name: ClassVar[str]
    version: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, options: BaseModel | dict[str, Any] | None = None, *, servers: Any = None) -> None:
        if not isinstance(options, BaseModel):
            options = self.Options.model_validate(options or {})
        self.options = options
        self.servers = servers

    def check(self) -> list[str]:
        """Problems that would stop this backend from building, found without building anything.

        ``storybuild check`` and the first task of a build call it: a remote backend asks its
        server (reachable? nodes and models present?); embedded ones have nothing to check.
        """
        return []

    @classmethod
    def recipe(cls, options: dict[str, Any], servers: Any = None) -> dict[str, Any]:
        """The backend's part of an artifact recipe: name, version and validated options.

        ``servers`` is there for a backend whose output depends on a connection setting (a model
        named only in ``servers.llm_model``); the base ignores it, as most backends must.
        """
        return {
            "backend": cls.name,
            "version": cls.version,
            "options": cls.Options.model_validate(options).model_dump(mode="json"),
        }
