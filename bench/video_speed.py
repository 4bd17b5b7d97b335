"""How fast the video stages run here: Ken Burns real-time factors, joins and the final mux.

Prints ratios (video seconds made per wall-clock second; above 1 is faster than real time) and
the CPU seconds each video second cost, which stays comparable when other work shares the
machine. Asserts nothing. Run: .venv/bin/python bench/video_speed.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw, ImageFilter

from storybuild.backends.animate import ClipRequest
from storybuild.backends.animate.kenburns import KenBurnsAnimate
from storybuild.media.encoding import X264_THREADS
from storybuild.media.ffmpeg import ffmpeg_exe, ffmpeg_identity
from storybuild.media.video import JoinResult, join_clips, mux_final, verify_final

OUT = Path(__file__).resolve().parent / "out"
FPS = 24


def illustration(path: Path, size: tuple[int, int]) -> Path:
    """A picture like the storybook images: a sky gradient, outlined shapes, soft edges."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        shade = y / height
        sky = (40 + int(120 * shade), 90 + int(80 * shade), 200 - int(90 * shade))
        draw.line([(0, y), (width, y)], fill=sky)
    rng = np.random.default_rng(2)
    for _ in range(40):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(10, height // 6))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=(0, 0, 0), width=3)
    image.filter(ImageFilter.GaussianBlur(1)).save(path)
    return path


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and child-process CPU seconds spent by ``action``."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before, start = usage.ru_utime + usage.ru_stime, time.perf_counter()
    action()
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, usage.ru_utime + usage.ru_stime - cpu_before


def report(label: str, video_seconds: float, wall: float, cpu: float) -> None:
    speed, cost = video_seconds / wall, cpu / video_seconds
    print(f"{label:<52} {speed:6.2f}x real time  {wall:6.2f} s wall  {cost:5.3f} cpu-s per video-s")


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the Ken Burns clip")
    parser.add_argument("--scenes", type=int, default=4, help="scenes in the joined timeline")
    parser.add_argument("--scene-seconds", type=float, default=20.0, help="length of each scene")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"ffmpeg: {ffmpeg_exe()} ({ffmpeg_identity()}, x264 threads {X264_THREADS})")
    print(f"cores: {os.cpu_count()}  load: {os.getloadavg()[0]:.1f}  (STORYBUILD_FFMPEG=system picks the one on PATH)")
    frames = round(args.seconds * FPS)
    still = illustration(OUT / "still.png", (1920, 1080))
    backend = KenBurnsAnimate()
    for width, height in ((1280, 720), (1920, 1080)):
        request = ClipRequest(image=still, frames=frames, fps=FPS, width=width, height=height, motion="bench")
        wall, cpu = timed(lambda: backend.animate(request, OUT / f"kenburns_{height}p.mp4"))
        label = f"kenburns {width}x{height}@{FPS} {args.seconds:g}s ({backend.options.preset})"
        report(label, args.seconds, wall, cpu)

    # A story-shaped timeline at 720p, joined with a cut (stream copy) and with crossfades: clips
    # the animate stage makes (a keyframe where the fade ends) take the fast path, encoding only
    # the fading frames; clips without that keyframe are faded in whole.
    scenes, scene_seconds, fade = args.scenes, args.scene_seconds, 0.6
    scene_frames, fade_frames = round(scene_seconds * FPS), round(fade * FPS)
    keyed, plain = [], []
    for i in range(scenes):
        for clips, keyframes in ((keyed, [fade_frames]), (plain, [])):
            request = ClipRequest(
                image=still, frames=scene_frames, fps=FPS, width=1280, height=720, motion=f"scene-{i}",
                keyframes=keyframes,
            )  # fmt: skip
            clips.append(OUT / f"scene{i}{'_keyed' if keyframes else ''}.mp4")
            backend.animate(request, clips[-1])
    total = scenes * scene_frames / FPS
    shape = f"{scenes} x {scene_seconds:g}s"
    wall, cpu = timed(lambda: join_clips(keyed, OUT / "cut.mp4", FPS, "cut"))
    report(f"join {shape}, cut (stream copy)", total, wall, cpu)
    for label, clips, name in (("fast path", keyed, "fast"), ("whole clips re-encoded", plain, "full")):
        made: list[JoinResult] = []
        out = OUT / f"crossfade_{name}.mp4"
        wall, cpu = timed(lambda: made.append(join_clips(clips, out, FPS, "crossfade", fade)))  # noqa: B023
        report(f"join {shape}, crossfade, {label}", total, wall, cpu)
        print(f"    {made[0]}")

    wav = OUT / "mix.wav"
    noise = np.random.default_rng(0).standard_normal(round(total * 44100)) * 0.05
    sf.write(wav, noise.astype(np.float32), 44100)
    srt = OUT / "subs.srt"
    cues = [(i * scene_seconds, i * scene_seconds + scene_seconds * 0.9) for i in range(scenes)]
    blocks = [f"{i + 1}\n{_srt_time(a)} --> {_srt_time(b)}\nLine {i + 1}\n" for i, (a, b) in enumerate(cues)]
    srt.write_text("\n".join(blocks), encoding="utf-8")
    chapters = [(i * scene_seconds, (i + 1) * scene_seconds, f"Scene {i + 1}") for i in range(scenes)]
    final = OUT / "final.mp4"
    cut = OUT / "cut.mp4"
    wall, cpu = timed(lambda: mux_final(cut, wav, final, subtitles=srt, chapters=chapters, title="Bench"))
    report(f"mux final, video copied {total:g}s", total, wall, cpu)
    start = time.perf_counter()
    spec = dict(width=1280, height=720, fps=FPS, duration=total, chapters=scenes, subtitles=True)
    verify_final(final, spec)
    print(f"{'verify final':<52} {time.perf_counter() - start:6.2f} s wall")
    burnt = OUT / "final_burnt.mp4"
    wall, cpu = timed(
        lambda: mux_final(cut, wav, burnt, subtitles=srt, chapters=chapters, title="B", burn_subtitles=True)
    )
    report(f"mux final, subtitles burnt in {total:g}s", total, wall, cpu)


if __name__ == "__main__":
    main()
