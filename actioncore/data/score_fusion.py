"""Late fusion of per-sample class scores: two-stream RGB + flow, 2s-AGCN joint + bone, audio + video.

Each stream is tested on its own with ``actioncore test EXP --checkpoint C --out F.json``; the
recognition task writes every sample's whole row of class ``scores`` there. The fused scores are
``sum_i w_i * scores_i`` over the files, sample by sample (what MMAction2's
``tools/analysis_tools/report_accuracy.py --coefficients`` does with its result pickles; its
``--apply-softmax`` is ``softmax=True``). MMAction2 reports two-stream TSN as "[1:1]" fusion of the
RGB and flow scores without softmax.

The files must describe the same test split: the same sample indices with the same labels, and
the same classes (names where both files name them, else the count). Anything else is a
:class:`DataError` naming the file, since silently pairing different samples gives a plausible
but meaningless accuracy.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from ..errors import DataError


@attrs.frozen(kw_only=True)
class ScoreFile:
    """One ``actioncore test --out`` file, samples sorted by their index in the split."""

    path: str
    split: str | None
    rows: list[dict[str, Any]]
    scores: np.ndarray
    """float64 ``[num_samples, num_classes]``."""
    classes: list[str] | None


def read_score_file(path: str | os.PathLike[str]) -> ScoreFile:
    """Read a predictions file; one without full ``scores`` rows (an older file with only the top
    5) or that is not such a file at all raises :class:`DataError` naming it."""
    path = os.fspath(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        rows = sorted(document["samples"], key=lambda row: int(row["index"]))
        scores = np.array([row["scores"] for row in rows], dtype=np.float64)
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}", path=path) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a predictions file with full class scores (write one with "
                        f"`actioncore test EXP --checkpoint C --out {Path(path).name}`): "
                        f"{type(exc).__name__}: {exc}", path=path) from None
    if scores.ndim != 2 or not rows:
        raise DataError(f"{path}: expected one row of class scores per sample, got shape "
                        f"{list(scores.shape)}", path=path)
    if not np.isfinite(scores).all():
        raise DataError(f"{path}: scores hold NaN or infinite values", path=path)
    classes = document.get("classes")
    return ScoreFile(path=path, split=document.get("split"), rows=rows, scores=scores,
                     classes=list(classes) if classes is not None else None)


def check_same_samples(first: ScoreFile, other: ScoreFile) -> None:
    """``other`` covers ``first``'s samples, labels and classes, else DataError naming ``other``."""
    where = f"{other.path}: does not match {first.path}"
    if len(other.rows) != len(first.rows):
        raise DataError(f"{where}: {len(other.rows)} samples against {len(first.rows)}", path=other.path)
    for mine, theirs in zip(first.rows, other.rows):
        if int(mine["index"]) != int(theirs["index"]):
            raise DataError(f"{where}: sample index {theirs['index']} where the first file has "
                            f"{mine['index']} (another split or list?)", path=other.path)
        if mine.get("label") != theirs.get("label"):
            raise DataError(f"{where}: sample {mine['index']} has label {theirs.get('label')} against "
                            f"{mine.get('label')} ({theirs.get('source')} vs {mine.get('source')})",
                            path=other.path)
    if other.scores.shape[1] != first.scores.shape[1]:
        raise DataError(f"{where}: {other.scores.shape[1]} classes against {first.scores.shape[1]}",
                        path=other.path)
    if first.classes is not None and other.classes is not None and first.classes != other.classes:
        differ = next(i for i, (a, b) in enumerate(zip(first.classes, other.classes)) if a != b)
        raise DataError(f"{where}: class {differ} is {other.classes[differ]!r} against "
                        f"{first.classes[differ]!r}", path=other.path)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so large logits do not overflow."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def fuse_scores(files: Sequence[ScoreFile], weights: Sequence[float] | None = None, *,
                apply_softmax: bool = False) -> np.ndarray:
    """``sum_i weights[i] * scores_i`` (each softmaxed first with ``apply_softmax``); the files
    are checked against the first (:func:`check_same_samples`). Default weights are all 1."""
    if not files:
        raise DataError("no score files to fuse")
    weights = [1.0] * len(files) if weights is None else [float(w) for w in weights]
    if len(weights) != len(files):
        raise DataError(f"{len(weights)} weights for {len(files)} score files: give one per file")
    for other in files[1:]:
        check_same_samples(files[0], other)
    fused = np.zeros_like(files[0].scores)
    for weight, file in zip(weights, files):
        fused += weight * (softmax(file.scores) if apply_softmax else file.scores)
    return fused


def fused_document(files: Sequence[ScoreFile], fused: np.ndarray, weights: Sequence[float], *,
                   apply_softmax: bool, topk: int = 5) -> dict[str, Any]:
    """A predictions file (the layout ``actioncore test --out`` writes) of the fused scores, with
    ``fused_from`` recording the inputs and weights; it can itself be fused again."""
    first = files[0]
    rows = [{"index": int(row["index"]), "source": row.get("source"), "label": row.get("label"),
             "predictions": top_predictions(scores, topk, first.classes), "scores": scores.tolist()}
            for row, scores in zip(first.rows, fused)]
    document: dict[str, Any] = {"split": first.split, "samples": rows,
                                "fused_from": [{"file": f.path, "weight": float(w)} for f, w in zip(files, weights)],
                                "apply_softmax": apply_softmax}
    if first.classes is not None:
        document["classes"] = first.classes
    return document


def labels_of(file: ScoreFile) -> np.ndarray:
    """The labels: class indices ``[N]``, or multi-hot rows ``[N, C]`` for multi-label splits."""
    try:
        return np.array([row["label"] for row in file.rows], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{file.path}: samples without usable labels ({type(exc).__name__}: {exc}); "
                        "fusion scores a labelled split", path=file.path) from None


def top_predictions(scores: np.ndarray, k: int, names: Sequence[str] | None) -> list[dict[str, Any]]:
    """The ``k`` best classes of one score row as ``{"label", "score"[, "name"]}``, best first
    (ties keep the lower class index first): the ``predictions`` of a predictions file."""
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    return [{"label": int(i), "score": float(scores[i]), **({"name": names[i]} if names else {})}
            for i in order]
