"""``actioncore fuse``: late fusion of the per-sample score files ``actioncore test --out`` writes.

Parser and handler live here (see :mod:`actioncore.data.score_fusion` for the arithmetic); the
metrics are the registered ``top_k_accuracy`` and ``mean_class_accuracy`` (multi-label files:
``mean_average_precision``) of the recognition task, built by name.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """The top-level ``fuse`` command."""
    from . import _add_json

    p = sub.add_parser("fuse", help="late fusion of per-sample score files (actioncore test --out): RGB + flow, "
                       "joint + bone, audio + video; weighted sum, top-1/top-5/mean class accuracy",
                       description="Adds the files' class scores sample by sample, each times its weight "
                                   "(MMAction2's report_accuracy.py --coefficients), and scores the result. "
                                   "The files must hold the same samples, labels and classes.")
    p.add_argument("scores", nargs="+", metavar="SCORES.json", help="files written by actioncore test --out")
    p.add_argument("--weights", nargs="+", type=float, metavar="W", help="one per file (default: all 1)")
    p.add_argument("--softmax", action="store_true", help="softmax each file's scores before weighting "
                   "(MMAction2's --apply-softmax; default: the scores as written)")
    p.add_argument("--out", metavar="FILE", help="write the fused scores here, in the same layout")
    _add_json(p)
    p.set_defaults(handler="fuse")


def fuse_metrics(scores: Any, labels: Any) -> dict[str, float]:
    """Top-1/top-5 accuracy and mean class accuracy (single label) or mAP (multi-hot labels)."""
    from ..api import build

    if labels.ndim == 2:
        return build("metric", "mean_average_precision")(scores, labels)
    return {**build("metric", "top_k_accuracy", topk=[1, 5])(scores, labels),
            **build("metric", "mean_class_accuracy")(scores, labels)}


def fuse(args: argparse.Namespace) -> int:
    from ..data.score_fusion import fuse_scores, fused_document, labels_of, read_score_file
    from .commands import _print_json

    files = [read_score_file(path) for path in args.scores]
    weights = args.weights if args.weights is not None else [1.0] * len(files)
    fused = fuse_scores(files, weights, apply_softmax=args.softmax)
    labels = labels_of(files[0])
    report: dict[str, Any] = {"samples": len(labels), "weights": [float(w) for w in weights],
                              "metrics": fuse_metrics(fused, labels),
                              "streams": {f.path: fuse_metrics(f.scores, labels) for f in files}}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(fused_document(files, fused, weights, apply_softmax=args.softmax),
                                             indent=1), encoding="utf-8")
        report["out"] = args.out
    if args.json:
        _print_json(report)
        return 0
    for path, metrics in report["streams"].items():
        print(f"{path}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    print(f"fused ({' + '.join(f'{w:g}' for w in report['weights'])}, {report['samples']} samples): "
          + ", ".join(f"{k} {v:.4f}" for k, v in report["metrics"].items()))
    if args.out:
        print(f"wrote {args.out}")
    return 0
