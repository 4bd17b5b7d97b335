"""Joining scene clips into one picture whose frame count is exactly the sum of theirs.

Scene lengths are planned from the narration, so a join keeps time exactly: a crossfade happens
inside the clips' frames rather than adding to them. Re-encoding is the slow part (the whole
picture of an 85 s story took ~35 s on 2 cores), so the frames that do not change are copied:

- "cut" copies every clip's stream when they were encoded alike.
- "crossfade" changes only the first k frames of each clip after the first (the fade in over the
  previous clip's held last frame). When the clip has a keyframe at frame k, and the k faded
  frames, encoded with the clips' own settings, come out with the clip's own parameter sets, only
  those k frames are encoded and the rest of the clip is copied from its keyframe on. Otherwise
  the whole clip is re-encoded; the animate stage asks for that keyframe so this is the exception.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av

from ..errors import MediaError
from ..store.atomic import atomic_output
from .encoding import h264_args, mp4_args
from .ffmpeg import run_ffmpeg, work_timeout
from .probe import MediaInfo, frame_count, parameter_sets, probe

__all__ = ["JoinResult", "Transition", "cuts_cleanly_at", "join_clips"]

Transition = Literal["cut", "crossfade"]


@dataclass(frozen=True)
class JoinResult:
    """What a join did: how many frames it copied from the clips and how many it encoded anew."""

    frames: int
    copied: int
    encoded: int


# One piece of a concat listing: a file, the frames to skip at its start, and the frames to take.
Entry = tuple[Path, int, int]


def _concat_list(entries: Sequence[Entry], listing: Path, fps: int) -> None:
    """Write an ffconcat listing that states each piece's start and length exactly.

    Without ``duration``, the concat demuxer starts each file where the previous one's container
    duration ends; FFmpeg 5.1 reads that in milliseconds (2.084 s for 50 frames at 24 fps), so
    every boundary slipped a few ticks and the track stopped being exactly 24 fps. Durations are
    whole microseconds taken as differences of the rounded cumulative ends, so no rounding error
    accumulates however many pieces there are.
    """
    # The concat demuxer reads single-quoted paths; a quote inside one is closed, escaped, reopened.
    lines = ["ffconcat version 1.0"]
    done = 0
    for path, skip, frames in entries:
        lines.append("file '" + str(Path(path).resolve()).replace("'", "'\\''") + "'")
        if skip:
            # Rounded up so the demuxer's seek cannot land a frame early.
            lines.append(f"inpoint {math.ceil(skip * 1_000_000 / fps)}us")
        start, done = done, done + frames
        lines.append(f"duration {round(done * 1_000_000 / fps) - round(start * 1_000_000 / fps)}us")
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")


def join_clips(
    clips: Sequence[Path],
    out: Path,
    fps: int,
    transition: Transition = "cut",
    fade: float = 0.5,
    *,
    crf: int = 20,
    preset: str = "veryfast",
) -> JoinResult:
    """Join clips into one video whose frame count is exactly the sum of theirs.

    "cut" copies the streams when the clips share codec, pixel format, frame rate and parameter
    sets (no quality loss) and re-encodes otherwise. "crossfade" fades each clip in over the held
    last frame of the one before, starting exactly at the boundary, so each scene still begins
    when its narration does. ``crf`` and ``preset`` should be the clips' own, so that what is
    re-encoded can be joined by copy to what is not.
    """
    clips = [Path(clip) for clip in clips]
    out = Path(out)
    if not clips:
        raise MediaError(f"nothing to join into {out}")
    if transition not in ("cut", "crossfade"):
        raise MediaError(f"unknown transition {transition!r}; use 'cut' or 'crossfade'")
    infos, frames = [], []
    for clip in clips:
        info = probe(clip)
        if info.video is None:
            raise MediaError(f"{clip} has no video stream to join")
        infos.append(info)
        frames.append(frame_count(clip))
    sizes = {(info.video.width, info.video.height) for info in infos}
    if len(sizes) > 1:
        raise MediaError(f"cannot join clips of different sizes into {out.name}: {sorted(sizes)}")
    total = sum(frames)
    width, height = sizes.pop()
    timeout = work_timeout(total, width, height)
    fade_frames = min(round(fade * fps), *frames)
    if len(clips) == 1:
        with atomic_output(out) as part:
            shutil.copyfile(clips[0], part)
        result = JoinResult(total, total, 0)
    elif transition == "crossfade" and fade_frames >= 1:
        encoder = _Encoder(fps, crf, preset, timeout)
        result = _join_crossfade(clips, infos, frames, out, fade_frames, encoder)
    elif _copyable(clips, infos, fps):
        _join_copy([(clip, 0, n) for clip, n in zip(clips, frames)], out, fps, timeout)
        result = JoinResult(total, total, 0)
    else:
        _join_reencode(clips, out, total, _Encoder(fps, crf, preset, timeout))
        result = JoinResult(total, 0, total)
    made = frame_count(out)
    if made != total:
        out.unlink(missing_ok=True)
        raise MediaError(f"joining {len(clips)} clips into {out.name} gave {made} frames, not {total}")
    return result


def _copyable(clips: Sequence[Path], infos: Sequence[MediaInfo], fps: int) -> bool:
    formats = {(info.video.codec, info.video.pix_fmt, info.video.fps) for info in infos}
    return formats == {("h264", "yuv420p", fps)} and len({parameter_sets(clip) for clip in clips}) == 1


def _join_copy(entries: Sequence[Entry], out: Path, fps: int, timeout: float) -> None:
    listing = out.with_name(f".{out.stem}.concat.txt")
    try:
        _concat_list(entries, listing, fps)
        with atomic_output(out) as part:
            run_ffmpeg(
                ["-f", "concat", "-safe", "0", "-i", listing, "-map", "0:v", "-c", "copy", *mp4_args(fps), part],
                f"joining {len(entries)} pieces into {out.name}", timeout=timeout,
            )
    finally:
        listing.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Encoder:
    """How a join encodes what it cannot copy: the clips' own x264 settings, and its time limit."""

    fps: int
    crf: int
    preset: str
    timeout: float

    def args(self) -> list[str]:
        return [*h264_args(self.crf, self.preset), *mp4_args(self.fps)]


def _normalise(fps: int) -> str:
    # Same time base and frame-index timestamps on every input: xfade and concat insist on it.
    return f"settb=1/{fps},setpts=N,format=yuv420p,setsar=1"


def _join_reencode(clips: list[Path], out: Path, total: int, encoder: _Encoder) -> None:
    fps = encoder.fps
    parts = [f"[{i}:v]{_normalise(fps)}[v{i}]" for i in range(len(clips))]
    labels = "".join(f"[v{i}]" for i in range(len(clips)))
    graph = ";".join(parts + [f"{labels}concat=n={len(clips)}:v=1:a=0[out]"])
    inputs = [arg for clip in clips for arg in ("-i", clip)]
    with atomic_output(out) as part:
        run_ffmpeg(
            [*inputs, "-filter_complex", graph, "-map", "[out]", "-frames:v", str(total), *encoder.args(), part],
            f"re-encoding {len(clips)} clips into {out.name}", timeout=encoder.timeout,
        )


def cuts_cleanly_at(clip: Path, frame: int, fps: int) -> bool:
    """Whether ``clip`` can be stream-copied from ``frame`` on, judged from its packets alone.

    That takes a keyframe at ``frame`` that no earlier frame is decoded after and no later frame
    before (a closed GOP); packet order, timestamps and keyframe flags tell, without decoding.
    """
    try:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            base = stream.time_base  # read while open: PyAV's stream dies with its container
            packets = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size]
    except (OSError, IndexError, av.error.FFmpegError):
        return False
    if not packets or base is None or any(pts is None for pts, _ in packets):
        return False
    start = min(pts for pts, _ in packets)
    index = [round((pts - start) * base * fps) for pts, _ in packets]
    if frame not in index:
        return False
    at = index.index(frame)
    return packets[at][1] and max(index[:at], default=-1) < frame and min(index[at:]) == frame


def _fade_in(previous: Path, clip: Path, frames: int, out: Path, fade: int, encoder: _Encoder) -> None:
    """Encode the first ``frames`` frames of ``clip`` fading in over ``previous``'s held last frame.

    One ffmpeg per boundary, not one graph for the whole story: a graph with every scene as an
    input kept every decoder's queue full (600 MB for 24 scenes at 720p) and grew with the story.
    """
    fps = encoder.fps
    # Only the previous clip's tail is decoded (from the keyframe before its last half second);
    # reverse + trim keeps its last frame.
    held = f"[0:v]reverse,trim=end_frame=1,tpad=stop_mode=clone:stop={fade},{_normalise(fps)}[held]"
    graph = (
        f"{held};[1:v]{_normalise(fps)}[clip];"
        f"[held][clip]xfade=transition=fade:duration={fade / fps:.6f}:offset=0[out]"
    )
    run_ffmpeg(
        ["-sseof", "-0.5", "-i", previous, "-i", clip, "-filter_complex", graph, "-map", "[out]",
         "-frames:v", str(frames), *encoder.args(), out],
        f"fading {clip.name} in over {previous.name}", timeout=encoder.timeout,
    )  # fmt: skip


def _join_crossfade(
    clips: list[Path], infos: list[MediaInfo], frames: list[int], out: Path, fade: int, encoder: _Encoder
) -> JoinResult:
    fps = encoder.fps
    parts = [out.with_name(f".{out.stem}.fade{i}.mp4") for i in range(len(clips))]
    # Tails are copied until a faded part's parameter sets differ from its clip's: then this
    # join's encoder settings are not the clips', and every later boundary would differ alike.
    copying = _copyable(clips[:1], infos[:1], fps)
    entries: list[Entry] = []
    encoded = 0
    try:
        for i in range(1, len(clips)):
            previous, clip, part = clips[i - 1], clips[i], parts[i]
            tail = (
                copying and frames[i] > fade and _copyable([clips[0], clip], [infos[0], infos[i]], fps)
                and cuts_cleanly_at(clip, fade, fps)
            )  # fmt: skip
            if tail:
                _fade_in(previous, clip, fade, part, fade, encoder)
                if parameter_sets(part) == parameter_sets(clip):
                    entries += [(part, 0, fade), (clip, fade, frames[i] - fade)]
                    encoded += fade
                    continue
                copying = False
            _fade_in(previous, clip, frames[i], part, fade, encoder)
            entries.append((part, 0, frames[i]))
            encoded += frames[i]
        # The first clip is copied when it matches what follows it, else re-encoded to match.
        first = clips[0]
        if not _copyable([first, parts[1]], [infos[0], probe(parts[1])], fps):
            run_ffmpeg(
                ["-i", first, "-vf", _normalise(fps), "-frames:v", str(frames[0]), *encoder.args(), parts[0]],
                f"re-encoding {first.name} to match the faded clips", timeout=encoder.timeout,
            )
            first = parts[0]
            encoded += frames[0]
        _join_copy([(first, 0, frames[0]), *entries], out, fps, encoder.timeout)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    return JoinResult(sum(frames), sum(frames) - encoded, encoded)
