"""A folder tree ``class/video.mp4`` (or ``class/video/`` frame folders): classes are the sorted folder names."""
from __future__ import annotations

from pathlib import Path

from ....errors import DataError
from ...list_lines import VIDEO_SUFFIXES
from .entries import ListEntry, ListSet, class_index


def build_folder(source: Path, *, prefix: str = "folder", **_: object) -> ListSet:
    """Every video (or frame folder) of every class folder of ``source``, labelled by its class's rank.

    A class folder holding no video files but sub-folders is read as a tree of frame folders:
    the list then names those folders and the raw-frame list needs no ``--frames``.
    """
    if not source.is_dir():
        raise DataError(f"{source}: not a folder (expected class/video.mp4 sub-folders)", path=str(source))
    class_dirs = sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{source}: no class folders in it (expected class/video.mp4)", path=str(source))
    labels = class_index([p.name for p in class_dirs])
    entries = []
    for class_dir in class_dirs:
        for item in sorted(class_dir.iterdir()):
            if item.is_file() and item.suffix.lower() in VIDEO_SUFFIXES:
                entries.append(ListEntry(f"{class_dir.name}/{item.stem}", labels[class_dir.name], item.suffix))
            elif item.is_dir() and not item.name.startswith("."):
                entries.append(ListEntry(f"{class_dir.name}/{item.name}", labels[class_dir.name], ""))
    if not entries:
        raise DataError(f"{source}: no videos or frame folders under its class folders", path=str(source))
    return ListSet({prefix: entries}, list(labels))
