"""Which tools shape each stage's bytes, and what exactly each tool is, for the cache key.

A recipe says what was asked for; the same request through another FFmpeg build or another
espeak-ng gives other bytes. So the cache key (never the recipe: a tool upgrade must not make
doit rebuild what is done) includes the identity of every tool the stage's code and backend run.
A system FFmpeg appearing on PATH then misses the cache instead of mixing clips of two encoders.

Identities are computed when the first task that needs one runs, once per process: a no-op
``doit`` creates every task but runs none, so it never spawns ffmpeg or loads libespeak-ng.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from importlib import metadata

from ..errors import BackendUnavailable

__all__ = ["PIPELINE_TOOLS", "STAGE_TOOLS", "identities", "identity", "stage_tools"]

#: The tools each stage uses with the embedded backends.
STAGE_TOOLS: dict[str, tuple[str, ...]] = {
    "tts": ("espeak-ng", "numpy"),
    "narration": ("numpy", "soundfile", "soxr"),
    "final_wav": ("numpy", "soundfile", "soxr"),
    "sfx": ("numpy",),
    "soundtrack": ("ffmpeg",),
    "animate": ("ffmpeg",),
    "video": ("ffmpeg",),
    "final_mp4": ("ffmpeg",),
    "character": ("fonts", "numpy", "pillow"),
    "scene": ("fonts", "numpy", "pillow"),
    "thumbnail": ("fonts", "numpy", "pillow"),
    "cast": (),
    "sfx_plan": (),
    "subtitles": (),
}

#: The tools a stage's own code uses whatever backend serves it (a backend's ``tools`` add to these).
PIPELINE_TOOLS: dict[str, tuple[str, ...]] = {
    "thumbnail": ("fonts", "pillow"),
}


def stage_tools(stage: str, backend: type | None = None) -> tuple[str, ...]:
    """The tools whose identity enters ``stage``'s cache keys.

    A backend class may declare ``tools`` (a ComfyUI animator: ``("ffmpeg",)`` for conforming,
    no espeak, no Pillow); then they replace the stage's embedded defaults.
    """
    declared = getattr(backend, "tools", None) if backend is not None else None
    if declared is None:
        return STAGE_TOOLS.get(stage, ())
    return tuple(sorted({*declared, *PIPELINE_TOOLS.get(stage, ())}))


def _major(package: str) -> str:
    return f"{package} {metadata.version(package).split('.')[0]}"


def _ffmpeg() -> str:
    try:
        from ..media.ffmpeg import ffmpeg_identity
    except ImportError:
        pass
    else:
        return ffmpeg_identity()
    from ..media.ffmpeg import ffmpeg_exe

    exe = ffmpeg_exe()
    try:
        done = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackendUnavailable(f"cannot run {exe} -version: {exc}; is this ffmpeg binary intact?") from exc
    return f"{exe}: {done.stdout.splitlines()[0] if done.stdout else '?'}"


def _espeak() -> str:
    try:
        import espeakng_loader

        path = espeakng_loader.get_library_path()
        lib = ctypes.CDLL(path)
    except (ImportError, OSError, RuntimeError) as exc:
        raise BackendUnavailable(f"cannot load libespeak-ng to read its version ({exc}); pip install espeakng-loader") from exc
    try:
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        version = (lib.espeak_Info(None) or b"?").decode("ascii", "replace")
    finally:
        # The backend loads a fresh library per line; a handle kept here would keep its state alive.
        _unload(lib._handle)
    return f"espeak-ng {version} (espeakng-loader {metadata.version('espeakng-loader')})"


def _unload(handle: int) -> None:
    import _ctypes

    if sys.platform == "win32":
        _ctypes.FreeLibrary(handle)
    else:
        _ctypes.dlclose(handle)


def _soundfile() -> str:
    import soundfile

    return f"soundfile {soundfile.__version__.split('.')[0]} ({soundfile.__libsndfile_version__})"


def _fonts() -> str:
    try:
        from ..fonts import font_identity
    except ImportError:
        import PIL

        # Until storybuild ships fonts, the only one drawn with is Pillow's bundled font.
        return f"pillow bundled font {PIL.__version__}"
    return font_identity()


_IDENTIFY: dict[str, Callable[[], str]] = {
    "ffmpeg": _ffmpeg,
    "espeak-ng": _espeak,
    "pillow": lambda: _major("pillow"),
    "numpy": lambda: _major("numpy"),
    "soxr": lambda: f"soxr {'.'.join(metadata.version('soxr').split('.')[:2])}",
    "soundfile": _soundfile,
    "fonts": _fonts,
}

_known: dict[str, str] = {}
_lock = threading.Lock()


def identity(tool: str) -> str:
    """What ``tool`` is in this process (version, build), computed once; KeyError if unknown."""
    found = _known.get(tool)
    if found is None:
        found = _IDENTIFY[tool]()
        with _lock:
            found = _known.setdefault(tool, found)
    return found


def identities(tools: Iterable[str]) -> dict[str, str]:
    """``{tool: identity}`` for each of ``tools``."""
    return {tool: identity(tool) for tool in tools}
