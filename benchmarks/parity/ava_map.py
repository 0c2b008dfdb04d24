"""Check the AVA frame-mAP against MMAction2 1.2.0's ``ava_eval`` on the same random detections,
and the ``ava`` dataset's keyframes and clips against MMAction2's ``AVADataset`` + ``SampleAVAFrames``.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/ava_map.py [--trials 6]

Data check: the embedded detection set (``actioncore data synth detection``, written to a
temporary folder) read by both, with and without a custom class subset: every keyframe's
ground-truth boxes, multi-hot labels, proposals and scores after ``person_det_score_thr``, and the
frame files of its test clip must be identical.

Each trial writes a random AVA-like set: a label map (with ids that skip numbers), a ground-truth
CSV whose keyframes hold 1-4 people doing 1-3 actions each (several rows per box, as AVA), an
excluded-timestamps CSV (keyframes without ground truth, as in AVA, plus keyframes that only have
detections), and a detections CSV written by our own writer: jittered copies of the ground-truth
boxes and random boxes, random scores, 4 decimals (so that tied scores occur, as in MMAction2's
own result files). Half the trials evaluate a custom class subset. MMAction2's ``ava_eval`` and
our :class:`~actioncore_detection.frame_map.AvaFrameMAP` score the same files; every per-class AP
and the overall mAP must agree to ``--atol`` (1e-6). Prints a JSON summary; exits 1 otherwise.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from actioncore_detection.annotations import (ActionBoxes, read_action_csv, read_exclusions, read_label_map,
                                              write_action_csv)
from actioncore_detection.frame_map import AvaFrameMAP, frame_ap


def _labelmap(rng: np.random.Generator, num: int) -> tuple[str, list[int]]:
    ids = sorted(rng.choice(np.arange(1, 3 * num), size=num, replace=False).tolist())
    text = "".join(f'item {{\n  name: "action {i}"\n  id: {i}\n}}\n' for i in ids)
    return text, ids


def _random_box(rng: np.random.Generator) -> np.ndarray:
    x1, y1 = rng.uniform(0, 0.7, size=2)
    w, h = rng.uniform(0.1, 0.3, size=2)
    return np.array([x1, y1, min(1.0, x1 + w), min(1.0, y1 + h)])


def make_trial(rng: np.random.Generator, folder: Path, *, keyframes: int, classes: int) -> dict:
    labelmap, ids = _labelmap(rng, classes)
    (folder / "labels.pbtxt").write_text(labelmap)
    gt_rows, det_rows, excluded = [], [], []
    for k in range(keyframes):
        video, timestamp = f"vid{k % 7:02d}", 902 + k
        if rng.random() < 0.1:  # excluded keyframes without ground truth, some with detections
            excluded.append((video, timestamp))
            for _ in range(int(rng.integers(0, 4))):
                det_rows.append((video, timestamp, *np.round(_random_box(rng), 3), int(rng.choice(ids)),
                                 float(rng.random())))
            continue
        for person in range(int(rng.integers(1, 5))):
            box = np.round(_random_box(rng), 3)
            for action in rng.choice(ids, size=int(rng.integers(1, 4)), replace=False):
                gt_rows.append((video, timestamp, *box, int(action), 1.0))
            for _ in range(int(rng.integers(1, 4))):  # detections near this person
                jitter = np.clip(box + rng.normal(0, 0.03, size=4), 0, 1)
                jitter[2:] = np.maximum(jitter[2:], jitter[:2])
                for action in rng.choice(ids, size=int(rng.integers(1, classes + 1)), replace=False):
                    det_rows.append((video, timestamp, *jitter, int(action), float(rng.random())))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            det_rows.append((video, timestamp, *_random_box(rng), int(rng.choice(ids)), float(rng.random())))
    rng.shuffle(det_rows)
    gt = ActionBoxes.from_rows(gt_rows)
    with (folder / "gt.csv").open("w") as f:
        for i in range(len(gt)):  # AVA's own layout: 3 decimals, person id in the last column
            f.write(f"{gt.video_id[i]},{gt.timestamp[i]:04d},{','.join(f'{v:.3f}' for v in gt.boxes[i])},"
                    f"{gt.action_id[i]},{i}\n")
    write_action_csv(folder / "det.csv", ActionBoxes.from_rows(det_rows))
    (folder / "excluded.csv").write_text("".join(f"{v},{t:04d}\n" for v, t in excluded))
    custom = sorted(rng.choice(ids, size=max(2, classes // 2), replace=False).tolist()) if rng.random() < 0.5 else None
    return {"ids": ids, "custom": custom}


def mmaction2_aps(folder: Path, custom: list[int] | None) -> tuple[float, dict[int, float]]:
    import mmaction.evaluation.functional.ava_utils as ava_utils

    captured: dict[int, float] = {}
    original = ava_utils.metrics.compute_average_precision

    def spy(precision, recall):  # record each class's AP as it is computed (classes in order)
        value = original(precision, recall)
        captured[len(captured)] = value
        return value

    class SerialPool:  # ava_eval opens 32 processes; the answer does not depend on them
        def __init__(self, *args):
            pass

        map = staticmethod(lambda fn, items: [fn(item) for item in items])

    ava_utils.metrics.compute_average_precision = spy
    pool, ava_utils.multiprocessing.Pool = ava_utils.multiprocessing.Pool, SerialPool
    try:
        with contextlib.redirect_stdout(io.StringIO()) as log:
            result = ava_utils.ava_eval(str(folder / "det.csv"), "mAP", str(folder / "labels.pbtxt"),
                                        str(folder / "gt.csv"), str(folder / "excluded.csv"), verbose=True,
                                        custom_classes=None if custom is None else [0] + custom)
    finally:
        ava_utils.metrics.compute_average_precision = original
        ava_utils.multiprocessing.Pool = pool
    per_class = {}
    for line in log.getvalue().splitlines():  # "Index: 12, Action: action 12: AP: 0.1234;" has 4 decimals only
        if line.startswith("Index: "):
            per_class[int(line.split(",")[0].split()[1])] = None
    for (k, _), value in zip(per_class.items(), captured.values()):
        per_class[k] = float(value)
    return float(result["overall"]), per_class


def check_data(threshold: float = 0.9) -> dict:
    """Our ``ava`` dataset against MMAction2's ``AVADataset`` on the embedded set (see the docstring)."""
    import pickle

    from mmaction.datasets import AVADataset
    from mmaction.datasets.transforms import SampleAVAFrames

    from actioncore.builtin.synth import synthesize
    from actioncore_detection.annotations import read_proposals
    from actioncore_detection.dataset import AvaDataset
    from actioncore_detection.sampling import ava_frame_indices

    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "synth"
        synthesize("detection", root, seed=3)
        ann = root / "annotations"
        pkl = Path(tmp) / "val_proposals.pkl"
        pkl.write_bytes(pickle.dumps({k: v.astype(np.float64) for k, v in read_proposals(ann / "val_proposals.csv").items()}))
        for custom in (None, [2, 4]):
            num_classes = 5 if custom is None else len(custom) + 1
            theirs = AVADataset(str(ann / "val.csv"), [], exclude_file=str(ann / "val_excluded.csv"),
                                label_file=str(ann / "label_map.pbtxt"), proposal_file=str(pkl),
                                person_det_score_thr=threshold, num_classes=num_classes, custom_classes=custom,
                                data_prefix=dict(img=str(root / "rawframes")), fps=8, timestamp_start=900,
                                timestamp_end=908, test_mode=True)
            ours = AvaDataset(ann_file=str(ann / "val.csv"), pipeline=[], exclude_file=str(ann / "val_excluded.csv"),
                              label_file=str(ann / "label_map.pbtxt"), proposal_file=str(ann / "val_proposals.csv"),
                              person_det_score_thr=threshold, custom_classes=custom, root=str(root / "rawframes"),
                              fps=8, timestamp_start=900, timestamp_end=908)
            sampler = SampleAVAFrames(clip_len=4, frame_interval=2, test_mode=True)
            problems = []
            assert len(theirs) == len(ours.keyframes), (len(theirs), len(ours.keyframes))
            for i, mine in enumerate(ours.keyframes):
                info = theirs.get_data_info(i)
                clip = sampler.transform(dict(info))
                files = ava_frame_indices(mine.timestamp, fps=8, timestamp_start=900, start_index=1, clip_len=4,
                                          frame_interval=2, shot_end=64) + 1
                same = (info["video_id"] == mine.video_id and info["timestamp"] == mine.timestamp
                        and np.array_equal(info["gt_bboxes"].astype(np.float32), mine.gt_boxes)
                        and np.array_equal(info["gt_labels"], mine.gt_labels)
                        and np.array_equal(info["proposals"].astype(np.float32), mine.proposals)
                        and np.array_equal(info["scores"].astype(np.float32), mine.proposal_scores)
                        and clip["frame_inds"].tolist() == files.tolist())
                if not same:
                    problems.append(info["img_key"])
            report["all classes" if custom is None else f"custom {custom}"] = {
                "keyframes": len(ours.keyframes), "different": problems[:5]}
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--keyframes", type=int, default=400)
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--atol", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    report, worst = [], 0.0
    for trial in range(args.trials):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            info = make_trial(rng, folder, keyframes=args.keyframes, classes=args.classes)
            theirs_overall, theirs = mmaction2_aps(folder, info["custom"])
            label_map = read_label_map(folder / "labels.pbtxt")
            det = read_action_csv(folder / "det.csv", with_scores=True)
            gt = read_action_csv(folder / "gt.csv")
            excluded = read_exclusions(folder / "excluded.csv")
            class_ids = info["custom"] or list(label_map.ids)
            ours = frame_ap(det, gt, class_ids=class_ids, excluded=excluded)
            metric = AvaFrameMAP(per_class=False, groups=False)(det, gt, label_map=label_map,
                                                                  class_ids=class_ids, excluded=excluded)
            diffs = [abs(ours[k] - v) for k, v in theirs.items() if not (np.isnan(v) and np.isnan(ours[k]))]
            same_classes = set(ours) == set(theirs)
            diff = max([abs(metric["mAP@0.5IOU"] - theirs_overall), *diffs])
            worst = max(worst, diff if same_classes else float("inf"))
            report.append({"trial": trial, "custom_classes": info["custom"], "classes": len(theirs),
                           "gt_rows": len(gt), "detections": len(det), "mmaction2_mAP": theirs_overall,
                           "ours_mAP": metric["mAP@0.5IOU"], "same_classes": same_classes, "max_abs_diff": diff})
    data = check_data()
    print(json.dumps({"trials": report, "max_abs_diff": worst, "atol": args.atol, "data": data}, indent=1))
    return 0 if worst <= args.atol and not any(v["different"] for v in data.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
