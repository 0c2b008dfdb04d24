"""Recognition metrics with MMAction2 1.2.0's definitions, vectorised over samples and classes.

Every metric component takes typed keyword-only ``__init__`` parameters (its TOML schema) and is
called as ``metric(scores, labels) -> {name: float}`` where

- ``scores`` is a float ``[N, num_classes]`` array: one row per sample, already averaged over
  clips and crops (a CPU ``torch.Tensor`` is accepted too);
- ``labels`` is either int ``[N]`` class indices (single-label data) or a ``{0, 1}``
  ``[N, num_classes]`` multi-hot matrix (multi-label data).

Values are fractions in ``[0, 1]``. Bad input raises :class:`ValueError` naming the metric and the
problem. Definitions, and where they are subtle, follow ``mmaction.evaluation.functional`` and
``mmaction.evaluation.metrics.AccMetric`` of MMAction2 1.2.0:

``top_k_accuracy``
    A sample counts when its label is among the ``k`` classes that an ascending ``argsort`` puts
    last. Among classes with equal scores the one with the *higher* index ranks first: that is
    what MMAction2 gets from NumPy's ``argsort`` on rows of up to 16 classes (an insertion sort,
    stable). On wider rows NumPy's default sort is not stable, so MMAction2's choice among exact
    ties there depends on the NumPy build; we keep the same deterministic rule for every width.
``mean_class_accuracy``
    The prediction is ``argmax`` (the *lowest* index among tied maxima, unlike top-k). Per-class
    recall is averaged over every class that occurs in the labels *or in the predictions*: a
    class that is predicted but has no sample counts as 0 (MMAction2 builds its confusion matrix
    over the union of both), while a class absent from both is left out.
``mean_average_precision``
    Per class, the step-wise average precision of MMAction2's ``binary_precision_recall_curve``:
    ``sum over distinct score thresholds (descending) of (R_t - R_{t-1}) * P_t``; equal scores form
    one threshold, so tied samples share the precision reached after the whole tie. Without ties
    this is the mean, over the positives, of the precision at each positive's rank. Classes with
    no positive sample are skipped; with none left the result is NaN (as in MMAction2).
``mmit_mean_average_precision``
    The same average precision per *sample* (ranking the classes of that sample), averaged over
    all samples. As in MMAction2 no sample is skipped: one without any positive label makes the
    result NaN.

Both mAP metrics also take single-label ``[N]`` indices, read as one-hot rows.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .confusion import render_confusion_matrix

__all__ = [
    "METRICS",
    "MMITMeanAveragePrecision",
    "MeanAveragePrecision",
    "MeanClassAccuracy",
    "TopKAccuracy",
    "confusion_matrix",
    "render_confusion_matrix",
]


# --------------------------------------------------------------------------------------------
# Input checks


def _to_numpy(value: Any, what: str, metric: str) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch.Tensor, without importing torch
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{metric}: {what} cannot be read as an array ({exc})") from None


def _check_scores(scores: Any, metric: str) -> np.ndarray:
    array = _to_numpy(scores, "scores", metric)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{metric}: scores must be real numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"{metric}: scores must be a [N, num_classes] array (one row per sample), "
            f"got shape {list(array.shape)}"
        )
    n, c = array.shape
    if n == 0:
        raise ValueError(f"{metric}: no samples to evaluate (scores has 0 rows)")
    if c == 0:
        raise ValueError(f"{metric}: scores has 0 classes (columns)")
    array = array.astype(np.float64, copy=False)
    if np.isnan(array).any():
        rows = np.unique(np.nonzero(np.isnan(array))[0])
        raise ValueError(f"{metric}: scores contain NaN (in rows {rows[:10].tolist()}"
                         f"{' ...' if rows.size > 10 else ''})")
    return array


def _check_index_labels(labels: np.ndarray, num_samples: int, num_classes: int,
                        metric: str, what: str = "labels") -> np.ndarray:
    if labels.dtype.kind not in "iu":
        raise ValueError(f"{metric}: {what} must be integer class indices, got dtype {labels.dtype}")
    if labels.shape != (num_samples,):
        raise ValueError(
            f"{metric}: {what} has shape {list(labels.shape)} but scores have {num_samples} "
            f"rows; expected [{num_samples}]"
        )
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"{metric}: {what} value {int(labels[first])} (sample {first}) is outside "
            f"[0, {num_classes}) for {num_classes} classes"
        )
    return labels.astype(np.int64, copy=False)


def _single_labels(scores: Any, labels: Any, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Scores ``[N, C]`` and int64 labels ``[N]``; multi-hot labels are refused."""
    s = _check_scores(scores, metric)
    y = _to_numpy(labels, "labels", metric)
    if y.ndim == 2:
        raise ValueError(
            f"{metric}: needs single-label class indices of shape [N], got a "
            f"{list(y.shape)} multi-hot matrix; use mean_average_precision or "
            f"mmit_mean_average_precision for multi-label data"
        )
    return s, _check_index_labels(y, s.shape[0], s.shape[1], metric)


def _multi_hot(scores: Any, labels: Any, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Scores ``[N, C]`` and a bool positives matrix ``[N, C]`` (indices ``[N]`` become one-hot)."""
    s = _check_scores(scores, metric)
    n, c = s.shape
    y = _to_numpy(labels, "labels", metric)
    if y.ndim == 1:
        y = _check_index_labels(y, n, c, metric)
        positives = np.zeros((n, c), dtype=bool)
        positives[np.arange(n), y] = True
        return s, positives
    if y.ndim != 2 or y.shape != s.shape:
        raise ValueError(
            f"{metric}: labels must be a multi-hot [N, num_classes] matrix of the scores' shape "
            f"{list(s.shape)} (or class indices [N]), got shape {list(y.shape)}"
        )
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{metric}: labels must be 0/1 numbers, got dtype {y.dtype}")
    if y.dtype.kind != "b":
        bad = (y != 0) & (y != 1)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f"{metric}: multi-hot labels must be 0 or 1, got {y[i, j]!r} at sample {i}, class {j}"
            )
    return s, y.astype(bool)


# --------------------------------------------------------------------------------------------
# Shared arithmetic


def _tie_rank(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """0-based rank of each sample's label in a descending order where ties go to the higher index.

    This is the position of the label in ``np.argsort(row, kind="stable")[::-1]``, computed
    without sorting: the classes ranked above label ``y`` are those scoring more, plus those
    scoring the same with a larger index.
    """
    n, c = scores.shape
    label_score = scores[np.arange(n), labels][:, None]
    higher_index = np.arange(c)[None, :] > labels[:, None]
    above = (scores > label_score) | ((scores == label_score) & higher_index)
    return above.sum(axis=1)


def _average_precision(scores: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """Step-wise average precision of every row: ``[K, M] -> [K]`` (NaN for a row without positives).

    Each row is one ranking of M items. A run of equal scores is one threshold, as in MMAction2's
    ``binary_precision_recall_curve``: ``AP = sum over runs of positives_in_run * precision_at_run_end
    / positives``. The order inside a run does not matter, so the sort need not be stable.
    """
    scores = np.ascontiguousarray(scores)
    k, m = scores.shape
    order = np.argsort(-scores, axis=1)
    ranked = np.take_along_axis(scores, order, axis=1)
    hits = np.take_along_axis(np.ascontiguousarray(positives), order, axis=1)
    count = np.int32 if m < 2**31 else np.int64
    true_pos = np.cumsum(hits, axis=1, dtype=count)
    run_end = np.ones((k, m), dtype=bool)
    np.not_equal(ranked[:, :-1], ranked[:, 1:], out=run_end[:, :-1])
    run_start = np.ones((k, m), dtype=bool)
    run_start[:, 1:] = run_end[:, :-1]
    # true positives before the current run (true_pos is non-decreasing, so a running max
    # carries the value from the run's first item forward)
    before_run = np.where(run_start, true_pos - hits, 0).astype(count, copy=False)
    np.maximum.accumulate(before_run, axis=1, out=before_run)
    # only run ends that hold a positive contribute
    rows, cols = np.nonzero(run_end & (true_pos > before_run))
    tp_end = true_pos[rows, cols].astype(np.float64)
    gain = (tp_end - before_run[rows, cols]) * tp_end / (cols + 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(rows, weights=gain, minlength=k) / true_pos[:, -1]


# --------------------------------------------------------------------------------------------
# Metric components


class TopKAccuracy:
    """Fraction of samples whose label is among the k best-scored classes, for each k.

    Returns ``{"top1": ..., "top5": ...}`` (one ``top{k}`` per entry of ``topk``). A ``k`` larger
    than the number of classes counts every sample as a hit, as in MMAction2.
    """

    def __init__(self, *, topk: tuple[int, ...] = (1, 5)) -> None:
        if isinstance(topk, (int, np.integer)) and not isinstance(topk, bool):
            topk = (int(topk),)
        ks = tuple(topk)
        if not ks:
            raise ValueError("top_k_accuracy: topk must name at least one k")
        for k in ks:
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
                raise ValueError(f"top_k_accuracy: every k in topk must be an integer >= 1, got {k!r}")
        self.topk = tuple(int(k) for k in ks)

    def __call__(self, scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        s, y = _single_labels(scores, labels, "top_k_accuracy")
        rank = _tie_rank(s, y)
        return {f"top{k}": float(np.mean(rank < k)) for k in self.topk}

    def __repr__(self) -> str:
        return f"TopKAccuracy(topk={self.topk})"


class MeanClassAccuracy:
    """Mean of per-class recall of the argmax prediction, MMAction2's ``mean_class_accuracy``.

    Averaged over the classes that occur in the labels or in the predictions; a predicted class
    without samples contributes 0 (see the module docstring).
    """

    def __init__(self) -> None:
        pass

    def __call__(self, scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        s, y = _single_labels(scores, labels, "mean_class_accuracy")
        c = s.shape[1]
        pred = np.argmax(s, axis=1)
        count = np.bincount(y, minlength=c)
        hit = np.bincount(y[pred == y], minlength=c)
        involved = (count > 0) | (np.bincount(pred, minlength=c) > 0)
        recall = np.divide(hit, count, out=np.zeros(c), where=count > 0)
        return {"mean_class_accuracy": float(recall[involved].mean())}

    def __repr__(self) -> str:
        return "MeanClassAccuracy()"


class MeanAveragePrecision:
    """Average precision of each class over the samples, averaged over classes with a positive."""

    def __init__(self) -> None:
        pass

    def __call__(self, scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        s, positives = _multi_hot(scores, labels, "mean_average_precision")
        ap = _average_precision(s.T, positives.T)
        ap = ap[~np.isnan(ap)]
        return {"mean_average_precision": float(ap.mean()) if ap.size else float("nan")}

    def __repr__(self) -> str:
        return "MeanAveragePrecision()"


class MMITMeanAveragePrecision:
    """Average precision of each sample over its classes, averaged over samples (Multi-Moments in Time)."""

    def __init__(self) -> None:
        pass

    def __call__(self, scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        s, positives = _multi_hot(scores, labels, "mmit_mean_average_precision")
        ap = _average_precision(s, positives)
        return {"mmit_mean_average_precision": float(ap.mean())}

    def __repr__(self) -> str:
        return "MMITMeanAveragePrecision()"


METRICS = {
    "top_k_accuracy": TopKAccuracy,
    "mean_class_accuracy": MeanClassAccuracy,
    "mean_average_precision": MeanAveragePrecision,
    "mmit_mean_average_precision": MMITMeanAveragePrecision,
}
"""Metric components of the recognition task, by the names MMAction2's ``AccMetric`` uses."""


# --------------------------------------------------------------------------------------------
# Confusion matrix


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``[num_classes, num_classes]`` (int64): row = true class, column = predicted class.

    Unlike MMAction2's helper, every class keeps its row and column (no relabelling to the
    classes that occur), so the matrix is the same size on every evaluation.
    """
    name = "confusion_matrix"
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"{name}: num_classes must be an integer >= 1, got {num_classes!r}")
    c = int(num_classes)
    p = _to_numpy(pred, "pred", name)
    y = _to_numpy(labels, "labels", name)
    if p.ndim != 1 or y.ndim != 1:
        raise ValueError(f"{name}: pred and labels must be 1-D class indices, got shapes "
                         f"{list(p.shape)} and {list(y.shape)}")
    if p.shape != y.shape:
        raise ValueError(f"{name}: pred has {p.shape[0]} entries but labels has {y.shape[0]}")
    p = _check_index_labels(p, p.shape[0], c, name, what="pred")
    y = _check_index_labels(y, y.shape[0], c, name, what="labels")
    return np.bincount(y * c + p, minlength=c * c).reshape(c, c).astype(np.int64)
