"""Embedded data sets, generated on demand (``actioncore data synth KIND --out DIR [--seed S]``).

A kind is a component of kind ``synth`` (hook ``actioncore_synth``): a function
``(out, *, seed=0, **options) -> SynthReport`` whose typed keyword-only parameters are its
options. The kernel registers its quickstart data, ``recognition`` and ``rawframes``; plugins
register the data of their own formats (``skeleton``, ``localization``, ``detection``), so the
kinds on offer are those of the installed plugins. Output is deterministic for a seed and options.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from actioncore.errors import DataError

from ...plugin.host import current_host
from .base import MARKER, SynthReport, check_seed, prepare_out
from .media import write_jpegs, write_mp4
from .recognition import SIZES, Size, synth_rawframes, synth_recognition

__all__ = ["MARKER", "SIZES", "Size", "SynthReport", "check_seed", "list_kinds", "options_of", "prepare_out",
           "synth_rawframes", "synth_recognition", "synthesize", "write_jpegs", "write_mp4"]

KIND = "synth"
"""The component kind under which data set generators are registered."""


def options_of(generator: Any) -> dict[str, inspect.Parameter]:
    """A generator's options: its keyword-only parameters other than ``seed``."""
    return {n: p for n, p in inspect.signature(generator).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and n != "seed"}


def synthesize(kind: str, out: Path, *, seed: int = 0, **options: Any) -> SynthReport:
    """Write the embedded data set ``kind`` into ``out`` and say what was written.

    An unknown kind raises :class:`~actioncore.errors.PluginError` naming the kinds on offer, the
    closest match and the distribution that provides it (as unknown components do); an unknown
    option raises :class:`DataError` naming the accepted ones. Both are user mistakes the
    command line reports without a traceback.
    """
    generator = current_host().registry.get(KIND, kind).factory
    accepted = options_of(generator)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DataError(f"synthetic data set {kind!r} takes no option {', '.join(map(repr, unknown))}; "
                        f"options: {', '.join(accepted) or 'none'}")
    return generator(Path(out), seed=seed, **options)


def list_kinds() -> dict[str, dict[str, Any]]:
    """Every registered kind with its distribution, summary and options (``data synth --list``)."""
    kinds = {}
    for component in current_host().registry.items(KIND):
        doc = inspect.getdoc(component.factory) or ""
        kinds[component.name] = {
            "distribution": component.distribution, "version": component.version,
            "description": doc.split("\n\n")[0].replace("\n", " "),
            "options": {name: {"type": _type_name(p.annotation),
                               "default": None if p.default is inspect.Parameter.empty else p.default}
                        for name, p in options_of(component.factory).items()},
        }
    return kinds


def _type_name(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return "any"
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
