"""Backends, one package per capability, embedded and remote side by side behind one interface."""

from .base import Backend
from .registry import CAPABILITIES, backend_class, names

__all__ = ["Backend", "CAPABILITIES", "backend_class", "names"]
