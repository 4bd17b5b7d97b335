"""Pictures from ComfyUI: Flux portraits, and scenes with the characters' portraits as references.

A scene's speakers are passed as one reference picture, their portraits side by side (Flux
Kontext takes one image; stitching keeps every face in view), so the characters look the same in
every scene. A scene without portraits drops the reference nodes (see ``workflow.py``). The
thumbnail's background is a scene request, so it uses the scene workflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from ...store.atomic import temp_path
from ..comfyui import ComfyUIBackend, ComfyUIOptions
from .interface import ImageBackend, ImageRequest

__all__ = ["ComfyUIImage", "ComfyUIImageOptions"]


class ComfyUIImageOptions(ComfyUIOptions):
    """Which templates make portraits and scenes (``workflow`` sets both), and the LoRA strength."""

    portrait_workflow: str | None = None
    scene_workflow: str | None = None
    lora_strength: float = Field(0.8, ge=-4, le=4)
    negative: str = "text, letters, watermark, signature, blurry, deformed hands, extra limbs"


class ComfyUIImage(ComfyUIBackend, ImageBackend):
    """Portraits and scenes made by a ComfyUI workflow; characters kept consistent through portraits."""

    name = "comfyui"
    version = "1"
    capability = "image"
    Options = ComfyUIImageOptions
    uses_portraits: ClassVar[bool] = True

    @classmethod
    def workflow_specs(cls, options: Any) -> dict[str, str]:
        """Portraits and scenes, each from its own option, else ``workflow``, else the shipped Flux ones."""
        return {
            "portrait": options.portrait_workflow or options.workflow or "workflows/flux_portrait.json",
            "scene": options.scene_workflow or options.workflow or "workflows/flux_kontext_scene.json",
        }

    def fields(self, role: str) -> tuple[str, ...]:
        """What a picture request carries."""
        base = ("prompt", "negative", "seed", "width", "height", "steps", "lora", "lora_strength")
        return base + (("image",) if role == "scene" else ())

    def generate(self, request: ImageRequest, out: Path) -> None:
        """Write a PNG of exactly the requested size, made by ComfyUI and checked not to be blank."""
        from ...media.checks import check_image
        from ...media.conform import conform_image, stitch_side_by_side

        out = Path(out)
        role = "portrait" if request.kind == "portrait" else "scene"
        workflow = self.workflow(role)
        lora = next((c.lora for c in request.characters if c.lora), None)
        values: dict[str, Any] = {
            "prompt": _prompt(request), "negative": self.options.negative or None, "seed": request.seed,
            "lora": lora, "lora_strength": self.options.lora_strength if lora else None,
            **self.preset(workflow, request.width, request.height),
        }
        portraits = [Path(c.portrait) for c in request.characters if c.portrait and Path(c.portrait).is_file()]
        uploads: dict[str, Path] = {}
        reference = temp_path(out.with_suffix(".png"))
        try:
            if role == "scene" and portraits and workflow.has("image"):
                stitch_side_by_side(portraits, reference)
                uploads["image"] = reference
            self.produce(
                workflow, values, uploads, "image", out,
                conform=lambda src, dst: conform_image(src, dst, request.width, request.height),
                check=check_image,
            )
        finally:
            reference.unlink(missing_ok=True)


def _prompt(request: ImageRequest) -> str:
    """The text prompt: what to show, who is in it and how they look, in the story's style."""
    parts = []
    if request.kind == "portrait":
        parts.append(f"Character portrait, upper body, facing the viewer, plain background: {request.prompt}")
    else:
        parts.append(request.prompt)
        people = [f"{c.name.replace('_', ' ')}: {c.look}" if c.look else c.name for c in request.characters]
        if people:
            parts.append("Characters (as in the reference picture): " + "; ".join(people))
    if request.style:
        parts.append(f"Style: {request.style}")
    return ". ".join(part.strip().rstrip(".") for part in parts if part.strip()) + "."
