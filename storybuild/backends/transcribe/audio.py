"""What every Whisper wants: 16 kHz mono float32 samples, and a two-letter language code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import BackendError

if TYPE_CHECKING:
    import numpy as np

# Whisper's languages (tokenizer.py LANGUAGES), the ones a story is likely to be in; others pass through.
_KNOWN = frozenset(
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la "
    "mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be "
    "tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue".split()
)


def whisper_input(path: Path, rate: int) -> np.ndarray:
    """The wav at ``path`` as mono float32 samples at ``rate``."""
    from ...media.audio import read_wav, resample, to_mono

    data, source_rate = read_wav(path)
    return resample(to_mono(data), source_rate, rate)


def whisper_language(language: str) -> str:
    """Whisper's code for a story language: ``en-US`` -> ``en``; BackendError if Whisper has no such language."""
    code = language.strip().lower().replace("_", "-").split("-")[0]
    if code not in _KNOWN:
        raise BackendError(f"Whisper cannot transcribe language {language!r}")
    return code
