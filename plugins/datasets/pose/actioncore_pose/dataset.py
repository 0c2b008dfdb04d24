"""The ``pose_records`` dataset and the ``pose_records`` decoder that opens its records.

The kernel's :class:`~actioncore.data.dataset.ClipDataset` opens every sample's ``source`` with
the experiment's decoder before the pipeline runs; for pose data that "decoder" opens a record
of a pose store: ``source`` is ``INDEX#frame_dir`` and the reader hands the pipeline the
record's arrays. Seeding, ``on_error = "skip"`` and bad-sample reports therefore work as for
videos, and ``actioncore data check`` reads every record (which checks it for NaNs).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actioncore.sdk.data import ClipRecord, PICKLE_SUFFIXES
from actioncore.sdk import DataError, Transform

from .records import INDEX, IndexEntry, PoseStore
from .state import PoseState

SEPARATOR = "#"
"""Between the index path and the record's ``frame_dir`` in a sample's source."""


def _index_path(ann_file: str, root: str) -> str:
    path = Path(root, ann_file) if root and not os.path.isabs(ann_file) else Path(ann_file)
    if path.is_dir():
        path = path / INDEX
    if path.suffix.lower() != ".json" and path.suffix.lower() not in PICKLE_SUFFIXES:  # PoseStore explains pickles
        raise DataError(f"{path}: a pose store's {INDEX} (or its folder) expected", path=str(path))
    return str(path)


def split_source(source: str) -> tuple[str, str]:
    """``INDEX#frame_dir`` -> ``(INDEX, frame_dir)``; the index path ends in ``.json``."""
    index, sep, frame_dir = source.partition(".json" + SEPARATOR)
    if not sep:
        raise DataError(f"{source}: not a pose record reference (expected 'path/{INDEX}{SEPARATOR}frame_dir')",
                        path=source)
    return index + ".json", frame_dir


class PoseRecords:
    """Pose records of a store (written by ``actioncore data convert-pose`` or ``data synth skeleton``).

    ``ann_file`` is the store's ``index.json`` or its folder, relative to ``root`` when ``root`` is
    set; ``split`` picks a named split (``xsub_train``, ``train``...), every record when unset.
    """

    default_decoder = "pose_records"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = "", split: str | None = None):
        self.ann_file = _index_path(ann_file, root)
        self.split = split
        self.pipeline = list(pipeline)
        store = PoseStore(self.ann_file)
        self.layout = store.layout
        entries = store.select(split)
        if not entries:
            raise DataError(f"{self.ann_file}: {'split ' + repr(split) if split else 'the store'} lists no records",
                            path=self.ann_file)
        self.records = [ClipRecord(f"{self.ann_file}{SEPARATOR}{e.frame_dir}", e.label, num_frames=e.total_frames)
                        for e in entries]

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"PoseRecords({self.ann_file!r}, split={self.split!r}, {len(self.records)} records)"


class PoseReader:
    """One open pose record; the context-manager protocol of the kernel's video readers."""

    fps = float("nan")
    channels = 0

    def __init__(self, source: str, store: PoseStore, entry: IndexEntry):
        self.path = source
        self.store = store
        self.entry = entry
        self.num_frames = entry.total_frames
        self.height, self.width = entry.img_shape

    def pose(self) -> PoseState:
        """The record's arrays (checked, float32 copies) as a fresh pipeline state."""
        keypoint, score = self.store.arrays(self.entry)
        return PoseState(keypoint, score, self.entry.img_shape, self.entry.original_shape, self.store.layout)

    def read(self, indices: Any) -> torch.Tensor:
        """Keypoints of frames ``indices`` as float32 ``[N, M, V, C]`` (frame-major), for data checks."""
        wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
        bad = wanted[(wanted < 0) | (wanted >= self.num_frames)]
        if bad.size:
            raise DataError(f"{self.path}: frame index {int(bad[0])} is out of range; the record has "
                            f"{self.num_frames} frames", path=self.path)
        keypoint, _ = self.store.arrays(self.entry)
        return torch.from_numpy(np.ascontiguousarray(keypoint[:, wanted].transpose(1, 0, 2, 3)))

    def close(self) -> None:
        pass

    def __enter__(self) -> PoseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PoseDecoder:
    """Opens ``INDEX#frame_dir`` sources; each process keeps its stores open (memory-mapped)."""

    def __init__(self) -> None:
        self._stores: dict[str, PoseStore] = {}

    def open(self, source: str) -> PoseReader:
        index, frame_dir = split_source(str(source))
        store = self._stores.get(index)
        if store is None:
            store = self._stores[index] = PoseStore(index)
        entry = store.by_name.get(frame_dir)
        if entry is None:
            raise DataError(f"{source}: the pose store has no record {frame_dir!r}", path=str(source))
        return PoseReader(str(source), store, entry)

    def __getstate__(self) -> dict[str, Any]:
        # workers open their own memory maps; shipping arrays through pickling would copy them
        return {"_stores": {}}

    def __repr__(self) -> str:
        return "PoseDecoder()"
