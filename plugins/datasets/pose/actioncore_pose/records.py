"""Pose records on disk: a JSON index plus memory-mappable NumPy arrays, never a pickle.

A pose store is a folder::

    index.json            what each record is (see below) and the named splits
    keypoint.npy          float32 [rows, V, C]  every record's keypoints, person-major
    keypoint_score.npy    float32 [rows, V]     their confidences (absent for 3D data without)

Record ``r`` owns rows ``[r.start, r.start + M * T)``, which reshape to ``keypoint [M, T, V, C]``
(M persons, T frames, V joints, C = 2 or 3 coordinates) and ``keypoint_score [M, T, V]``. The
index holds, per record, MMAction2's annotation keys ``frame_dir``, ``label``, ``img_shape``,
``original_shape`` and ``total_frames``, plus ``num_persons`` and ``start``; at the top,
``layout`` (a name from :mod:`actioncore_pose.layouts`, or null), ``num_joints``, ``coords``,
``has_score`` and ``splits`` (``{name: [frame_dir, ...]}``, MMAction2 1.x's ``split`` table).

``.npy`` files load with ``allow_pickle=False`` and memory-map, so DataLoader workers share the
page cache instead of each holding a copy. Every check that fails raises
:class:`~actioncore.errors.DataError` naming the file and the record.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from actioncore.sdk.data import PICKLE_SUFFIXES
from actioncore.sdk import DataError

from .layouts import get_layout

FORMAT = "actioncore-pose-records"
VERSION = 1
INDEX = "index.json"
KEYPOINT = "keypoint.npy"
KEYPOINT_SCORE = "keypoint_score.npy"

__all__ = ["FORMAT", "INDEX", "PoseRecord", "PoseStore", "check_pose", "write_store"]


@attrs.frozen
class PoseRecord:
    """One annotated pose sequence, MMAction2's pose annotation dict as a typed record."""

    frame_dir: str
    label: int | None
    img_shape: tuple[int, int]
    """``(height, width)`` of the frames the keypoints are in, in pixels."""
    keypoint: np.ndarray = attrs.field(repr=lambda a: f"array{list(a.shape)}")
    """float32 ``[M, T, V, C]``."""
    keypoint_score: np.ndarray | None = attrs.field(default=None, repr=lambda a: "None" if a is None else f"array{list(a.shape)}")
    """float32 ``[M, T, V]``, or None (NTU RGB+D 3D skeletons have no scores)."""
    original_shape: tuple[int, int] | None = None
    """Shape of the source video; ``img_shape`` when not given."""

    @property
    def num_persons(self) -> int:
        return int(self.keypoint.shape[0])

    @property
    def total_frames(self) -> int:
        return int(self.keypoint.shape[1])


def check_pose(keypoint: Any, keypoint_score: Any, where: str, *, total_frames: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """One record's arrays as float32, validated; DataError saying what is wrong at ``where``.

    Refused: a keypoint array that is not ``[M, T, V, C]`` with C 2 or 3, no persons, no frames,
    no joints, scores whose shape is not ``[M, T, V]``, a ``total_frames`` that disagrees with T,
    and any NaN or infinity.
    """
    kp = np.asarray(keypoint)
    if kp.dtype.kind not in "iuf" or kp.ndim != 4 or kp.shape[-1] not in (2, 3):
        raise DataError(f"{where}: keypoint has shape {list(kp.shape)} ({kp.dtype}); expected numbers of "
                        "shape [M persons, T frames, V joints, C] with C = 2 or 3")
    persons, frames, joints, _ = kp.shape
    if persons == 0:
        raise DataError(f"{where}: keypoint has zero persons (shape {list(kp.shape)})")
    if frames == 0:
        raise DataError(f"{where}: keypoint has zero frames (shape {list(kp.shape)})")
    if joints == 0:
        raise DataError(f"{where}: keypoint has zero joints (shape {list(kp.shape)})")
    if total_frames is not None and int(total_frames) != frames:
        raise DataError(f"{where}: total_frames is {total_frames} but keypoint holds {frames} frames")
    kp = kp.astype(np.float32, copy=False)
    if not np.isfinite(kp).all():
        bad = np.argwhere(~np.isfinite(kp))[0].tolist()
        raise DataError(f"{where}: keypoint holds NaN or infinite values (first at [person, frame, "
                        f"joint, coord] = {bad})")
    score = None
    if keypoint_score is not None:
        score = np.asarray(keypoint_score)
        if score.dtype.kind not in "iuf" or score.shape != kp.shape[:3]:
            raise DataError(f"{where}: keypoint_score has shape {list(score.shape)}; expected "
                            f"{list(kp.shape[:3])} (the keypoint shape without its last axis)")
        score = score.astype(np.float32, copy=False)
        if not np.isfinite(score).all():
            bad = np.argwhere(~np.isfinite(score))[0].tolist()
            raise DataError(f"{where}: keypoint_score holds NaN or infinite values (first at "
                            f"[person, frame, joint] = {bad})")
    return kp, score


def _shape(value: Any, where: str, key: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {key} must be (height, width), got {value!r}") from None
    if h <= 0 or w <= 0:
        raise DataError(f"{where}: {key} must be positive, got {(h, w)}")
    return h, w


# --------------------------------------------------------------------------------------------
# Writing


def _prepare_target(target: Path) -> None:
    """Create ``target``, or reuse it if it is empty or an earlier pose store (never mix into other data)."""
    if target.exists() and not target.is_dir():
        raise DataError(f"{target}: exists and is not a folder", path=str(target))
    if target.is_dir() and any(target.iterdir()) and not (target / INDEX).is_file():
        raise DataError(f"{target}: the folder is not empty and holds no pose store; choose an empty "
                        "or new folder", path=str(target))
    target.mkdir(parents=True, exist_ok=True)


def write_store(target: str | os.PathLike, records: Sequence[PoseRecord], *,
                splits: Mapping[str, Sequence[str]] | None = None, layout: str | None = None,
                source: str = "") -> dict[str, Any]:
    """Write ``records`` as a pose store in ``target``; returns a JSON-able summary.

    All records must agree on V, C and on having scores, and have unique ``frame_dir`` names
    (samples and ``splits`` refer to records by them). Files are written under temporary names and renamed,
    so an interrupted write leaves any earlier store intact.
    """
    target = Path(target)
    where = source or str(target)
    if not records:
        raise DataError(f"{where}: no pose records to write")
    first = records[0]
    joints, coords = first.keypoint.shape[2:]
    has_score = first.keypoint_score is not None
    for i, r in enumerate(records):
        at = f"{where}: record {i} (frame_dir {r.frame_dir!r})"
        if r.keypoint.shape[2:] != (joints, coords):
            raise DataError(f"{at}: keypoint has {r.keypoint.shape[2]} joints x {r.keypoint.shape[3]} "
                            f"coordinates, the first record {joints} x {coords}; one store holds one layout")
        if (r.keypoint_score is not None) != has_score:
            raise DataError(f"{at}: keypoint_score is {'missing' if has_score else 'present'} while the "
                            f"first record {'has' if has_score else 'has none'}")
    if layout is not None and get_layout(layout).num_joints != joints:
        raise DataError(f"{where}: layout {layout!r} has {get_layout(layout).num_joints} joints, the "
                        f"records {joints}")
    names = [r.frame_dir for r in records]
    known = set(names)
    if len(known) != len(names):
        seen: set[str] = set()
        twice = next(n for n in names if n in seen or seen.add(n))
        raise DataError(f"{where}: frame_dir {twice!r} names two records; samples are found by frame_dir")
    if splits:
        for split, members in splits.items():
            missing = [m for m in members if m not in known]
            if missing:
                raise DataError(f"{where}: split {split!r} names {len(missing)} unknown record(s), e.g. "
                                f"{missing[0]!r}")

    _prepare_target(target)
    rows = sum(r.num_persons * r.total_frames for r in records)
    entries = []
    tmp = {name: target / f".{name}.tmp" for name in (KEYPOINT, KEYPOINT_SCORE, INDEX)}
    kp_out = np.lib.format.open_memmap(tmp[KEYPOINT], mode="w+", dtype=np.float32, shape=(rows, joints, coords))
    score_out = np.lib.format.open_memmap(tmp[KEYPOINT_SCORE], mode="w+", dtype=np.float32,
                                          shape=(rows, joints)) if has_score else None
    start = 0
    for r in records:
        n = r.num_persons * r.total_frames
        kp_out[start:start + n] = r.keypoint.reshape(n, joints, coords)
        if score_out is not None:
            score_out[start:start + n] = r.keypoint_score.reshape(n, joints)
        entries.append({"frame_dir": r.frame_dir, "label": r.label, "img_shape": list(r.img_shape),
                        "original_shape": list(r.original_shape or r.img_shape),
                        "total_frames": r.total_frames, "num_persons": r.num_persons, "start": start})
        start += n
    kp_out.flush()
    del kp_out
    if score_out is not None:
        score_out.flush()
        del score_out
    index = {"format": FORMAT, "version": VERSION, "layout": layout, "num_joints": int(joints),
             "coords": int(coords), "has_score": has_score,
             "splits": {k: list(v) for k, v in (splits or {}).items()}, "records": entries}
    tmp[INDEX].write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp[KEYPOINT], target / KEYPOINT)
    if has_score:
        os.replace(tmp[KEYPOINT_SCORE], target / KEYPOINT_SCORE)
    elif (target / KEYPOINT_SCORE).exists():
        (target / KEYPOINT_SCORE).unlink()
    os.replace(tmp[INDEX], target / INDEX)
    return {"index": str(target / INDEX), "records": len(records), "rows": rows, "layout": layout,
            "num_joints": int(joints), "coords": int(coords), "has_score": has_score,
            "splits": {k: len(v) for k, v in (splits or {}).items()}}


# --------------------------------------------------------------------------------------------
# Reading


@attrs.frozen
class IndexEntry:
    """One record of an index: where its rows are and its annotation values."""

    position: int
    frame_dir: str
    label: int | None
    img_shape: tuple[int, int]
    original_shape: tuple[int, int]
    total_frames: int
    num_persons: int
    start: int


class PoseStore:
    """An opened pose store: the parsed index and memory-mapped arrays.

    ``root`` is the folder holding the arrays (default: the index's folder).
    """

    def __init__(self, index_path: str | os.PathLike, root: str | os.PathLike | None = None):
        self.index_path = str(index_path)
        path = Path(index_path)
        if path.suffix.lower() in PICKLE_SUFFIXES:
            raise DataError(f"{path}: a pickle, which actioncore never reads directly; convert it once with "
                            "actioncore data convert-pose IN.pkl OUT --trust-pickle and use OUT/index.json",
                            path=str(path))
        try:
            index = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"{path}: pose index not found (relative paths start at {os.getcwd()})",
                            path=str(path)) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{path}: cannot read the pose index: {exc}", path=str(path)) from None
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            raise DataError(f"{path}: not a pose store index (no \"format\": \"{FORMAT}\")", path=str(path))
        if index.get("version") != VERSION:
            raise DataError(f"{path}: pose store version {index.get('version')!r}; this plugin reads {VERSION}",
                            path=str(path))
        self.layout: str | None = index.get("layout")
        self.num_joints = int(index["num_joints"])
        self.coords = int(index["coords"])
        self.has_score = bool(index["has_score"])
        self.splits: dict[str, list[str]] = {k: list(v) for k, v in index.get("splits", {}).items()}
        folder = Path(root) if root else path.parent
        self.keypoint = self._array(folder / KEYPOINT, (self.num_joints, self.coords))
        self.keypoint_score = self._array(folder / KEYPOINT_SCORE, (self.num_joints,)) if self.has_score else None
        if self.keypoint_score is not None and len(self.keypoint_score) != len(self.keypoint):
            raise DataError(f"{folder / KEYPOINT_SCORE}: {len(self.keypoint_score)} rows, {KEYPOINT} has "
                            f"{len(self.keypoint)}", path=str(folder))
        self.entries = [self._entry(i, raw) for i, raw in enumerate(index.get("records", []))]
        self.by_name = {e.frame_dir: e for e in self.entries}

    def _array(self, path: Path, row_shape: tuple[int, ...]) -> np.ndarray:
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise DataError(f"{path}: missing array of the pose store {self.index_path}", path=str(path)) from None
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: cannot read the array: {exc}", path=str(path)) from None
        if array.dtype != np.float32 or array.shape[1:] != row_shape:
            raise DataError(f"{path}: float32 rows of shape {list(row_shape)} expected, got {array.dtype} "
                            f"{list(array.shape)}", path=str(path))
        return array

    def _entry(self, position: int, raw: Any) -> IndexEntry:
        where = f"{self.index_path}: record {position}"
        try:
            name = str(raw["frame_dir"])
            where = f"{where} (frame_dir {name!r})"
            label = raw.get("label")
            entry = IndexEntry(position, name, None if label is None else int(label),
                               _shape(raw["img_shape"], where, "img_shape"),
                               _shape(raw.get("original_shape") or raw["img_shape"], where, "original_shape"),
                               int(raw["total_frames"]), int(raw["num_persons"]), int(raw["start"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where}: malformed index entry ({type(exc).__name__}: {exc})",
                            path=self.index_path) from None
        if entry.num_persons <= 0:
            raise DataError(f"{where}: zero persons", path=self.index_path)
        if entry.total_frames <= 0:
            raise DataError(f"{where}: zero frames", path=self.index_path)
        end = entry.start + entry.num_persons * entry.total_frames
        if entry.start < 0 or end > len(self.keypoint):
            raise DataError(f"{where}: rows [{entry.start}, {end}) lie outside the {len(self.keypoint)} "
                            "rows of the arrays", path=self.index_path)
        return entry

    def select(self, split: str | None) -> list[IndexEntry]:
        """The entries of ``split`` in its listed order (all entries for None)."""
        if split is None:
            return list(self.entries)
        if split not in self.splits:
            raise DataError(f"{self.index_path}: no split {split!r}; splits: "
                            f"{', '.join(self.splits) or 'none (leave split unset to use every record)'}",
                            path=self.index_path)
        missing = [n for n in self.splits[split] if n not in self.by_name]
        if missing:
            raise DataError(f"{self.index_path}: split {split!r} names unknown record {missing[0]!r}",
                            path=self.index_path)
        return [self.by_name[n] for n in self.splits[split]]

    def arrays(self, entry: IndexEntry) -> tuple[np.ndarray, np.ndarray | None]:
        """Checked float32 copies ``keypoint [M, T, V, C]`` and ``keypoint_score [M, T, V]`` (or None)."""
        rows = slice(entry.start, entry.start + entry.num_persons * entry.total_frames)
        shape = (entry.num_persons, entry.total_frames)
        kp = np.array(self.keypoint[rows]).reshape(*shape, self.num_joints, self.coords)
        score = None
        if self.keypoint_score is not None:
            score = np.array(self.keypoint_score[rows]).reshape(*shape, self.num_joints)
        return check_pose(kp, score, f"{self.index_path}#{entry.frame_dir}")

    def records(self, entries: Iterable[IndexEntry] | None = None) -> Iterable[PoseRecord]:
        """Whole records (arrays loaded), e.g. to copy a store."""
        for entry in self.entries if entries is None else entries:
            kp, score = self.arrays(entry)
            yield PoseRecord(entry.frame_dir, entry.label, entry.img_shape, kp, score, entry.original_shape)
