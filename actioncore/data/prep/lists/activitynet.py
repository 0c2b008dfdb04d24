"""ActivityNet: annotation files into the per-split JSON the ``activitynet`` dataset (BMN, BSN) reads.

Expected in SOURCE: ``video_info_new.csv`` (BSN's, from MMAction2's ``download_feature_annotations.sh``;
header ``video,numFrame,seconds,fps,rfps,subset,featureFrame``) and either ``anet_anno_action.json``
(BSN's per-video ``duration_second, duration_frame, feature_frame, annotations``) or the official
``activity_net.v1-3.min.json`` (``{"database": {id: {"subset", "duration", "annotations"}}}``,
names then take ActivityNet's ``v_`` prefix). As MMAction2's ``process_annotations.py``, each
video gets ``fps`` (and ``rfps``) from the CSV and goes to ``anet_anno_{train,val,test}.json`` by its
subset (training, validation, testing); ``anet_anno_full.json`` holds them all.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ....errors import DataError
from .entries import read_json, read_text

INFO_COLUMNS = ("video", "numFrame", "seconds", "fps", "rfps", "subset", "featureFrame")
SUBSETS = {"training": "train", "validation": "val", "testing": "test"}


def read_video_info(path: Path) -> dict[str, dict[str, str]]:
    """BSN's ``video_info_new.csv`` rows by video name."""
    reader = csv.DictReader(io.StringIO(read_text(path, "video info CSV")))
    missing = [c for c in INFO_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise DataError(f"{path}: header lacks {', '.join(missing)} (expected {','.join(INFO_COLUMNS)})",
                        path=str(path))
    return {row["video"]: row for row in reader}


def _number(value: str, where: str, key: str, kind: type = float) -> Any:
    try:
        return kind(float(value)) if kind is int else float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {key} must be a number, got {value!r}") from None


def _annotations(source: Path, info: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    bsn = source / "anet_anno_action.json"
    if bsn.exists():
        database = read_json(bsn, "annotation file")
        if not isinstance(database, dict):
            raise DataError(f"{bsn}: expected an object mapping video names to annotations", path=str(bsn))
        return database
    official = source / "activity_net.v1-3.min.json"
    if not official.exists():
        raise DataError(f"{source}: neither anet_anno_action.json nor activity_net.v1-3.min.json in it",
                        path=str(source))
    database = read_json(official, "annotation file")
    if not isinstance(database, dict) or not isinstance(database.get("database"), dict):
        raise DataError(f"{official}: no 'database' object (the official ActivityNet JSON)", path=str(official))
    converted = {}
    for video_id, item in database["database"].items():
        name = f"v_{video_id}"
        row = info.get(name)
        if row is None:
            continue  # a video that is not in the CSV was never downloaded: nothing to train on
        where = f"{official}: video {video_id!r}"
        converted[name] = {"duration_second": _number(item.get("duration"), where, "duration"),
                           "duration_frame": _number(row["numFrame"], where, "numFrame", int),
                           "feature_frame": _number(row["featureFrame"], where, "featureFrame", int),
                           "annotations": [{"segment": a["segment"], "label": a["label"]}
                                           for a in item.get("annotations", [])]}
    return converted


def build_activitynet(source: Path, out: Path) -> dict[str, Any]:
    """``anet_anno_{train,val,test,full}.json`` in ``out``: the annotations with fps, split by subset."""
    info_file = source / "video_info_new.csv"
    info = read_video_info(info_file)
    database = _annotations(source, info)
    splits: dict[str, dict[str, Any]] = {"train": {}, "val": {}, "test": {}}
    full = {}
    for name, row in info.items():
        if name not in database:
            raise DataError(f"{info_file}: video {name!r} has no annotation entry", path=str(info_file))
        where = f"{info_file}: video {name!r}"
        entry = {**database[name], "fps": _number(row["fps"], where, "fps"),
                 "rfps": _number(row["rfps"], where, "rfps")}
        full[name] = entry
        subset = SUBSETS.get(row["subset"])
        if subset is None:
            raise DataError(f"{where}: subset {row['subset']!r} is none of {', '.join(SUBSETS)}", path=str(info_file))
        splits[subset][name] = entry
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for split, videos in [*splits.items(), ("full", full)]:
        if videos:
            path = out / f"anet_anno_{split}.json"
            path.write_text(json.dumps(videos), encoding="utf-8")
            files.append(str(path))
    return {"files": files, "counts": {k: len(v) for k, v in splits.items()}}
