"""The film stages: video (the clips joined) and final_mp4 (picture, sound, subtitles, chapters).

final_mp4 probes what it wrote before it lets the file take the target's name: a video with a
missing stream or a duration off by more than a frame fails the task instead of being shipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..story.model import NARRATOR, scene_title
from ..timeline import Timeline
from .artifact import Artifact, Request
from .project import Project, StoryEntry


def video_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """video.mp4: every scene's clip in order, cut or cross-faded at the scene boundaries."""
    layout, video = entry.layout, entry.settings.video
    clips = [layout.clip(scene.id) for scene in entry.story.scenes]
    # Fades are encoded like the clips around them, so the rest of each clip can be copied as is.
    animate_options = project.backend_options(entry, "animate")
    encoder = {"crf": animate_options.get("crf", 20), "preset": animate_options.get("preset", "veryfast")}

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..media.video import join_clips

        join_clips([Path(c) for c in clips], out["video.mp4"], fps=video.fps,
                   transition=video.transition, fade=video.crossfade, **encoder)

    yield Artifact(
        stage="video", item=entry.slug, targets={"video.mp4": layout.video},
        # A cut joins without fades, so the fade's length cannot change it.
        recipe={"fps": video.fps, "transition": video.transition,
                "fade": video.crossfade if video.transition == "crossfade" else None,
                "encoder": encoder, "join": 3},
        build=build, runtime=project.runtime, inputs=clips, title=f"picture of {entry.story.title}",
    )


def final_mp4_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """final.mp4: the picture, the AAC soundtrack, soft subtitles, a chapter per scene, title."""
    story, layout, video = entry.story, entry.layout, entry.settings.video
    width, height = video.size
    metadata = {"language": story.language, "comment": "made with storybuild"}

    def plan() -> Request:
        timeline = Timeline.load(layout.timeline)
        chapters = [[s.start, s.end, scene_title(s.id)] for s in timeline.scenes]
        return {"chapters": chapters, "duration": timeline.duration}

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..media.video import mux_final, verify_final

        target = out["final.mp4"]
        chapters = [tuple(chapter) for chapter in request["chapters"]]
        mux_final(
            Path(layout.video), Path(layout.final_m4a), target, subtitles=Path(layout.srt),
            chapters=chapters, title=story.title, metadata=metadata, burn_subtitles=video.burn_subtitles,
        )
        verify_final(target, {
            "width": width, "height": height, "fps": video.fps, "duration": request["duration"],
            "chapters": len(chapters), "subtitles": not video.burn_subtitles,
        })

    yield Artifact(
        stage="final_mp4", item=entry.slug, targets={"final.mp4": layout.final_mp4},
        # Size and frame rate are only verified here: they come with video.mp4, an input.
        recipe={"title": story.title, "metadata": metadata, "burn": video.burn_subtitles, "mux": 2},
        plan=plan, build=build, runtime=project.runtime,
        inputs=[layout.video, layout.final_m4a, layout.srt], deps=[layout.timeline],
        after=[f"thumbnail:{entry.slug}", f"metadata:{entry.slug}"]
        + [f"character:{entry.slug}/{c.name}" for c in story.characters if c.name != NARRATOR],
        title=f"video of {story.title}",
    )
