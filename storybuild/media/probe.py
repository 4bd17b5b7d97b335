"""What a media file holds, read with PyAV: streams, timing, chapters, tags, subtitle text.

PyAV reads the container's own tables, so probing needs no ffprobe (imageio-ffmpeg ships none)
and never scrapes a log. Frame counts come from counting video packets: exact for the
one-packet-per-frame codecs storybuild writes, and far cheaper than decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from ..errors import MediaError

__all__ = ["Chapter", "MediaInfo", "StreamInfo", "frame_count", "parameter_sets", "probe", "subtitle_texts"]


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a media file; fields that do not apply to its type are None."""

    index: int
    type: str
    codec: str | None
    duration: float | None = None
    language: str | None = None
    width: int | None = None
    height: int | None = None
    pix_fmt: str | None = None
    fps: Fraction | None = None
    frames: int | None = None
    sample_rate: int | None = None
    channels: int | None = None


@dataclass(frozen=True)
class Chapter:
    """A chapter mark in seconds."""

    start: float
    end: float
    title: str


@dataclass(frozen=True)
class MediaInfo:
    """The container-level facts of a media file."""

    path: Path
    format: str
    duration: float | None
    streams: tuple[StreamInfo, ...]
    chapters: tuple[Chapter, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    def of_type(self, kind: str) -> list[StreamInfo]:
        """The streams of one type ("video", "audio", "subtitle", "data")."""
        return [stream for stream in self.streams if stream.type == kind]

    @property
    def video(self) -> StreamInfo | None:
        """The first video stream, if any."""
        return next(iter(self.of_type("video")), None)

    @property
    def audio(self) -> StreamInfo | None:
        """The first audio stream, if any."""
        return next(iter(self.of_type("audio")), None)

    @property
    def subtitle(self) -> StreamInfo | None:
        """The first subtitle stream, if any."""
        return next(iter(self.of_type("subtitle")), None)


def _open(path: Path | str) -> av.container.InputContainer:
    try:
        return av.open(str(path))
    except (OSError, av.error.FFmpegError) as exc:
        raise MediaError(f"cannot open {path} as media: {exc}") from exc


def _stream_info(stream: av.stream.Stream) -> StreamInfo:
    duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
    context = stream.codec_context
    common = dict(
        index=stream.index,
        type=stream.type,
        codec=context.name if context is not None else None,
        duration=duration,
        language=stream.language,
        frames=stream.frames or None,
    )
    if stream.type == "video":
        rate = stream.average_rate
        return StreamInfo(
            **common,
            width=context.width,
            height=context.height,
            pix_fmt=context.pix_fmt,
            fps=Fraction(rate) if rate else None,
        )
    if stream.type == "audio":
        return StreamInfo(**common, sample_rate=context.sample_rate, channels=context.channels)
    return StreamInfo(**common)


def _chapter(raw: dict) -> Chapter:
    base = Fraction(raw["time_base"])
    return Chapter(
        start=float(raw["start"] * base), end=float(raw["end"] * base), title=raw["metadata"].get("title", "")
    )


def probe(path: Path | str) -> MediaInfo:
    """Streams, duration, chapters and tags of the media file at ``path``."""
    with _open(path) as container:
        duration = container.duration / av.time_base if container.duration is not None else None
        return MediaInfo(
            path=Path(path),
            format=container.format.name,
            duration=duration,
            streams=tuple(_stream_info(stream) for stream in container.streams),
            chapters=tuple(_chapter(raw) for raw in container.chapters()),
            tags=dict(container.metadata),
        )


def frame_count(path: Path | str) -> int:
    """The exact number of frames in the first video stream, by counting its packets."""
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path} has no video stream")
        stream = container.streams.video[0]
        try:
            # Packets with no payload are demuxer flush markers, not frames.
            return sum(1 for packet in container.demux(stream) if packet.size)
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot read the video packets of {path}: {exc}") from exc


def parameter_sets(path: Path | str) -> bytes:
    """The first video stream's codec extradata (for H.264 its SPS and PPS).

    Clips whose parameter sets are byte-identical can be joined by stream copy into one valid
    ``avc1`` track; differing ones would need them repeated in-band, which not every player reads.
    """
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path} has no video stream")
        return bytes(container.streams.video[0].codec_context.extradata or b"")


def subtitle_texts(path: Path | str) -> list[tuple[float, float, str]]:
    """The (start, end, text) cues of the first mov_text track, in seconds.

    A mov_text sample is a 2-byte big-endian length and that many bytes of UTF-8; the muxer fills
    the gaps between cues with empty samples, which are skipped.
    """
    with _open(path) as container:
        if not container.streams.subtitles:
            raise MediaError(f"{path} has no subtitle track")
        stream = container.streams.subtitles[0]
        if stream.codec_context.name != "mov_text":
            raise MediaError(f"{path}: subtitle track is {stream.codec_context.name}, not mov_text")
        cues = []
        for packet in container.demux(stream):
            if packet.pts is None or packet.size < 2:
                continue
            payload = bytes(packet)
            length = int.from_bytes(payload[:2], "big")
            if length == 0:
                continue
            text = payload[2 : 2 + length].decode("utf-8", errors="replace")
            start = float(packet.pts * packet.time_base)
            cues.append((start, start + float(packet.duration * packet.time_base), text))
        return cues
