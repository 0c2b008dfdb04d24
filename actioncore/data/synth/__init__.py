"""Embedded data sets, generated on demand (``actioncore data synth KIND --out DIR [--seed S]``).

Each kind is one function ``(out, *, seed=0, **options) -> SynthReport`` in :data:`KINDS`;
adding a kind adds one entry. Output is deterministic for a given seed and options.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from actioncore.errors import DataError

from .base import SynthReport
from .detection import synth_detection
from .localization import synth_localization
from .recognition import SIZES, Size, synth_rawframes, synth_recognition
from .skeleton import synth_skeleton

__all__ = ["KINDS", "SIZES", "Size", "SynthReport", "synth_rawframes", "synth_recognition", "synthesize"]

KINDS: Mapping[str, Callable[..., SynthReport]] = MappingProxyType({
    "recognition": synth_recognition,
    "rawframes": synth_rawframes,
    "localization": synth_localization,
    "detection": synth_detection,
    "skeleton": synth_skeleton,
})


def synthesize(kind: str, out: Path, *, seed: int = 0, **options: Any) -> SynthReport:
    """Write the embedded data set ``kind`` into ``out`` and say what was written.

    Unknown kinds and options raise :class:`DataError` naming what is accepted, so that the
    command line reports them as user mistakes rather than tracebacks.
    """
    if kind not in KINDS:
        raise DataError(f"unknown synthetic data set {kind!r}; available: {', '.join(KINDS)}")
    fn = KINDS[kind]
    accepted = [n for n, p in inspect.signature(fn).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and n != "seed"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DataError(f"synthetic data set {kind!r} takes no option {', '.join(map(repr, unknown))}; "
                        f"options: {', '.join(accepted) or 'none'}")
    return fn(Path(out), seed=seed, **options)
