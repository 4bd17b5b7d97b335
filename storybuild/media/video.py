"""Muxing the finished mp4 and checking it is what it must be; joining clips lives in join.py.

Scene lengths are planned from the narration, so the final video has exactly as many frames as
the audio's length rounds to, at exactly the project's frame rate; ``verify_final`` holds every
finished file to that, whichever ffmpeg made it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..errors import BackendUnavailable, MediaError, VerificationError
from ..store.atomic import atomic_output
from .chapters import add_chapters
from .encoding import AUDIO_RATE, h264_args, mp4_args
from .ffmpeg import has_libass, run_ffmpeg, work_timeout
from .join import JoinResult, join_clips
from .probe import MediaInfo, frame_count, probe

__all__ = ["FinalSpec", "JoinResult", "join_clips", "moov_before_mdat", "mux_final", "verify_final"]

# MP4 stores ISO 639-2 codes; ffmpeg silently drops a two-letter one, so the common ones are mapped.
_ISO639_2 = {
    "ar": "ara", "cs": "ces", "da": "dan", "de": "deu", "el": "ell", "en": "eng", "es": "spa",
    "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun", "id": "ind", "it": "ita",
    "ja": "jpn", "ko": "kor", "nl": "nld", "no": "nor", "pl": "pol", "pt": "por", "ro": "ron",
    "ru": "rus", "sv": "swe", "th": "tha", "tr": "tur", "uk": "ukr", "vi": "vie", "zh": "zho",
}  # fmt: skip


def _ffmetadata_escape(value: str) -> str:
    for char in ("\\", "=", ";", "#", "\n"):
        value = value.replace(char, "\\" + char)
    return value


def _ffmetadata(tags: Mapping[str, str]) -> str:
    lines = [";FFMETADATA1"]
    lines += [f"{_ffmetadata_escape(key)}={_ffmetadata_escape(value)}" for key, value in tags.items()]
    return "\n".join(lines) + "\n"


def _filter_value(value: str) -> str:
    """``value`` escaped to stand as one option value inside a filter graph (both parsing levels)."""
    for char in ("\\", "'", ":"):
        value = value.replace(char, "\\" + char)
    for char in ("\\", "'", "[", "]", ",", ";"):
        value = value.replace(char, "\\" + char)
    return value


def _burn_filter(srt_name: str) -> str:
    """The ``subtitles`` filter for a plainly named .srt, with the shipped fonts when they exist.

    fontconfig may know no fonts at all (a slim container); libass then draws nothing. The fonts
    pip installs (storybuild.fonts) are handed over with ``fontsdir`` and asked for by family.
    """
    try:
        from ..fonts import fonts_dir

        folder = fonts_dir()
    except (ImportError, BackendUnavailable):
        return f"subtitles={srt_name}"
    return (
        f"subtitles={srt_name}:fontsdir={_filter_value(str(folder))}"
        f":force_style={_filter_value('FontName=Noto Sans')}"
    )


def _whole_rate(fps: Fraction, video: Path) -> int:
    """The picture's frame rate as the whole number every storybuild video runs at."""
    if fps.denominator != 1:
        raise MediaError(f"{video} runs at {fps} fps, not a whole frame rate; rebuild it (doit forget video)")
    return int(fps)


def _language(code: str) -> str:
    code = code.lower()
    return _ISO639_2.get(code, code if len(code) == 3 else "und")


def encode_soundtrack(wav: Path, out: Path, bitrate: str = "192k") -> None:
    """Encode ``wav`` as AAC 48 kHz stereo in an .m4a, ready to be copied into the final mp4.

    Encoding is most of a mux's time (ffmpeg's AAC encoder runs ~12x real time here), so it is
    its own step: it runs beside the animation, and a picture-only change re-muxes in a second.
    """
    wav, out = Path(wav).resolve(), Path(out).resolve()
    sound = probe(wav)
    seconds = (sound.audio.duration if sound.audio else None) or sound.duration or 0.0
    with atomic_output(out) as part:
        run_ffmpeg(
            ["-i", wav, "-map", "0:a:0", "-c:a", "aac", "-b:a", bitrate, "-ar", str(AUDIO_RATE), "-ac", "2",
             *mp4_args(), "-movflags", "+faststart", part],
            f"encoding {wav.name} as AAC", timeout=work_timeout(audio_seconds=seconds),
        )  # fmt: skip


def mux_final(
    video: Path,
    audio: Path,
    out: Path,
    *,
    subtitles: Path | None = None,
    chapters: Sequence[tuple[float, float, str]] = (),
    title: str = "",
    metadata: Mapping[str, str] | None = None,
    burn_subtitles: bool = False,
    audio_bitrate: str = "192k",
    crf: int = 20,
    preset: str = "veryfast",
) -> None:
    """Write the publishable mp4: H.264, AAC 48 kHz stereo, mov_text subtitles, chapters, tags.

    ``audio`` may be a wav (encoded here) or AAC already (``encode_soundtrack``; copied).
    ``chapters`` are (start, end, title) and should tile the film: an mp4 chapter list stores
    starts only, so each chapter ends where the next begins and the last where the film ends.

    The video is copied untouched when it has exactly as many frames as the audio's length
    rounds to; otherwise, or to burn subtitles in, it is re-encoded, held or trimmed to that.
    Burnt-in subtitles replace the soft track rather than doubling it. Moov goes first
    (faststart) so players and upload pages can start before the whole file arrives.
    """
    video, audio, out = Path(video).resolve(), Path(audio).resolve(), Path(out).resolve()
    metadata = dict(metadata or {})
    info, have = probe(video), frame_count(video)
    if info.video is None or info.video.fps is None:
        raise MediaError(f"{video} has no video stream with a frame rate")
    fps = _whole_rate(info.video.fps, video)
    sound = probe(audio)
    if sound.audio is None:
        raise MediaError(f"{audio} has no audio stream")
    seconds = sound.audio.duration or sound.duration or 0.0
    if seconds <= 0:
        raise MediaError(f"{audio} has no length to give the video")
    want = round(seconds * fps)
    burn = burn_subtitles and subtitles is not None
    copy = not burn and have == want
    if burn and not has_libass():
        raise BackendUnavailable(
            "cannot burn subtitles: this ffmpeg has no working 'subtitles' filter (libass); "
            "use soft subtitles or install an ffmpeg built with libass"
        )
    tags = {**metadata, "title": title} if title else metadata
    language = _language(tags.pop("language", "eng"))
    marks = [(start, name) for start, _, name in chapters if start < seconds]
    work = out.parent
    meta_file = work / f".{out.stem}.ffmetadata.txt"
    # A plain name in the output folder, because the subtitles filter parses its path argument;
    # derived from ``out`` so parallel muxes into one folder do not share it.
    burn_file = work / f".burn-{hashlib.sha256(str(out).encode()).hexdigest()[:16]}.srt"
    try:
        meta_file.parent.mkdir(parents=True, exist_ok=True)
        meta_file.write_text(_ffmetadata(tags), encoding="utf-8")
        args: list[Any] = ["-i", video, "-i", audio, "-f", "ffmetadata", "-i", meta_file]
        soft = subtitles is not None and not burn
        if soft:
            args += ["-i", Path(subtitles).resolve()]
        args += ["-map", "0:v:0", "-map", "1:a:0"] + (["-map", "3:s:0"] if soft else [])
        # Chapters are added afterwards as a chpl box alone (chapters.py), never as a text track.
        args += ["-map_metadata", "2", "-map_chapters", "-1"]
        if copy:
            args += ["-c:v", "copy"]
        else:
            # The length is cut in the graph, not with -frames:v: FFmpeg 5.1 ends the whole output
            # when the video reaches its frame limit, losing the audio still queued (a 4.5 s mux
            # kept 3.6 s of sound).
            filters = [f"tpad=stop_mode=clone:stop={want - have}"] if want > have else []
            filters.append(f"trim=end_frame={want}")
            if burn:
                shutil.copyfile(subtitles, burn_file)
                filters.append(_burn_filter(burn_file.name))
            args += ["-vf", ",".join(filters)]
            args += h264_args(crf, preset)
        if sound.audio.codec == "aac":
            args += ["-c:a", "copy"]
        else:
            args += ["-c:a", "aac", "-b:a", audio_bitrate, "-ar", "48000", "-ac", "2"]
        args += ["-metadata:s:a:0", f"language={language}"]
        if soft:
            args += ["-c:s", "mov_text", "-metadata:s:s:0", f"language={language}"]
        width, height = info.video.width or 0, info.video.height or 0
        timeout = work_timeout(0 if copy else want, width, height, audio_seconds=seconds)
        with atomic_output(out) as part:
            run_ffmpeg([*args, *mp4_args(fps), "-movflags", "+faststart", part], f"muxing {out.name}",
                       cwd=work, timeout=timeout)
            add_chapters(part, marks)
    finally:
        meta_file.unlink(missing_ok=True)
        burn_file.unlink(missing_ok=True)


# Durations read back from mp4 tables may differ from exact fractions by float rounding, no more.
_TICK = 1e-4


class FinalSpec(BaseModel):
    """What a finished video must be; ``chapters`` None means any number."""

    model_config = ConfigDict(extra="forbid")

    width: int
    height: int
    fps: float
    duration: float
    chapters: int | None = None
    subtitles: bool = True


def moov_before_mdat(path: Path) -> bool:
    """Whether the mp4's top-level ``moov`` box comes before ``mdat`` (a faststart file)."""
    with open(path, "rb") as handle:
        while header := handle.read(8):
            if len(header) < 8:
                break
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if kind in (b"moov", b"mdat"):
                return kind == b"moov"
            if size == 1:  # a 64-bit size follows the type
                size = int.from_bytes(handle.read(8), "big") - 8
            elif size == 0:  # the box runs to the end of the file
                break
            handle.seek(size - 8, 1)
    return False


def verify_final(path: Path, expect: FinalSpec | Mapping[str, Any]) -> MediaInfo:
    """Check a finished mp4 against ``expect``; VerificationError listing every mismatch."""
    spec = expect if isinstance(expect, FinalSpec) else FinalSpec.model_validate(dict(expect))
    info = probe(path)
    frame = 1 / spec.fps
    problems: list[str] = []
    video, audio, subtitle = info.video, info.audio, info.subtitle
    if video is None:
        problems.append("no video stream")
    else:
        if video.codec != "h264":
            problems.append(f"video codec {video.codec}, not h264")
        if video.pix_fmt != "yuv420p":
            problems.append(f"pixel format {video.pix_fmt}, not yuv420p")
        if (video.width, video.height) != (spec.width, spec.height):
            problems.append(f"size {video.width}x{video.height}, not {spec.width}x{spec.height}")
        # Exact: an average rate of 761856/31745 meant timestamps off the frame grid (ffmpeg 5.1).
        if video.fps != Fraction(spec.fps).limit_denominator(1001):
            problems.append(f"frame rate {video.fps}, not {spec.fps:g}")
        frames, want = frame_count(path), round(spec.duration * spec.fps)
        if frames != want:
            problems.append(f"video has {frames} frames, not the {want} of {spec.duration:.3f}s")
        elif video.duration is not None and abs(video.duration - frames * frame) > _TICK:
            problems.append(f"video track lasts {video.duration:.6f}s, not its {frames} frames' {frames * frame:.6f}s")
    if audio is None:
        problems.append("no audio stream")
    else:
        if audio.codec != "aac":
            problems.append(f"audio codec {audio.codec}, not aac")
        if (audio.sample_rate, audio.channels) != (48000, 2):
            problems.append(f"audio is {audio.sample_rate} Hz x{audio.channels}, not 48000 Hz stereo")
        if audio.duration is None or abs(audio.duration - spec.duration) > frame / 2 + _TICK:
            problems.append(f"audio lasts {audio.duration}s, not {spec.duration:.3f}s (within half a frame)")
    if info.duration is None or abs(info.duration - spec.duration) > frame + 1e-6:
        problems.append(f"file lasts {info.duration}s, not {spec.duration:.3f}s (within one frame)")
    if spec.subtitles and subtitle is None:
        problems.append("no subtitle track")
    elif spec.subtitles and subtitle.codec != "mov_text":
        problems.append(f"subtitle codec {subtitle.codec}, not mov_text")
    elif not spec.subtitles and subtitle is not None:
        problems.append("an unexpected subtitle track")
    if spec.chapters is not None and len(info.chapters) != spec.chapters:
        problems.append(f"{len(info.chapters)} chapters, not {spec.chapters}")
    if not moov_before_mdat(Path(path)):
        problems.append("moov is not before mdat (not faststart)")
    if problems:
        raise VerificationError(f"{path}: " + "; ".join(problems))
    return info
