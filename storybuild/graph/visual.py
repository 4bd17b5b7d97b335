"""The picture stages: character portraits, scene images, the thumbnail and animated clips.

A scene's picture is drawn from prompts/<scene>.json (the ``scene_prompt`` stage's answer): its
expanded prompt, and its structured facts (indoor or outdoor, place, props, time, weather) for
backends that draw from them. A clip's length comes from timeline.json, but only its frame count
enters the cache key: editing a line in scene 3 regenerates scene 3's clip, and every other clip
is reused even though the timeline file changed. Each recipe holds only what changes its bytes
without passing through an input file: the prompt, cast and timeline are read as inputs or deps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..backends import backend_class
from ..backends.animate import ClipRequest
from ..backends.image import ImageRequest
from ..backends.llm import ScenePrompt
from ..cast import Cast
from ..story.model import NARRATOR, Scene, Story
from ..timeline import Timeline
from .artifact import Artifact, Request
from .project import Project, StoryEntry
from .reading import style_of as _style

PORTRAIT_SIZE = (512, 768)


def load_scene_prompt(path: str) -> ScenePrompt:
    """Read a prompts/<scene>.json."""
    return ScenePrompt.model_validate_json(Path(path).read_text(encoding="utf-8"))


def character_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """A 2:3 portrait of every character but the narrator, from cast.json's look."""
    layout, style = entry.layout, _style(entry)
    backend_recipe = project.backend_recipe(entry, "image")
    for character in entry.story.characters:
        if character.name == NARRATOR:
            continue
        seed = entry.seed("character", character.name)

        def plan(name: str = character.name, seed: int = seed) -> Request:
            member = Cast.load(layout.cast).member(name)
            return {
                "kind": "portrait", "prompt": member.look, "style": style, "caption": name.replace("_", " "),
                "characters": [{"name": name, "gender": member.gender, "look": member.look, "lora": member.lora}],
                "width": PORTRAIT_SIZE[0], "height": PORTRAIT_SIZE[1], "seed": seed,
            }

        yield Artifact(
            stage="character", item=f"{entry.slug}/{character.name}",
            targets={"portrait.png": layout.portrait(character.name)},
            recipe={"image": backend_recipe, "style": style, "seed": seed, "name": character.name},
            plan=plan, build=_image_build(project, entry, "portrait.png"), runtime=project.runtime,
            deps=[layout.cast], title=f"portrait of {character.name}",
        )


def _image_build(project: Project, entry: StoryEntry, target: str):
    def build(request: Request, out: dict[str, Path]) -> None:
        project.backend(entry, "image").generate(ImageRequest.model_validate(request), out[target])

    return build


def _uses_portraits(entry: StoryEntry) -> bool:
    return bool(getattr(backend_class("image", entry.settings.image.backend), "uses_portraits", False))


def _scene_plan(entry: StoryEntry, scene: Scene, seed: int, caption: str, size: tuple[int, int]):
    """The image request for ``scene``, completed from cast.json when the task runs."""
    layout, style, uses_portraits = entry.layout, _style(entry), _uses_portraits(entry)

    def plan() -> Request:
        cast = Cast.load(layout.cast)
        refs = []
        for name in scene.speakers:
            member = cast.member(name)
            refs.append(
                {"name": name, "gender": member.gender, "look": member.look, "lora": member.lora,
                 "portrait": layout.portrait(name) if uses_portraits else None}
            )
        read = load_scene_prompt(layout.scene_prompt(scene.id))
        facts = read.model_dump(mode="json", exclude={"prompt", "camera"})
        return {
            "kind": "scene", "prompt": read.prompt, "style": style, "caption": caption, "scene": facts,
            "characters": refs, "width": size[0], "height": size[1], "seed": seed,
        }

    return plan


def _scene_recipe(project: Project, entry: StoryEntry, scene: Scene, seed: int, size: tuple[int, int]) -> dict:
    # The description reaches the picture through prompts/<scene>.json, an input: not named here.
    return {"image": project.backend_recipe(entry, "image"), "style": _style(entry),
            "speakers": scene.speakers, "size": list(size), "seed": seed}


def scene_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """Each scene's still, from its description and the characters speaking in it."""
    layout, size = entry.layout, entry.settings.video.size
    uses_portraits = _uses_portraits(entry)
    for scene in entry.story.scenes:
        seed = entry.seed("scene", scene.id)
        yield Artifact(
            stage="scene", item=f"{entry.slug}/{scene.id}", targets={"scene.png": layout.scene_png(scene.id)},
            recipe={**_scene_recipe(project, entry, scene, seed, size), "caption": scene.title},
            plan=_scene_plan(entry, scene, seed, scene.title, size),
            build=_image_build(project, entry, "scene.png"), runtime=project.runtime,
            inputs=[layout.scene_prompt(scene.id),
                    *([layout.portrait(name) for name in scene.speakers] if uses_portraits else [])],
            deps=[layout.cast], title=f"scene {scene.id}",
        )


def key_scene(story: Story) -> Scene:
    """The scene the thumbnail shows: the one with the most spoken lines, the earliest on a tie."""
    return max(story.scenes, key=lambda scene: (len(scene.lines), -story.scenes.index(scene)))


OWN_THUMBNAILS = ("thumbnail.png", "thumbnail.jpg", "thumbnail.jpeg", "thumbnail.webp")


def own_thumbnail(project: Project, entry: StoryEntry) -> str | None:
    """The root-relative path of a thumbnail the story folder provides, or None."""
    for name in OWN_THUMBNAILS:
        path = f"{entry.layout.source_dir}/{name}"
        if project.path(path).is_file():
            return path
    return None


def thumbnail_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """thumbnail.png: the title over the key scene, drawn again without its caption; or the story's own."""
    layout, title = entry.layout, entry.story.title
    scene, size = key_scene(entry.story), (1280, 720)
    own = own_thumbnail(project, entry)
    if own is not None:
        # A build file edited by hand is made again (targets are checked by content): a picture
        # of your own goes in the story folder, and is fitted to the thumbnail's size here.
        def fit(request: Request, out: dict[str, Path]) -> None:
            from PIL import Image, ImageOps

            with Image.open(project.path(own)) as picture:
                fitted = ImageOps.fit(picture.convert("RGB"), size, Image.Resampling.LANCZOS)
            fitted.save(out["thumbnail.png"], format="PNG")

        yield Artifact(
            stage="thumbnail", item=entry.slug, targets={"thumbnail.png": layout.thumbnail},
            recipe={"own": True, "size": list(size)}, build=fit, runtime=project.runtime, inputs=[own],
            title=f"thumbnail of {title} (from {own})", tools=("pillow",),
        )
        return
    seed = entry.seed("scene", scene.id)

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..media.thumbnail import render_thumbnail
        from ..store.atomic import temp_path

        background = temp_path(out["thumbnail.png"]).with_suffix(".png")
        try:
            project.backend(entry, "image").generate(ImageRequest.model_validate(request), background)
            render_thumbnail(background, title, out["thumbnail.png"], *size)
        finally:
            background.unlink(missing_ok=True)

    yield Artifact(
        stage="thumbnail", item=entry.slug, targets={"thumbnail.png": layout.thumbnail},
        recipe={**_scene_recipe(project, entry, scene, seed, size), "title": title, "renderer": 1},
        plan=_scene_plan(entry, scene, seed, "", size), build=build, runtime=project.runtime,
        inputs=[layout.scene_prompt(scene.id),
                *([layout.portrait(name) for name in scene.speakers] if _uses_portraits(entry) else [])],
        deps=[layout.cast], title=f"thumbnail of {title}",
    )


def animate_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """Each scene's clip, exactly as many frames as the scene lasts in the timeline."""
    layout, video = entry.layout, entry.settings.video
    width, height = video.size
    backend_recipe = project.backend_recipe(entry, "animate")
    # A keyframe where the fade into a clip ends lets the video stage copy the rest of the clip;
    # the fade's length in frames (not the settings behind it) is what changes the clip.
    fade = round(video.crossfade * video.fps) if video.transition == "crossfade" else 0
    for scene in entry.story.scenes:
        seed = entry.seed("animate", scene.id)
        image = layout.scene_png(scene.id)

        def plan(scene: Scene = scene, image: str = image, seed: int = seed) -> Request:
            _, frames = Timeline.load(layout.timeline).frame_span(scene.id, video.fps)
            read = load_scene_prompt(layout.scene_prompt(scene.id))
            # "static" leaves the move to the animator; the scene id keeps the embedded one's
            # choice different from scene to scene, as it was before moves were named.
            motion = read.camera if read.camera != "static" else scene.id
            return {
                "image": image, "frames": max(frames, 1), "fps": video.fps, "width": width, "height": height,
                "seed": seed, "motion": motion, "prompt": read.prompt,
                "keyframes": [fade] if 0 < fade < frames else [],
            }

        def build(request: Request, out: dict[str, Path]) -> None:
            project.backend(entry, "animate").animate(ClipRequest.model_validate(request), out["clip.mp4"])

        yield Artifact(
            stage="animate", item=f"{entry.slug}/{scene.id}", targets={"clip.mp4": layout.clip(scene.id)},
            recipe={"animate": backend_recipe, "fps": video.fps, "size": [width, height], "seed": seed,
                    "fade_frames": fade},
            plan=plan, build=build, runtime=project.runtime, inputs=[image],
            deps=[layout.timeline, layout.scene_prompt(scene.id)], title=f"clip of {scene.id}",
        )
