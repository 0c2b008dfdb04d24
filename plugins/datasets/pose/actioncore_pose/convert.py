"""The ``pose`` converter: MMAction2's pickled pose annotations to a pose store, once.

``actioncore data convert-pose IN.pkl OUT --trust-pickle`` (the same as ``actioncore data convert
pose ...``) reads both layouts MMAction2 has shipped:

- 1.x: ``{"split": {"xsub_train": [frame_dir, ...], ...}, "annotations": [record, ...]}``
- 0.x: a plain list of records (no splits; configs then used one file per split)

where a record is a dict with ``frame_dir``, ``label``, ``img_shape``, ``original_shape``,
``total_frames``, ``keypoint [M, T, V, C]`` and (2D) ``keypoint_score [M, T, V]``. The pickle is
opened only through :func:`actioncore.data.pickles.load_trusted_pickle`, which refuses without
``--trust-pickle``. The layout is told from the joint count: 17 COCO, 25 NTU RGB+D, 18 OpenPose.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from actioncore.sdk.data import load_trusted_pickle
from actioncore.sdk import DataError

from .layouts import LAYOUTS
from .records import PoseRecord, check_pose, write_store

_LAYOUT_BY_JOINTS = {layout.num_joints: name for name, layout in LAYOUTS.items()}
_COMPRESSED_KEYS = ("frame_inds", "anno_inds", "box_score")


def _record(raw: Any, position: int, source: Path) -> PoseRecord:
    where = f"{source}: record {position}"
    if not isinstance(raw, Mapping):
        raise DataError(f"{where}: expected a dict of annotation keys, got {type(raw).__name__}", path=str(source))
    name = raw.get("frame_dir", raw.get("filename"))
    name = str(name) if name is not None else f"{position:06d}"
    where = f"{where} (frame_dir {name!r})"
    compressed = [k for k in _COMPRESSED_KEYS if k in raw]
    if compressed:
        raise DataError(f"{where}: compressed per-box pose annotations ({', '.join(compressed)}) are not "
                        "supported; expected dense keypoint [M, T, V, C] arrays", path=str(source))
    if "keypoint" not in raw:
        raise DataError(f"{where}: no 'keypoint' array", path=str(source))
    try:
        keypoint, score = check_pose(raw["keypoint"], raw.get("keypoint_score"), where,
                                     total_frames=raw.get("total_frames"))
    except DataError as exc:
        raise DataError(str(exc), path=str(source)) from None
    label = raw.get("label")
    try:
        label = None if label is None else int(label)
    except (TypeError, ValueError):
        raise DataError(f"{where}: label must be an integer class index, got {label!r}", path=str(source)) from None
    if label is not None and label < 0:
        raise DataError(f"{where}: negative label {label}", path=str(source))
    shapes = {}
    for key in ("img_shape", "original_shape"):
        value = raw.get(key, raw.get("img_shape"))
        try:
            h, w = (int(v) for v in value)
            if h <= 0 or w <= 0:
                raise ValueError
        except (TypeError, ValueError):
            raise DataError(f"{where}: {key} must be a positive (height, width), got {value!r}",
                            path=str(source)) from None
        shapes[key] = (h, w)
    return PoseRecord(name, label, shapes["img_shape"], keypoint, score, shapes["original_shape"])


def read_mmaction_pose(source: str | Path, *, trust_pickle: bool) -> tuple[list[PoseRecord], dict[str, list[str]]]:
    """Records and splits of an MMAction2 pose pickle (see the module docstring)."""
    source = Path(source)
    data = load_trusted_pickle(source, trust=trust_pickle, what="MMAction2 pose annotations")
    splits: dict[str, list[str]] = {}
    if isinstance(data, Mapping):
        if "annotations" not in data:
            raise DataError(f"{source}: a dict without 'annotations'; expected MMAction2's "
                            "{'split': {...}, 'annotations': [...]} or a list of records", path=str(source))
        annotations = data["annotations"]
        raw_splits = data.get("split") or {}
        if not isinstance(raw_splits, Mapping):
            raise DataError(f"{source}: 'split' must map split names to lists of frame_dir", path=str(source))
        splits = {str(k): [str(n) for n in v] for k, v in raw_splits.items()}
    else:
        annotations = data
    if not isinstance(annotations, (list, tuple)):
        raise DataError(f"{source}: expected a list of pose records, got {type(annotations).__name__}",
                        path=str(source))
    if not annotations:
        raise DataError(f"{source}: the file holds no pose records", path=str(source))
    return [_record(raw, i, source) for i, raw in enumerate(annotations)], splits


def convert_pose(source: Path, target: Path, *, trust_pickle: bool) -> dict[str, Any]:
    """Converter component ``pose``: write the pickle's records as a pose store in ``target``."""
    records, splits = read_mmaction_pose(source, trust_pickle=trust_pickle)
    joints, coords = records[0].keypoint.shape[2:]
    layout = _LAYOUT_BY_JOINTS.get(int(joints))
    report = write_store(target, records, splits=splits, layout=layout, source=str(source))
    report["source"] = str(source)
    if layout is None:
        report["note"] = f"{joints} joints match no known layout; steps that need one must be told"
    elif LAYOUTS[layout].coords != coords:
        report["note"] = f"{coords}-D coordinates in the {layout} layout (usually {LAYOUTS[layout].coords}-D)"
    return report
