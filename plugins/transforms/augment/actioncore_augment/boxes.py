"""Person-box files: per-frame ``[x1, y1, x2, y2, score]`` boxes of many videos, JSON or npz.

Both formats hold the same thing (see the plugin README, "Person-box files"):

- ``.json``: ``{"format": "actioncore-person-boxes", "version": 1, "videos": {KEY: {"frames":
  {"<0-based frame>": [[x1, y1, x2, y2, score], ...]}}}}``;
- ``.npz``: ``videos`` (str ``[V]``), ``frame_offsets`` (int64 ``[V+1]``), ``frame_index`` (int64
  ``[F]``, 0-based), ``box_offsets`` (int64 ``[F+1]``), ``boxes`` (float32 ``[M, 5]``): the rows of
  video ``v`` are ``frame_offsets[v]:frame_offsets[v+1]`` of ``frame_index``, the boxes of row ``f``
  are ``box_offsets[f]:box_offsets[f+1]`` of ``boxes``.

Coordinates are pixels of the video's decoded frames. ``KEY`` is the video's file name without
extension (a frame folder: its name), as MMAction2's ``frame_dir`` basename. Where basenames repeat
in a data set (the embedded set has ``square/train_0000.mp4`` and ``disc/train_0000.mp4``) a key
may be a longer tail of the path, ``square/train_0000``: :meth:`PersonBoxes.key_for` tries the
basename first, then ever longer tails. Frames without a person may be absent or empty.

Both load into the npz layout (compact CSR arrays, fast to share with loader workers). Never a
pickle: the original ``detections.npy`` converts once with ``actioncore data convert person_boxes``.
"""
from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import attrs
import numpy as np

from actioncore.sdk import DataError
from actioncore.sdk.data import find_key, video_key

FORMAT = "actioncore-person-boxes"
VERSION = 1
NPZ_KEYS = ("videos", "frame_offsets", "frame_index", "box_offsets", "boxes")

VideoBoxes = Mapping[int, np.ndarray]
"""One video's boxes: 0-based frame index -> float ``[K, 5]`` ``(x1, y1, x2, y2, score)``."""


@attrs.frozen(eq=False)
class PersonBoxes:
    """The boxes of a box file, in the npz layout, with lookups by video and frame."""

    path: str
    videos: np.ndarray
    frame_offsets: np.ndarray
    frame_index: np.ndarray
    box_offsets: np.ndarray
    boxes: np.ndarray
    rows: dict[str, int] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "rows", {str(k): i for i, k in enumerate(self.videos.tolist())})

    def key_for(self, source: str) -> str:
        """The key of the video at ``source``: its basename, else the shortest path tail listed."""
        key = find_key(source, self.rows)
        if key is None:
            raise DataError(f"{self.path}: no boxes for video {video_key(source)!r} ({source}); the box file "
                            f"lists {len(self.rows)} other videos (e.g. {', '.join(list(self.rows)[:3])})",
                            path=self.path)
        return key

    def frames(self, key: str) -> np.ndarray:
        """The 0-based frame indices of video ``key`` that have a row (sorted)."""
        row = self.rows[key]
        return self.frame_index[self.frame_offsets[row]:self.frame_offsets[row + 1]]

    def all_boxes(self, key: str) -> np.ndarray:
        """Every ``[x1, y1, x2, y2, score]`` row of video ``key``."""
        row = self.rows[key]
        first, last = self.frame_offsets[row], self.frame_offsets[row + 1]
        return self.boxes[self.box_offsets[first]:self.box_offsets[last]]

    def lookup(self, key: str, indices: np.ndarray) -> list[np.ndarray]:
        """float32 ``[K, 5]`` boxes of each frame in ``indices`` (``[0, 5]`` for frames without)."""
        row = self.rows[key]
        start = int(self.frame_offsets[row])
        listed = self.frame_index[start:self.frame_offsets[row + 1]]
        pos = np.searchsorted(listed, indices)
        out = []
        for frame, p in zip(np.asarray(indices).tolist(), pos.tolist()):
            if p < len(listed) and listed[p] == frame:
                f = start + p
                out.append(self.boxes[self.box_offsets[f]:self.box_offsets[f + 1]])
            else:
                out.append(np.zeros((0, 5), np.float32))
        return out

    def video(self, key: str) -> dict[int, np.ndarray]:
        frames = self.frames(key)
        return dict(zip(frames.tolist(), self.lookup(key, frames)))

    def to_dict(self) -> dict[str, dict[int, np.ndarray]]:
        return {key: self.video(key) for key in self.rows}


def pack(videos: Mapping[str, VideoBoxes], *, path: str = "<boxes>") -> PersonBoxes:
    """The npz layout of ``{key: {frame: [K, 5] boxes}}``; bad shapes or values raise DataError."""
    names, frame_offsets, frame_index, box_offsets, chunks = [], [0], [], [0], []
    for key, frames in videos.items():
        names.append(str(key))
        for frame in sorted(frames):
            where = f"{path}: video {key!r} frame {frame}"
            if int(frame) < 0:
                raise DataError(f"{where}: frame indices are 0-based and non-negative", path=path)
            try:
                rows = np.asarray(frames[frame], dtype=np.float32).reshape(-1, 5) \
                    if np.size(frames[frame]) else np.zeros((0, 5), np.float32)
            except (TypeError, ValueError):
                raise DataError(f"{where}: boxes must be [x1, y1, x2, y2, score] rows, got "
                                f"{np.shape(frames[frame])}", path=path) from None
            check_rows(rows, where, path)
            frame_index.append(int(frame))
            chunks.append(rows)
            box_offsets.append(box_offsets[-1] + len(rows))
        frame_offsets.append(len(frame_index))
    return PersonBoxes(path, np.array(names, dtype=str), np.array(frame_offsets, np.int64),
                       np.array(frame_index, np.int64), np.array(box_offsets, np.int64),
                       np.concatenate(chunks) if chunks else np.zeros((0, 5), np.float32))


def check_rows(rows: np.ndarray, where: str, path: str) -> None:
    if not np.isfinite(rows).all():
        raise DataError(f"{where}: boxes hold non-finite values", path=path)
    if ((rows[:, 2] < rows[:, 0]) | (rows[:, 3] < rows[:, 1])).any():
        raise DataError(f"{where}: a box with x2 < x1 or y2 < y1 (expected x1, y1, x2, y2, score)", path=path)


def _read_json(path: Path) -> PersonBoxes:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable person-box JSON file: {exc}", path=str(path)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("videos"), dict):
        raise DataError(f"{path}: not a person-box file (expected {{\"format\": \"{FORMAT}\", \"version\": "
                        f"{VERSION}, \"videos\": {{...}}}})", path=str(path))
    if doc.get("version") != VERSION:
        raise DataError(f"{path}: person-box format version {doc.get('version')!r}; this reader knows {VERSION}",
                        path=str(path))
    videos: dict[str, dict[int, list]] = {}
    for key, entry in doc["videos"].items():
        frames = entry.get("frames") if isinstance(entry, dict) else None
        if not isinstance(frames, dict):
            raise DataError(f"{path}: video {key!r} has no \"frames\" object", path=str(path))
        try:
            videos[key] = {int(frame): boxes for frame, boxes in frames.items()}
        except ValueError:
            raise DataError(f"{path}: video {key!r}: frame keys must be 0-based integers, got "
                            f"{sorted(frames)[:3]}", path=str(path)) from None
    return pack(videos, path=str(path))


def _read_npz(path: Path) -> PersonBoxes:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in NPZ_KEYS if k not in data]
            if missing:
                raise DataError(f"{path}: not a person-box npz file: no {', '.join(missing)} "
                                f"(expected {', '.join(NPZ_KEYS)})", path=str(path))
            arrays = {k: data[k] for k in NPZ_KEYS}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable person-box npz file: {exc}", path=str(path)) from None
    v, f, m = len(arrays["videos"]), len(arrays["frame_index"]), len(arrays["boxes"])
    shapes_ok = (arrays["videos"].ndim == 1 and arrays["frame_offsets"].shape == (v + 1,)
                 and arrays["box_offsets"].shape == (f + 1,) and arrays["boxes"].shape == (m, 5)
                 and arrays["frame_index"].ndim == 1)
    offsets_ok = shapes_ok and all(
        o[0] == 0 and o[-1] == total and (np.diff(o) >= 0).all()
        for o, total in ((arrays["frame_offsets"], f), (arrays["box_offsets"], m)))
    if not offsets_ok:
        raise DataError(f"{path}: inconsistent person-box arrays (shapes "
                        f"{ {k: a.shape for k, a in arrays.items()} }; offsets must start at 0, rise, and end "
                        "at the row counts)", path=str(path))
    boxes = PersonBoxes(str(path), arrays["videos"].astype(str), arrays["frame_offsets"].astype(np.int64),
                        arrays["frame_index"].astype(np.int64), arrays["box_offsets"].astype(np.int64),
                        arrays["boxes"].astype(np.float32))
    for key in boxes.rows:
        frames = boxes.frames(key)
        if (frames < 0).any() or (np.diff(frames) <= 0).any():
            raise DataError(f"{path}: video {key!r}: frame_index must be non-negative and increasing", path=str(path))
    check_rows(boxes.boxes, f"{path}: boxes", str(path))
    return boxes


def read_person_boxes(path: str | Path) -> PersonBoxes:
    """Read a ``.json`` or ``.npz`` box file; a missing or malformed file raises DataError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such person-box file", path=str(path))
    if path.suffix == ".json":
        return _read_json(path)
    if path.suffix == ".npz":
        return _read_npz(path)
    raise DataError(f"{path}: person-box files are .json or .npz (a detections.npy pickle converts with "
                    "`actioncore data convert person_boxes IN OUT.npz --trust-pickle`)", path=str(path))


def write_person_boxes(path: str | Path, videos: Mapping[str, VideoBoxes] | PersonBoxes) -> Path:
    """Write ``{key: {frame: [K, 5]}}`` (or read boxes) as ``.json`` or ``.npz``, by the suffix."""
    path = Path(path)
    packed = videos if isinstance(videos, PersonBoxes) else pack(videos, path=str(path))
    if path.suffix == ".npz":
        with path.open("wb") as f:
            np.savez_compressed(f, videos=packed.videos, frame_offsets=packed.frame_offsets,
                                frame_index=packed.frame_index, box_offsets=packed.box_offsets, boxes=packed.boxes)
    elif path.suffix == ".json":
        doc = {"format": FORMAT, "version": VERSION, "videos": {
            key: {"frames": {str(frame): [[round(float(x), 4) for x in row] for row in rows.tolist()]
                             for frame, rows in packed.video(key).items()}}
            for key in packed.rows}}
        path.write_text(json.dumps(doc, separators=(",", ":")))
    else:
        raise DataError(f"{path}: person-box files are .json or .npz", path=str(path))
    return path
