"""AVA's annotation files: action CSV, excluded timestamps, label map, person proposals.

| file | row | notes |
| --- | --- | --- |
| annotation CSV | ``video_id,timestamp,x1,y1,x2,y2,action_id,person_id`` | boxes normalised to [0, 1] |
| detections CSV | ``video_id,timestamp,x1,y1,x2,y2,action_id,score`` | what ``actioncore test --out`` writes |
| excluded timestamps | ``video_id,timestamp`` | keyframes that are never trained on nor evaluated |
| label map (pbtxt) | ``item { name: "..." id: N }`` | ``label_id:`` is accepted for ``id:`` |
| proposals CSV | ``video_id,timestamp,x1,y1,x2,y2[,score]`` | the safe form of MMAction2's proposal pickle |

A keyframe is named by its *image key* ``"video_id,TTTT"`` (timestamp zero-padded to 4 digits,
as MMAction2 and the official evaluation do). Every malformed row raises
:class:`~actioncore.errors.DataError` naming the file and line.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import attrs
import numpy as np

from actioncore.sdk import DataError


def image_key(video_id: str, timestamp: int) -> str:
    """``"video_id,0902"``: the keyframe name shared by annotations, proposals and results."""
    return f"{video_id},{int(timestamp):04d}"


def _rows(path: str | os.PathLike[str], what: str) -> Iterator[tuple[int, list[str]]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: {what} not found (relative paths start at {os.getcwd()})",
                        path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the {what}: {exc}", path=str(path)) from None
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        row = [field.strip() for field in row]
        if row and any(row) and not row[0].startswith("#"):
            yield number, row


def _number(path, line: int, value: str, kind: type, what: str):
    try:
        return kind(value)
    except ValueError:
        raise DataError(f"{path}:{line}: {what} must be {'an integer' if kind is int else 'a number'}, "
                        f"got {value!r}", path=str(path), line=line) from None


def _box(path, line: int, fields: list[str]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (_number(path, line, v, float, "box coordinates") for v in fields)
    if not all(0.0 <= v <= 1.0 for v in (x1, y1, x2, y2)):
        raise DataError(f"{path}:{line}: box ({x1}, {y1}, {x2}, {y2}) lies outside [0, 1]; AVA boxes "
                        "are normalised by the frame width and height", path=str(path), line=line)
    if x2 < x1 or y2 < y1:
        raise DataError(f"{path}:{line}: box ({x1}, {y1}, {x2}, {y2}) has x2 < x1 or y2 < y1",
                        path=str(path), line=line)
    return x1, y1, x2, y2


@attrs.frozen
class ActionBoxes:
    """Rows of (keyframe, box, action, score): ground truth (score 1) or detections.

    Columns are arrays of one length: ``video_id`` (str objects), ``timestamp`` int64,
    ``boxes`` float64 ``[N, 4]`` (x1, y1, x2, y2 normalised), ``action_id`` int64 (label-map
    ids), ``score`` float64, ``line`` int64 (1-based row in the file, 0 when not from a file).
    """

    video_id: np.ndarray
    timestamp: np.ndarray
    boxes: np.ndarray
    action_id: np.ndarray
    score: np.ndarray
    line: np.ndarray

    @classmethod
    def empty(cls) -> ActionBoxes:
        return cls.from_rows([])

    @classmethod
    def from_rows(cls, rows: list[tuple]) -> ActionBoxes:
        """From ``(video_id, timestamp, x1, y1, x2, y2, action_id, score[, line])`` tuples."""
        n = len(rows)
        video_id = np.empty(n, dtype=object)
        video_id[:] = [r[0] for r in rows]
        return cls(video_id=video_id,
                   timestamp=np.array([r[1] for r in rows], dtype=np.int64).reshape(n),
                   boxes=np.array([r[2:6] for r in rows], dtype=np.float64).reshape(n, 4),
                   action_id=np.array([r[6] for r in rows], dtype=np.int64).reshape(n),
                   score=np.array([r[7] for r in rows], dtype=np.float64).reshape(n),
                   line=np.array([r[8] if len(r) > 8 else 0 for r in rows], dtype=np.int64).reshape(n))

    def __len__(self) -> int:
        return len(self.timestamp)

    def keys(self) -> list[str]:
        return [image_key(v, t) for v, t in zip(self.video_id, self.timestamp)]

    def select(self, mask: np.ndarray) -> ActionBoxes:
        return ActionBoxes(self.video_id[mask], self.timestamp[mask], self.boxes[mask],
                           self.action_id[mask], self.score[mask], self.line[mask])


def read_action_csv(path: str | os.PathLike[str], *, with_scores: bool = False) -> ActionBoxes:
    """An AVA annotation CSV (``with_scores=False``: the 8th column is the person id, ignored
    here) or a detections CSV (8th column the score). Seven-column rows have score 1."""
    rows = []
    what = "detections CSV" if with_scores else "annotation CSV"
    for line, row in _rows(path, what):
        if len(row) not in (7, 8):
            raise DataError(f"{path}:{line}: expected 'video_id,timestamp,x1,y1,x2,y2,action_id,"
                            f"{'score' if with_scores else 'person_id'}', got {len(row)} columns",
                            path=str(path), line=line)
        timestamp = _number(path, line, row[1], int, "timestamp")
        box = _box(path, line, row[2:6])
        action = _number(path, line, row[6], int, "action_id")
        score = _number(path, line, row[7], float, "score") if with_scores and len(row) == 8 else 1.0
        rows.append((row[0], timestamp, *box, action, score, line))
    return ActionBoxes.from_rows(rows)


def write_action_csv(path: str | os.PathLike[str], boxes: ActionBoxes, *, decimals: int = 4) -> None:
    """Write detections as ``video_id,timestamp,x1,y1,x2,y2,action_id,score`` rows.

    Numbers get ``decimals`` places (MMAction2 writes 4); the timestamp is written zero-padded
    to 4 digits like AVA's own files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = f"{{:.{decimals}f}}"
    with path.open("w", encoding="utf-8", newline="") as f:
        for i in range(len(boxes)):
            numbers = ",".join(fmt.format(v) for v in boxes.boxes[i])
            f.write(f"{boxes.video_id[i]},{int(boxes.timestamp[i]):04d},{numbers},"
                    f"{int(boxes.action_id[i])},{fmt.format(boxes.score[i])}\n")


def read_exclusions(path: str | os.PathLike[str] | None) -> set[str]:
    """Image keys of the excluded-timestamps CSV (``video_id,timestamp`` rows)."""
    if path is None:
        return set()
    keys = set()
    for line, row in _rows(path, "excluded-timestamps CSV"):
        if len(row) != 2:
            raise DataError(f"{path}:{line}: expected 'video_id,timestamp', got {len(row)} columns",
                            path=str(path), line=line)
        keys.add(image_key(row[0], _number(path, line, row[1], int, "timestamp")))
    return keys


@attrs.frozen
class LabelMap:
    """Action ids and names of a label map, in file order."""

    ids: tuple[int, ...]
    names: tuple[str, ...]

    def name(self, action_id: int) -> str:
        return self.names[self.ids.index(action_id)] if action_id in self.ids else str(action_id)


def read_label_map(path: str | os.PathLike[str]) -> LabelMap:
    """A label map ``.pbtxt``: ``item { name: "..." id: N }`` blocks (``label_id`` also read).

    Like MMAction2's reader it takes the lines ``name: "..."`` and ``id: N`` / ``label_id: N``
    of each item; a name must come before its id.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read the label map: {exc}", path=str(path)) from None
    ids, names, name = [], [], None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("name:"):
            parts = line.split('"')
            if len(parts) < 3:
                raise DataError(f"{path}:{number}: expected name: \"...\", got {line!r}", path=str(path),
                                line=number)
            name = parts[1]
        elif line.startswith(("id:", "label_id:")):
            value = _number(path, number, line.split(":", 1)[1].strip(), int, "the id")
            if name is None:
                raise DataError(f"{path}:{number}: id {value} without a name before it", path=str(path),
                                line=number)
            if value in ids:
                raise DataError(f"{path}:{number}: id {value} appears twice", path=str(path), line=number)
            ids.append(value)
            names.append(name)
            name = None
    if not ids:
        raise DataError(f"{path}: the label map names no classes (expected item {{ name: \"...\" id: N }})",
                        path=str(path))
    return LabelMap(tuple(ids), tuple(names))


def read_proposals(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Proposals CSV -> ``{image key: float32 [P, 5]}`` (x1, y1, x2, y2, score; score 1 if absent).

    Boxes of one keyframe keep their file order (MMAction2 keeps the pickle's order, which
    ``actioncore data convert ava_proposals`` preserves).
    """
    grouped: dict[str, list[tuple[float, ...]]] = {}
    for line, row in _rows(path, "proposals CSV"):
        if len(row) not in (6, 7):
            raise DataError(f"{path}:{line}: expected 'video_id,timestamp,x1,y1,x2,y2[,score]', "
                            f"got {len(row)} columns", path=str(path), line=line)
        timestamp = _number(path, line, row[1], int, "timestamp")
        box = _box(path, line, row[2:6])
        score = _number(path, line, row[6], float, "score") if len(row) == 7 else 1.0
        grouped.setdefault(image_key(row[0], timestamp), []).append((*box, score))
    return {key: np.asarray(values, dtype=np.float32) for key, values in grouped.items()}


def write_proposals(path: str | os.PathLike[str], proposals: dict[str, np.ndarray]) -> int:
    """Write ``{image key: [P, 4 or 5]}`` as a proposals CSV; returns the number of rows.

    Numbers are written as the shortest text that reads back to the same float64 (``0.011``, not
    ``0.0109999999``), so reading the file gives what the source held.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        for key, values in proposals.items():
            for row in np.asarray(values, dtype=np.float64).reshape(-1, np.shape(values)[-1]):
                f.write(key + "," + ",".join(repr(float(v)) for v in row) + "\n")
                count += 1
    return count
