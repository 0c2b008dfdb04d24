"""Detection mAP@tIoU against MMAction2 1.2.0's ActivityNet detection evaluation.

A measuring stick run by hand, never by CI. With the peers installed by ``shared/peers/setup.sh``:

    PYTHONPATH=/tmp/peers python benchmarks/parity/detection_map.py

Random ground truth (several videos and classes, segments of random length) and random detections
(some near a segment, some anywhere, ties in score avoided) are written in ActivityNet's file
formats for ``mmaction.evaluation.functional.ActivityNetLocalization`` and scored by
``actioncore_localization.detection_map.mean_average_precision``; prints the per-threshold mAPs of
both and their largest difference, and exits 1 above 1e-9.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from mmaction.evaluation.functional import ActivityNetLocalization

from actioncore_localization.detection_map import ACTIVITYNET_TIOU, Detection, mean_average_precision


def random_case(seed: int, videos: int = 30, classes: int = 6):
    rng = np.random.default_rng(seed)
    gt, detections = {}, []
    for v in range(videos):
        name = f"vid{v:03d}"
        count = int(rng.integers(1, 5))
        starts = rng.uniform(0, 100, count)
        segments = np.stack([starts, starts + rng.uniform(2, 30, count)], axis=1)
        labels = [f"class{int(c)}" for c in rng.integers(0, classes, count)]
        gt[name] = (segments, labels)
        for segment, label in zip(segments, labels):
            for _ in range(int(rng.integers(0, 4))):  # near the segment: some hits, some duplicates
                jitter = rng.normal(0, 3, 2)
                detections.append(Detection(name, float(segment[0] + jitter[0]), float(segment[1] + jitter[1]),
                                            label if rng.random() < 0.8 else f"class{int(rng.integers(0, classes))}",
                                            float(rng.random())))
        for _ in range(int(rng.integers(0, 4))):  # anywhere
            start = float(rng.uniform(0, 100))
            detections.append(Detection(name, start, start + float(rng.uniform(1, 30)),
                                        f"class{int(rng.integers(0, classes))}", float(rng.random())))
    return gt, detections


def mmaction2_map(gt, detections, folder: Path) -> np.ndarray:
    gt_file, pred_file = folder / "gt.json", folder / "pred.json"
    gt_file.write_text(json.dumps({f"v_{video}": {"annotations": [
        {"segment": [float(s[0]), float(s[1])], "label": label} for s, label in zip(segments, labels)]}
        for video, (segments, labels) in gt.items()}))
    results: dict[str, list] = {video: [] for video in gt}
    for det in detections:
        results[det.video].append({"segment": [det.start, det.end], "label": det.label, "score": det.score})
    pred_file.write_text(json.dumps({"results": results}))
    evaluator = ActivityNetLocalization(str(gt_file), str(pred_file), tiou_thresholds=np.array(ACTIVITYNET_TIOU))
    maps, _ = evaluator.evaluate()
    return np.asarray(maps)


def main() -> int:
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(5):
            gt, detections = random_case(seed)
            # classes only detected (never in the ground truth) are unknown to MMAction2's reader
            known = {label for _, labels in gt.values() for label in labels}
            detections = [d for d in detections if d.label in known]
            theirs = mmaction2_map(gt, detections, Path(tmp))
            ours = mean_average_precision(gt, detections, ACTIVITYNET_TIOU)
            diff = float(np.abs(theirs - ours).max())
            worst = max(worst, diff)
            print(json.dumps({"seed": seed, "detections": len(detections), "mmaction2": theirs.round(6).tolist(),
                              "actioncore": ours.round(6).tolist(), "max_abs_diff": diff}))
    print(json.dumps({"max_abs_diff": worst}))
    return 0 if worst <= 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
