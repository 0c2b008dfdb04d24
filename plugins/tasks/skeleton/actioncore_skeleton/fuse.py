"""Late fusion of multi-stream skeleton models (2s-AGCN: joint + bone), by weighted class scores.

Each stream is tested on its own with predictions written out::

    actioncore test joint.toml --checkpoint joint.pth --out joint.json
    actioncore test bone.toml  --checkpoint bone.pth  --out bone.json
    python -m actioncore_skeleton.fuse joint.json bone.json --weights 1 1 [--json]

and the fused scores ``sum_i w_i * scores_i`` are scored with the recognition metrics (what
MMAction2's ``report_accuracy.py --coefficients`` does with its result pickles).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from actioncore.sdk import ActionCoreError, DataError
from actioncore_recognition import MeanClassAccuracy, TopKAccuracy


def _read(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indices, labels, scores)`` of a predictions file, sorted by sample index."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["samples"]
        indices = np.array([r["index"] for r in rows], dtype=np.int64)
        labels = np.array([r["label"] for r in rows], dtype=np.int64)
        scores = np.array([r["scores"] for r in rows], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a skeleton predictions file with full scores (write it with the skeleton "
                        f"task's `actioncore test --out`): {type(exc).__name__}: {exc}", path=str(path)) from None
    order = np.argsort(indices)
    return indices[order], labels[order], scores[order]


def fuse_predictions(paths: Sequence[str | Path], weights: Sequence[float] | None = None, *,
                     topk: tuple[int, ...] = (1, 5)) -> dict[str, float]:
    """Metrics of the weighted sum of the streams' scores; the files must cover the same samples."""
    if not paths:
        raise DataError("no predictions to fuse")
    weights = [1.0] * len(paths) if weights is None else [float(w) for w in weights]
    if len(weights) != len(paths):
        raise DataError(f"{len(weights)} weights for {len(paths)} prediction files")
    first_indices, labels, fused = _read(Path(paths[0]))
    fused = weights[0] * fused
    for path, weight in zip(paths[1:], weights[1:]):
        indices, other_labels, scores = _read(Path(path))
        if not (np.array_equal(indices, first_indices) and np.array_equal(other_labels, labels)):
            raise DataError(f"{path}: holds other samples or labels than {paths[0]}", path=str(path))
        if scores.shape != fused.shape:
            raise DataError(f"{path}: scores of shape {list(scores.shape)}, {paths[0]} {list(fused.shape)}",
                            path=str(path))
        fused = fused + weight * scores
    return {**TopKAccuracy(topk=topk)(fused, labels), **MeanClassAccuracy()(fused, labels)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actioncore_skeleton.fuse", description=__doc__.split("\n")[0])
    parser.add_argument("predictions", nargs="+", help="files written by actioncore test --out (skeleton task)")
    parser.add_argument("--weights", nargs="+", type=float, default=None, help="one per file (default: all 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    try:
        metrics = fuse_predictions(args.predictions, args.weights)
    except ActionCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(metrics))
    else:
        for name, value in metrics.items():
            print(f"{name}: {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
