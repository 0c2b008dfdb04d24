"""Writing MMAction2's file lists: ``path LABEL`` for videos, ``dir TOTAL_FRAMES LABEL`` for raw frames.

A builder of a data set turns its official annotation files into :class:`ListEntry` rows per
split plus the class names; :func:`write_split_lists` writes the two formats the ``video_list``
and ``rawframe_list`` datasets read. A raw-frame line needs the frame count of the video's
folder, extracted by ``actioncore data frames`` (its ``.done`` marker) or by any other tool
(its ``img_*`` files are counted); videos without a frame folder are left out and reported.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ....errors import DataError
from ..frames import count_frames


@attrs.frozen
class ListEntry:
    """One video: ``name`` is its path without suffix (the frame folder), ``video`` with it."""

    name: str
    label: int

    video_ext: str = ".mp4"

    @property
    def video(self) -> str:
        return self.name + self.video_ext


@attrs.frozen
class ListSet:
    """What a builder read: entries per output list name, the class names (index = label), extra files."""

    lists: dict[str, list[ListEntry]]
    classes: list[str]
    notes: dict[str, Any] = attrs.field(factory=dict)


def class_index(names: Sequence[str]) -> dict[str, int]:
    """Labels of sorted unique class names (how MMAction2 numbers classes without an index file)."""
    return {name: i for i, name in enumerate(sorted(set(names)))}


def write_split_lists(result: ListSet, out: str | os.PathLike[str], *, frames: str | os.PathLike[str] | None = None,
                      videos: bool = True) -> dict[str, Any]:
    """``out/<list>_videos.txt`` for every list (unless not ``videos``), ``<list>_rawframes.txt`` with
    ``frames`` (the folder holding the frame folders), and ``classes.txt``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Any] = {"files": [], "counts": {}, "missing_frames": {}}
    for name, entries in result.lists.items():
        if not entries:
            raise DataError(f"{name}: the annotation files gave no video for this list")
        written["counts"][name] = len(entries)
        if videos:
            listing = out / f"{name}_videos.txt"
            listing.write_text("".join(f"{e.video} {e.label}\n" for e in entries), encoding="utf-8")
            written["files"].append(str(listing))
        if frames is not None:
            lines, missing = [], []
            for e in entries:
                folder = Path(frames) / e.name
                if folder.is_dir():
                    lines.append(f"{e.name} {count_frames(folder)} {e.label}\n")
                else:
                    missing.append(e.name)
            rawframes = out / f"{name}_rawframes.txt"
            rawframes.write_text("".join(lines), encoding="utf-8")
            written["files"].append(str(rawframes))
            if missing:
                written["missing_frames"][name] = missing
    classes = out / "classes.txt"
    classes.write_text("".join(f"{c}\n" for c in result.classes), encoding="utf-8")
    written["files"].append(str(classes))
    written["classes"] = len(result.classes)
    written.update(result.notes)
    return written


def read_text(path: Path, what: str) -> str:
    """A file's text; a missing one is a :class:`DataError` naming it and what it should be."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: {what} not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the {what}: {exc}", path=str(path)) from None


def read_json(path: Path, what: str) -> Any:
    """A JSON file's content, errors naming the file."""
    try:
        return json.loads(read_text(path, what))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: the {what} is not valid JSON: {exc}", path=str(path)) from None


def lookup(mapping: Mapping[str, int], key: str, where: str, what: str = "class") -> int:
    """``mapping[key]``, an unknown key a :class:`DataError` naming ``where``."""
    try:
        return mapping[key]
    except KeyError:
        raise DataError(f"{where}: unknown {what} {key!r}") from None


def only_file(folder: Path, pattern: str, what: str) -> Path:
    """The one file of ``folder`` matching ``pattern``; none or several is an error naming the folder."""
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise DataError(f"{folder}: expected one {what} ({pattern}), found "
                        f"{', '.join(p.name for p in found) or 'none'}", path=str(folder))
    return found[0]
