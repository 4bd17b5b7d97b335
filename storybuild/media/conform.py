"""Make whatever a model returned fit the request exactly, before it becomes a target.

Models round sizes to multiples of 16 or 32, make 8n+1 frames, run at their own frame rate and
return stereo 44.1 kHz audio; later stages assume the exact size, frame count and a wav. So every
remote output passes through here: pictures are scaled to cover and centre-cropped (never
letterboxed), clips retimed, trimmed or padded with their last frame to exactly the frame count at
the project fps, sounds decoded to a mono or stereo wav (any rate: the narration stage resamples).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..errors import MediaError
from ..store.atomic import atomic_output
from .ffmpeg import run_ffmpeg

__all__ = ["conform_audio", "conform_clip", "conform_image", "decoded_frames", "stitch_side_by_side"]

# Formats Pillow decodes frame by frame where ffmpeg may not (animated WebP).
_PILLOW_ANIMATED = {".webp", ".gif", ".apng"}

# A clip with fewer than this share of the frames asked for was made at another rate: retime it.
# Above it, the model merely rounded its length down, and the last frame is held instead.
_RETIME_BELOW = 0.9


def conform_image(src: Path, out: Path, width: int, height: int) -> None:
    """Write ``src`` to ``out`` as an RGB PNG of exactly ``width`` x ``height``: cover, centre-crop."""
    from PIL import Image, ImageOps

    try:
        with Image.open(src) as picture:
            picture.load()
            rgb = picture.convert("RGB")
    except (OSError, ValueError) as exc:
        raise MediaError(f"cannot read the picture {src}: {exc}") from exc
    if rgb.size != (width, height):
        rgb = ImageOps.fit(rgb, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    with atomic_output(out) as part:
        rgb.save(part, format="PNG", compress_level=3)


def stitch_side_by_side(images: list[Path], out: Path, height: int = 768) -> None:
    """Several pictures side by side at one height, as one reference image (Flux Kontext takes one)."""
    from PIL import Image

    scaled = []
    for path in images:
        try:
            with Image.open(path) as picture:
                rgb = picture.convert("RGB")
        except OSError as exc:
            raise MediaError(f"cannot read the portrait {path}: {exc}") from exc
        scaled.append(rgb.resize((max(1, round(rgb.width * height / rgb.height)), height), Image.Resampling.LANCZOS))
    sheet = Image.new("RGB", (sum(p.width for p in scaled), height), "white")
    left = 0
    for picture in scaled:
        sheet.paste(picture, (left, 0))
        left += picture.width
    with atomic_output(out) as part:
        sheet.save(part, format="PNG", compress_level=3)


def decoded_frames(path: Path) -> int:
    """The number of frames a video or animated picture decodes to (packets can lie for these)."""
    if path.suffix.lower() in _PILLOW_ANIMATED:
        from PIL import Image

        with Image.open(path) as picture:
            return int(getattr(picture, "n_frames", 1))
    import av

    try:
        with av.open(str(path)) as container:
            return sum(1 for _ in container.decode(video=0))
    except (OSError, av.error.FFmpegError, IndexError) as exc:
        raise MediaError(f"cannot decode the video {path}: {exc}") from exc


def _as_sequence(src: Path, folder: Path) -> Path:
    """Pillow-only animations become a numbered PNG sequence ffmpeg can read."""
    from PIL import Image, ImageSequence

    with Image.open(src) as picture:
        for index, frame in enumerate(ImageSequence.Iterator(picture)):
            frame.convert("RGB").save(folder / f"{index:05d}.png", compress_level=1)
    return folder / "%05d.png"


def conform_clip(
    src: Path, out: Path, frames: int, fps: int, width: int, height: int, *,
    drop_first: bool = False, keyframes: list[int] | None = None, crf: int = 20, preset: str = "veryfast",
) -> None:
    """Write ``src`` to ``out`` as H.264 with exactly ``frames`` frames at ``fps``, ``width`` x ``height``.

    ``drop_first`` skips the source's first frame: a segment that starts from the previous one's
    last frame would otherwise show it twice at the seam. A source with too few frames for its
    length at ``fps`` (a draft made at half the frames, a model running at 16 fps) is retimed to
    span the clip; one only slightly short holds its last frame; a long one is trimmed.
    """
    src = Path(src)
    made = decoded_frames(src) - (1 if drop_first else 0)
    if made < 1:
        raise MediaError(f"{src} has no frames to make a clip of")
    stretch = frames / made if made < frames * _RETIME_BELOW else 1.0
    steps = [
        *(["select='gte(n\\,1)'"] if drop_first else []),
        f"setpts=N*{stretch:.9f}/({fps}*TB)",
        f"fps={fps}",
        f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=lanczos",
        f"crop={width}:{height}",
        "setsar=1",
        f"tpad=stop_mode=clone:stop={frames}",
        "format=yuv420p",
    ]
    marks = sorted({0, *(n for n in (keyframes or []) if 0 < n < frames)})
    keys = ["-force_key_frames", "expr:" + "+".join(f"eq(n,{n})" for n in marks)] if len(marks) > 1 else []
    with tempfile.TemporaryDirectory(prefix="storybuild-conform-") as tmp:
        source = _as_sequence(src, Path(tmp)) if src.suffix.lower() in _PILLOW_ANIMATED else src
        with atomic_output(out) as part:
            run_ffmpeg(
                ["-i", source, "-map", "0:v:0", "-vf", ",".join(steps), "-frames:v", str(frames), "-r", str(fps),
                 "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p", *keys,
                 "-an", "-sn", "-dn", part],
                f"conforming the clip {src.name} to {frames} frames at {fps} fps, {width}x{height}",
            )  # fmt: skip


def conform_audio(src: Path, out: Path, *, mono: bool = True, duration: float | None = None) -> None:
    """Write ``src`` (flac, mp3, wav, any rate) to ``out`` as a 16-bit wav, mono unless told otherwise.

    With ``duration`` the sound is cut or padded with silence to exactly that many seconds, with
    a 20 ms fade where it is cut so the end does not click.
    """
    shaping = []
    if duration is not None:
        fade = min(0.02, duration / 4)
        shaping = ["-af", f"apad=whole_dur={duration:.6f},atrim=duration={duration:.6f},"
                          f"afade=t=out:st={duration - fade:.6f}:d={fade:.6f}"]
    with atomic_output(out) as part:
        run_ffmpeg(
            ["-i", src, "-map", "0:a:0", *(["-ac", "1"] if mono else []), *shaping,
             "-c:a", "pcm_s16le", "-f", "wav", part],
            f"conforming the sound {Path(src).name}",
        )  # fmt: skip
