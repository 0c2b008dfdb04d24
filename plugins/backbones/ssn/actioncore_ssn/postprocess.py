"""From per-proposal scores to labelled detections (MMAction2 0.24's ``SSNDataset.evaluate``).

1. ``score = softmax(activity[:, 1:]) * exp(completeness)`` per proposal and class;
2. the ``top_k`` best (proposal, class) pairs over the video (2000 in the THUMOS14 config);
3. location regression: centre ``+= length * dc``, length ``*= exp(dl)``, clipped to the video;
4. temporal NMS per class (a detection suppresses those with tIoU > ``nms``, 0.2).

Everything is in fractions of the video, as 0.24; :func:`video_detections` gives frames.
"""
from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def top_detections(relative_proposals: np.ndarray, activity: np.ndarray, completeness: np.ndarray,
                   regression: np.ndarray | None, *, top_k: int) -> dict[int, np.ndarray]:
    """``{class index: [M, 5] rows (start, end, score, dc, dl)}`` of the ``top_k`` best pairs
    (every proposal for every class when ``top_k <= 0``)."""
    num_classes = activity.shape[1] - 1
    combined = softmax(activity[:, 1:]) * np.exp(completeness)
    if regression is None:
        regression = np.zeros((len(relative_proposals), num_classes, 2), dtype=np.float32)
    regression = regression.reshape(-1, num_classes, 2)
    flat = np.argsort(combined.ravel())
    keep = flat if top_k <= 0 else flat[-top_k:]
    out: dict[int, list] = {}
    for k in keep:
        proposal, label = divmod(int(k), num_classes)
        out.setdefault(label, []).append([*relative_proposals[proposal, :2], combined[proposal, label],
                                          *regression[proposal, label]])
    return {label: np.asarray(rows, dtype=np.float64) for label, rows in out.items()}


def perform_regression(rows: np.ndarray) -> np.ndarray:
    """Apply ``(dc, dl)`` of rows ``(start, end, score, dc, dl)``; boundaries clipped to [0, 1]."""
    centres = (rows[:, 0] + rows[:, 1]) / 2
    lengths = rows[:, 1] - rows[:, 0]
    centres = centres + lengths * rows[:, 3]
    lengths = lengths * np.exp(rows[:, 4])
    return np.concatenate([np.clip(centres - lengths / 2, 0, 1)[:, None],
                           np.clip(centres + lengths / 2, 0, 1)[:, None], rows[:, 2:]], axis=1)


def temporal_nms(rows: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS on rows ``(start, end, score, ...)``: keep the best, drop tIoU > ``threshold``."""
    order = rows[:, 2].argsort()[::-1]
    keep = []
    while order.size:
        best = order[0]
        keep.append(best)
        rest = order[1:]
        inter = np.maximum(np.minimum(rows[rest, 1], rows[best, 1]) - np.maximum(rows[rest, 0], rows[best, 0]), 0)
        union = (rows[rest, 1] - rows[rest, 0]) - inter + (rows[best, 1] - rows[best, 0])
        order = rest[inter / union <= threshold]
    return rows[keep]


def video_detections(relative_proposals: np.ndarray, activity: np.ndarray, completeness: np.ndarray,
                     regression: np.ndarray | None, *, top_k: int, nms: float,
                     use_regression: bool) -> list[tuple[int, float, float, float]]:
    """``(class index, start, end, score)`` of one video, fractions of it, best score first."""
    out = []
    for label, rows in top_detections(relative_proposals, activity, completeness, regression, top_k=top_k).items():
        if use_regression:
            rows = perform_regression(rows)
        out += [(label, float(r[0]), float(r[1]), float(r[2])) for r in temporal_nms(rows, nms)]
    return sorted(out, key=lambda d: -d[3])
