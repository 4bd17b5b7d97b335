"""The embedded image backend: storybook cards painted from the words of the prompt.

No model, no network, no GPU: the scene's structured facts (``request.scene``: indoor or outdoor,
kind of place, props, time, weather; read from the prompt's words when absent) decide what to draw
(``spec.read_scene``), the style and time pick a palette (``palette.py``); the picture is painted
back to front (sky, scenery, a street or a room furnished as its place, characters as figures),
glows and paper texture are added, and the picture is framed on a paper card with its caption.

    facts + prompt + style ──> SceneSpec, Palette ──> sky ─> scenery | street | room + furnishings
                                                          ─> figures ─> lights ─> card: frame, texture, caption

Everything random comes from a numpy generator seeded with a stable hash of the request, so the
same request always gives byte-identical PNGs, and ``seed`` rearranges the picture without
touching its palette.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import BackendError
from .interface import ImageBackend, ImageRequest

__all__ = ["StorybookImage"]


class StorybookImage(ImageBackend):
    """Offline, CPU-only pictures: a storybook card drawn from the prompt's words."""

    name = "storybook"
    version = "4"

    def generate(self, request: ImageRequest, out: Path) -> None:
        """Write the card for ``request`` to ``out`` as a PNG of exactly the requested size."""
        from .card import render

        image = render(request)
        try:
            # No pnginfo: Pillow then writes no text chunks and no timestamps, so bytes repeat.
            image.save(out, format="PNG", compress_level=3)
        except OSError as exc:
            raise BackendError(f"storybook: cannot write {out}: {exc}") from exc
