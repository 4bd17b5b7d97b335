"""What the loopback ComfyUI makes for an output node: real png, mp4, flac/wav/mp3 files.

The kind of file comes from the output node's class, its size from the graph it ends: width and
height, frame counts and fps, seconds (or a TTS node's text) found on the node or upstream of it.
Images are seeded noise (never blank unless a test asks), so a blank-picture check can tell.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_SIZE_KEYS = ("width", "height")
_FRAME_KEYS = ("length", "num_frames", "frame_count", "video_frames", "frames")
_FPS_KEYS = ("fps", "frame_rate")
_SECONDS_KEYS = ("seconds", "duration", "length_seconds", "audio_length")


def output_kind(class_type: str) -> str | None:
    """'image', 'video', 'audio', 'mp3' or None: what an output node of this class writes."""
    name = class_type.lower()
    if any(word in name for word in ("video", "webm", "animatedwebp", "animatedpng")):
        return "video"
    if "audio" in name:
        return "mp3" if "mp3" in name else "audio"
    if "image" in name:
        return "image"
    return None


@dataclass
class Shape:
    """What one output node should produce."""

    width: int
    height: int
    batch: int = 1
    frames: int = 8
    fps: float = 16.0
    seconds: float = 1.0
    seed: int = 0


def upstream(prompt: dict, node: str) -> list[str]:
    """``node`` and every node it reads from, nearest first."""
    order, seen, todo = [], set(), [node]
    while todo:
        current = todo.pop(0)
        if current in seen or current not in prompt:
            continue
        seen.add(current)
        order.append(current)
        for value in (prompt[current].get("inputs") or {}).values():
            if is_link(value):
                todo.append(str(value[0]))
    return order


def shape_of(prompt: dict, node: str, default_size: tuple[int, int], default_frames: int) -> Shape:
    """The size, length and seed an output node's graph asks for."""
    found: dict[str, Any] = {}
    for current in upstream(prompt, node):
        inputs = prompt[current].get("inputs") or {}
        for key, value in inputs.items():
            if not is_link(value) and key not in found:
                found[key] = value
    text = found.get("text") if isinstance(found.get("text"), str) else None
    seconds = _first(found, _SECONDS_KEYS)
    if seconds is None:
        seconds = max(0.5, 0.06 * len(text)) if text else 1.0
    frames = _first(found, _FRAME_KEYS) or found.get("batch_size") or default_frames
    return Shape(
        width=int(found.get("width", default_size[0])), height=int(found.get("height", default_size[1])),
        batch=int(found.get("batch_size", 1)), frames=int(frames), fps=float(_first(found, _FPS_KEYS) or 16),
        seconds=float(seconds), seed=int(found.get("seed", found.get("noise_seed", 0)) or 0),
    )


def next_name(folder: Path, stem: str, suffix: str, trailing: str = "_") -> Path:
    """ComfyUI's counter naming: ``stem_00001_.png``, one more than the highest on disk."""
    folder.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(stem)}_(\d{{5}})")
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := pattern.match(p.name))]
    return folder / f"{stem}_{max(numbers, default=0) + 1:05d}{trailing}{suffix}"


def write_image(path: Path, shape: Shape, *, black: bool) -> None:
    """A PNG of the shape's size: seeded noise, or all black."""
    from PIL import Image

    if black:
        pixels = np.zeros((shape.height, shape.width, 3), np.uint8)
    else:
        pixels = np.random.default_rng(shape.seed % 2**32).integers(0, 256, (shape.height, shape.width, 3), np.uint8)
    Image.fromarray(pixels).save(path)


def write_video(path: Path, shape: Shape) -> None:
    """An H.264 mp4 with the shape's size, frame count and fps."""
    import imageio_ffmpeg

    width, height = shape.width + shape.width % 2, shape.height + shape.height % 2
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc2=s={width}x{height}:r={shape.fps:g}", "-frames:v", str(shape.frames),
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True, capture_output=True, timeout=60,
    )


def write_audio(path: Path, shape: Shape) -> None:
    """A mono 24 kHz tone of the shape's length: flac or wav by suffix, mp3 through ffmpeg."""
    rate = 24000
    t = np.arange(int(rate * shape.seconds)) / rate
    samples = (0.3 * np.sin(2 * np.pi * (220 + shape.seed % 200) * t)).astype(np.float32)
    if path.suffix == ".mp3":
        import imageio_ffmpeg

        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "f32le", "-ar", str(rate), "-ac", "1",
             "-i", "-", "-c:a", "libmp3lame", str(path)],
            input=samples.tobytes(), check=True, capture_output=True, timeout=60,
        )
        return
    import soundfile

    soundfile.write(path, samples, rate)


def make(prompt: dict, node: str, root: Path, config: Any, faults: dict) -> dict:
    """Write the files of output node ``node``; its ``executed`` output dict."""
    class_type = prompt[node]["class_type"]
    inputs = prompt[node].get("inputs") or {}
    kind = output_kind(class_type)
    shape = shape_of(prompt, node, config.default_size, config.default_frames)
    if faults.get("wrong_size_jobs"):
        shape.width = max(2, shape.width // 2)
    folder_type = "temp" if class_type.startswith("Preview") else "output"
    prefix = str(inputs.get("filename_prefix", "ComfyUI")) if folder_type == "output" else f"ComfyUI_temp_{uuid.uuid4().hex[:5]}"
    subfolder, _, stem = prefix.rpartition("/")
    folder = root / folder_type / subfolder
    if kind == "video":
        vhs = class_type.startswith("VHS_")
        path = next_name(folder, stem, ".mp4", "" if vhs else "_")
        write_video(path, shape)
        ref = {"filename": path.name, "subfolder": subfolder, "type": folder_type}
        if vhs:
            return {"gifs": [{**ref, "format": "video/h264-mp4", "frame_rate": shape.fps, "fullpath": str(path)}]}
        return {"images": [ref], "animated": [True]}
    if kind in ("audio", "mp3"):
        path = next_name(folder, stem, ".mp3" if kind == "mp3" else ".flac")
        write_audio(path, shape)
        return {"audio": [{"filename": path.name, "subfolder": subfolder, "type": folder_type}]}
    refs = []
    for index in range(max(1, shape.batch)):
        path = next_name(folder, stem, ".png")
        shape.seed += index
        write_image(path, shape, black=bool(faults.get("black_jobs")))
        refs.append({"filename": path.name, "subfolder": subfolder, "type": folder_type})
    return {"images": refs}


def _first(found: dict, keys: tuple[str, ...]) -> Any:
    return next((found[k] for k in keys if isinstance(found.get(k), (int, float))), None)


def is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int) and isinstance(value[0], (str, int))
