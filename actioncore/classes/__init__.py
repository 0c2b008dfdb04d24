"""Class lists of the public data sets, shipped with the kernel: ``<name>.txt``, line i = label i.

They are the lists MMAction2 and the data sets publish (``SOURCES.md`` names the file and commit
each came from), so that a pretrained checkpoint's outputs can be printed as names without any
annotation file. AVA keeps its label ids (``ava_v2.2.txt`` lines are ``ID: name``, 80 of the 1-based
ids up to 80, in MMAction2's label-map order); :func:`class_names` returns the names only and
:func:`class_ids` the ids.
"""
from __future__ import annotations

import difflib
import functools
import os
from importlib import resources
from pathlib import Path

from ..errors import ConfigError


def available() -> list[str]:
    """The names of every shipped class list (``kinetics400``, ``ava_v2.2``, ...)."""
    return sorted(p.name[:-4] for p in resources.files(__package__).iterdir() if p.name.endswith(".txt"))


@functools.cache
def _lines(name: str) -> tuple[str, ...]:
    resource = resources.files(__package__).joinpath(f"{name}.txt")
    if not resource.is_file():
        close = difflib.get_close_matches(name, available(), n=3, cutoff=0.5)
        hint = (" Did you mean " + " or ".join(f"'{c}'" for c in close) + "?") if close else ""
        raise ConfigError(f"unknown class list '{name}'.{hint} Shipped lists: {', '.join(available())}.")
    return tuple(line for line in resource.read_text(encoding="utf-8").splitlines() if line.strip())


def _split(line: str) -> tuple[int, str] | None:
    head, sep, tail = line.partition(": ")
    return (int(head), tail) if sep and head.isdigit() else None


def class_names(name: str) -> list[str]:
    """The class names of a shipped list, index = label (``class_names("kinetics400")[0] ==
    "abseiling"``); for a list with explicit ids (AVA) the names in file order.

    :raises ConfigError: for an unknown list, naming close matches and the shipped ones.
    """
    return [split[1] if (split := _split(line)) else line for line in _lines(name)]


def class_list_file(name: str) -> Path:
    """The file of a shipped list (one name per line, or ``ID: name``), for an experiment's
    ``task.classes``.

    :raises ConfigError: for an unknown list, as :func:`class_names`.
    """
    _lines(name)
    return Path(os.fspath(resources.files(__package__).joinpath(f"{name}.txt")))


def class_ids(name: str) -> list[int]:
    """The ids of a list whose lines are ``ID: name`` (AVA), else ``0 .. N-1``."""
    lines = _lines(name)
    splits = [_split(line) for line in lines]
    return [s[0] for s in splits] if all(splits) else list(range(len(lines)))


__all__ = ["available", "class_ids", "class_list_file", "class_names"]
