"""``actioncore data lists FORMAT SOURCE --out DIR``: file lists from a folder tree or official annotations.

Recognition data sets give ``<list>_videos.txt`` (``path LABEL``, the ``video_list`` dataset) and,
with ``--frames DIR``, ``<list>_rawframes.txt`` (``dir TOTAL_FRAMES LABEL``, ``rawframe_list``),
plus ``classes.txt``; ActivityNet gives the ``activitynet`` dataset's JSON, AVA the ``ava``
dataset's tables. docs/data.md describes each layout.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ....errors import DataError
from .activitynet import build_activitynet
from .ava import build_ava
from .csv_sets import build_kinetics, build_mit
from .entries import ListSet, write_split_lists
from .folder import build_folder
from .json_sets import build_diving48, build_sthv2
from .split_files import build_hmdb51, build_ucf101

RECOGNITION: dict[str, Callable[..., ListSet]] = {
    "folder": build_folder, "ucf101": build_ucf101, "hmdb51": build_hmdb51, "kinetics": build_kinetics,
    "sthv2": build_sthv2, "diving48": build_diving48, "mit": build_mit,
}
FORMATS = (*RECOGNITION, "activitynet", "ava")


def build_lists(format: str, source: str | os.PathLike[str], out: str | os.PathLike[str], *,
                frames: str | os.PathLike[str] | None = None, **options: Any) -> dict[str, Any]:
    """Write the lists of ``format`` from ``source`` into ``out``; returns what was written.

    ``options`` go to the builder (``prefix``, ``split``, ``level``, ``video_ext``); ``None``
    values take the builder's defaults.
    """
    source, out = Path(source), Path(out)
    if not source.exists():
        raise DataError(f"{source}: no such annotation folder", path=str(source))
    options = {k: v for k, v in options.items() if v is not None}
    if format == "activitynet":
        return {"format": format, **build_activitynet(source, out)}
    if format == "ava":
        return {"format": format, **build_ava(source, out, frames=Path(frames) if frames else None)}
    if format not in RECOGNITION:
        raise DataError(f"unknown list format {format!r}; formats are {', '.join(FORMATS)}")
    result = RECOGNITION[format](source, **options)
    frame_tree = format == "folder" and all(e.video_ext == "" for v in result.lists.values() for e in v)
    if frame_tree:  # a tree of frame folders: its own raw-frame list, no video list
        return {"format": format, **write_split_lists(result, out, frames=source, videos=False)}
    return {"format": format, **write_split_lists(result, out, frames=frames)}
