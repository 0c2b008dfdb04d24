"""AVA: the official CSV and pbtxt files, checked, and the ``[data.*]`` tables of the ``ava`` dataset.

The ``ava`` dataset (actioncore-detection) reads the official files as they come, so nothing is
rewritten: this finds them in SOURCE (``ava_{train,val}_v2.X.csv``,
``ava_{train,val}_excluded_timestamps_v2.X.csv``, ``ava_action_list_v2.X*.pbtxt``, and proposal
CSVs ``*proposals_{train,val}*.csv`` if any), checks each action row
(``video_id,timestamp,x1,y1,x2,y2,action_id,person_id``), and writes ``ava_data.toml`` (the
tables to paste into an experiment, ``root`` the frame folders) plus ``ava_{split}_videos.txt``,
the video ids each split needs frames of (``actioncore data frames`` names a folder per video).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ....errors import DataError
from .entries import read_text

SPLITS = ("train", "val")


def _one(source: Path, pattern: str, what: str, *, required: bool = True) -> Path | None:
    found = sorted(source.glob(pattern))
    if not found:
        if required:
            raise DataError(f"{source}: no {what} ({pattern})", path=str(source))
        return None
    return found[-1]  # v2.2 sorts after v2.1: the newest version


def _videos(path: Path) -> dict[str, int]:
    """Rows per video id; a malformed row is an error naming the line."""
    counts: dict[str, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(read_text(path, "AVA action CSV"))), start=1):
        if not row:
            continue
        if len(row) != 8:
            raise DataError(f"{path}:{number}: expected video_id,timestamp,x1,y1,x2,y2,action_id,person_id, "
                            f"got {len(row)} fields", path=str(path), line=number)
        try:
            [float(v) for v in row[1:]]
        except ValueError:
            raise DataError(f"{path}:{number}: timestamp, box, action and person must be numbers",
                            path=str(path), line=number) from None
        counts[row[0]] = counts.get(row[0], 0) + 1
    return counts


def build_ava(source: Path, out: Path, *, frames: Path | None = None) -> dict[str, Any]:
    """``ava_data.toml`` and ``ava_{train,val}_videos.txt`` in ``out``; videos without frames are reported."""
    label_file = _one(source, "ava_action_list_v2.*.pbtxt", "label map")
    if "item" not in read_text(label_file, "label map"):
        raise DataError(f"{label_file}: no 'item {{ name: ... id: ... }}' entries", path=str(label_file))
    out.mkdir(parents=True, exist_ok=True)
    tables, files, counts, missing = [], [], {}, {}
    for split in SPLITS:
        ann_file = _one(source, f"ava_{split}_v2.*.csv", f"{split} annotations")
        videos = _videos(ann_file)
        counts[split] = {"videos": len(videos), "rows": sum(videos.values())}
        params = {"ann_file": ann_file.resolve(), "label_file": label_file.resolve()}
        for key, pattern in (("exclude_file", f"ava_{split}_excluded_timestamps_v2.*.csv"),
                             ("proposal_file", f"*proposals_{split}*.csv")):
            found = _one(source, pattern, key, required=False)
            if found is not None:
                params[key] = found.resolve()
        params["root"] = (frames or out / "rawframes").resolve()
        tables.append(f"[data.{split}]\ntype = \"ava\"\n"
                      + "".join(f"{k} = {json.dumps(str(v))}\n" for k, v in params.items()))
        listing = out / f"ava_{split}_videos.txt"
        listing.write_text("".join(f"{v}\n" for v in videos), encoding="utf-8")
        files.append(str(listing))
        if frames is not None:
            absent = [v for v in videos if not (frames / v).is_dir()]
            if absent:
                missing[split] = absent
    toml = out / "ava_data.toml"
    toml.write_text("# pipelines: see the ava_detector examples\n" + "\n".join(tables), encoding="utf-8")
    files.append(str(toml))
    return {"files": files, "counts": counts, "missing_frames": missing}
