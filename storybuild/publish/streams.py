"""Whether a video file changed in what YouTube shows: its picture and sound, not its container.

final.mp4 carries the subtitles as a soft track, so fixing a caption rewrites the file although
YouTube, which takes its captions from captions.insert, would show the same video. The digest of
the video and audio packets (bytes and timestamps) tells a caption or tag change, which
``captions.update`` or ``videos.update`` carries, from a new picture or sound, which YouTube
cannot take without a new upload.
"""

from __future__ import annotations

from pathlib import Path

import xxhash

from ..errors import MediaError

__all__ = ["streams_digest"]


def streams_digest(path: Path) -> str:
    """xxh3-128 of every video and audio packet of ``path``, in file order, with its stream and times."""
    import av

    hasher = xxhash.xxh3_128()
    try:
        with av.open(str(path)) as container:
            streams = [s for s in container.streams if s.type in ("video", "audio")]
            for packet in container.demux(streams):
                if packet.size:
                    hasher.update(f"{packet.stream.index}:{packet.pts}:{packet.dts}:".encode())
                    hasher.update(bytes(packet))
    except (OSError, av.error.FFmpegError) as exc:
        raise MediaError(f"cannot read {path} to compare it with the published video: {exc}", file=path) from exc
    return hasher.hexdigest()
