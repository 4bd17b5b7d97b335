"""Vertical Shorts: a scene (or a run of its whole lines) as a 1080x1920 clip of at most 60 s.

The cut falls between lines, never inside one: it starts at the scene's start (a pause before
its first line) and ends at the scene's end, or, for a scene too long, after the last whole line
that fits, before the next one starts. The picture is reframed, not letterboxed: the scene's
picture covers the tall frame and a 1080-wide window pans across it. Captions and the story's
title are drawn with Pillow (``fonts.font_for``: any script, no libass needed) as full-frame
transparent layers that FFmpeg overlays while each line is spoken. The sound is the mixed
soundtrack (final.wav) cut at the same times.
"""

from __future__ import annotations

import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..errors import MediaError
from ..media.encoding import h264_args, mp4_args
from ..media.ffmpeg import run_ffmpeg, work_timeout
from ..timeline import TimedLine, Timeline

__all__ = ["Cut", "WIDTH", "HEIGHT", "choose_cut", "cut_short"]

WIDTH, HEIGHT, FPS = 1080, 1920, 30
_TAIL = 0.5  # seconds of pause kept after the last line when a long scene is cut short


@dataclass
class Cut:
    """Where a Short starts and ends in the story, and the lines it holds."""

    start: float
    end: float
    lines: list[TimedLine]

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.end - self.start


def choose_cut(timeline: Timeline, scene_id: str, seconds: float) -> Cut:
    """The longest run of ``scene_id``'s whole lines, from its start, that lasts at most ``seconds``."""
    scene = timeline.scene(scene_id)
    lines = [line for line in timeline.lines if line.scene == scene_id]
    if not lines:
        raise MediaError(f"scene {scene_id} has no spoken line to make a Short of")
    if scene.duration <= seconds:
        return Cut(scene.start, scene.end, lines)
    kept: list[TimedLine] = []
    end = scene.start
    for i, line in enumerate(lines):
        following = lines[i + 1].start if i + 1 < len(lines) else scene.end
        closing = min(line.end + _TAIL, following)
        if closing - scene.start > seconds:
            break
        kept, end = lines[: i + 1], closing
    if not kept:
        # The pause before the first line leaves no room: start at the line, in the pause before it.
        line = lines[0]
        if line.end - line.start > seconds:
            raise MediaError(f"scene {scene_id}'s first line lasts {line.end - line.start:.1f} s, longer than a "
                             f"Short's {seconds:.0f} s: it cannot be cut without cutting words")
        following = lines[1].start if len(lines) > 1 else scene.end
        end = min(line.end + _TAIL, following)
        return Cut(max(scene.start, end - seconds), end, [line])
    return Cut(scene.start, end, kept)


def _layer(size: tuple[int, int]):
    from PIL import Image

    return Image.new("RGBA", size, (0, 0, 0, 0))


def _draw_block(image, text: str, size: int, centre_y: int, bold: bool = False) -> None:
    """Wrapped centred text on a dark translucent box around ``centre_y``."""
    from PIL import ImageDraw

    from ..fonts import font_for

    face = font_for(text, size, bold)
    draw = ImageDraw.Draw(image)
    width = max(8, int(WIDTH * 0.84 / (size * 0.5)))
    rows = textwrap.wrap(text, width) or [text]
    while rows and max(draw.textlength(row, font=face) for row in rows) > WIDTH * 0.86 and width > 8:
        width -= 2
        rows = textwrap.wrap(text, width)
    step = int(size * 1.25)
    top = centre_y - step * len(rows) // 2
    widest = max(draw.textlength(row, font=face) for row in rows)
    pad = size // 2
    draw.rounded_rectangle(
        (WIDTH / 2 - widest / 2 - pad, top - pad, WIDTH / 2 + widest / 2 + pad, top + step * len(rows) + pad // 2),
        radius=pad, fill=(0, 0, 0, 150),
    )
    for i, row in enumerate(rows):
        draw.text((WIDTH / 2, top + i * step), row, font=face, fill=(255, 255, 255, 255), anchor="mt",
                  stroke_width=max(1, size // 16), stroke_fill=(0, 0, 0, 255))


def _cover(picture: Path, out: Path) -> None:
    """The picture scaled to cover the tall frame (its width panned over later), once, not per frame."""
    from PIL import Image

    with Image.open(picture) as image:
        image = image.convert("RGB")
        scale = max(WIDTH / image.width, HEIGHT / image.height)
        size = (max(WIDTH, round(image.width * scale)), max(HEIGHT, round(image.height * scale)))
        image.resize(size, Image.LANCZOS).save(out, compress_level=1)


def _overlay(layer, out: Path) -> tuple[int, int]:
    """Save the drawn part of a full-frame layer alone; where it goes. Overlaying small images is cheap."""
    box = layer.getbbox() or (0, 0, 2, 2)
    layer.crop(box).save(out, compress_level=1)
    return box[0], box[1]


def cut_short(
    *, scene_id: str, title: str, timeline: Path, picture: Path, audio: Path, seconds: float, out: Path,
) -> Cut:
    """Write the Short of ``scene_id`` to ``out`` (H.264 + AAC mp4); the cut it made."""
    cut = choose_cut(Timeline.load(timeline), scene_id, seconds)
    duration = round(cut.duration, 3)
    frames = max(1, round(duration * FPS))
    with tempfile.TemporaryDirectory(prefix="short-", dir=Path(out).parent) as folder:
        work = Path(folder)
        _cover(picture, work / "cover.png")
        title_layer = _layer((WIDTH, HEIGHT))
        _draw_block(title_layer, title, 76, 220, bold=True)
        layers = [(_overlay(title_layer, work / "title.png"), work / "title.png", 0.0, duration)]
        for i, line in enumerate(cut.lines):
            caption = _layer((WIDTH, HEIGHT))
            _draw_block(caption, line.text, 64, int(HEIGHT * 0.76))
            path = work / f"caption{i}.png"
            layers.append((_overlay(caption, path), path, max(0.0, line.start - cut.start),
                           min(duration, line.end - cut.start)))
        args: list[str] = ["-y", "-i", str(work / "cover.png"),
                           "-ss", f"{cut.start:.6f}", "-t", f"{duration:.6f}", "-i", str(audio)]
        for _, path, _, _ in layers:
            args += ["-i", str(path)]
        # One decoded picture looped in memory and panned by frame number; the layers are single
        # frames that overlay repeats (its eof_action), so nothing is decoded twice.
        graph = [
            f"[0:v]loop=loop={frames - 1}:size=1:start=0,setpts=N/{FPS}/TB,"
            f"crop={WIDTH}:{HEIGHT}:x='(in_w-{WIDTH})*n/{frames}':y='(in_h-{HEIGHT})/2',setsar=1[v0]",
        ]
        for i, ((x, y), _, first, last) in enumerate(layers):
            graph.append(f"[v{i}][{i + 2}:v]overlay={x}:{y}:enable='between(t,{first:.3f},{last:.3f})'[v{i + 1}]")
        args += ["-filter_complex", ";".join(graph), "-map", f"[v{len(layers)}]", "-map", "1:a",
                 "-frames:v", str(frames), "-t", f"{duration:.6f}", "-r", str(FPS),
                 *h264_args(23, "veryfast"),  # fixed x264 threading: the same bytes on any machine
                 "-c:a", "aac", "-b:a", "160k", *mp4_args(FPS), "-movflags", "+faststart", "-f", "mp4", str(out)]
        run_ffmpeg(args, f"the Short of scene {scene_id}",
                   timeout=work_timeout(frames=frames, width=WIDTH, height=HEIGHT))
    return cut
