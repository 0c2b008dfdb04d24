"""Check BMN and the localization pieces against MMAction2 1.2.0.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency). With the peers
installed by ``shared/peers/setup.sh``:

    PYTHONPATH=/tmp/peers python benchmarks/parity/localization.py

1. Builds MMAction2's BMN from its config (``bmn_2xb8-400x100-9e_activitynet-feature.py``) with
   random weights, saves it as an MMAction2 checkpoint, converts it the way ``actioncore convert
   mmaction2`` does, loads it strictly into our ``bmn`` and compares the confidence map, start and
   end probabilities on random features in eval mode; parameter counts of both; our
   boundary-matching sample mask against MMAction2's.
2. Training targets and the loss: MMAction2's ``generate_labels`` (BMN and BSN's TEM) against
   ``bmn_targets_batch`` / ``tem_targets_batch`` on random ground truth, and BMNLoss against
   ``bmn_loss`` under the same seed (its random sampling draws the same numbers).
3. Post-processing: MMAction2's ``predict`` (candidates, soft-NMS, seconds) against
   ``BMN.proposals`` on one video.
4. AR@AN: ``average_recall_at_avg_proposals`` against ours on random proposals and ground truth
   (several videos, videos without proposals, budgets below and above the proposals there are).

Prints a JSON summary; exits 1 when anything differs by more than ``--atol`` (outputs) or 1e-6
(metrics).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from actioncore_bmn import BMN, bmn_loss
from actioncore_localization import (VideoAnnotation, average_recall_at_avg_proposals, bmn_targets_batch,
                                     tem_targets_batch)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import build_mmaction2, convert_into, count, randomise  # noqa: E402

CONFIG = "localization/bmn/bmn_2xb8-400x100-9e_activitynet-feature.py"


def random_video(rng: np.random.Generator, name: str) -> VideoAnnotation:
    frames = int(rng.integers(300, 3000))
    duration = frames / 30.0
    segments = []
    for _ in range(int(rng.integers(1, 4))):
        start = rng.uniform(0, duration * 0.8)
        segments.append([start, min(duration, start + rng.uniform(0.5, duration * 0.5))])
    return VideoAnnotation(video_name=name, duration_second=duration, duration_frame=frames,
                           feature_frame=frames // 16 * 16, fps=30.0, segments=np.asarray(segments),
                           labels=("a",) * len(segments))


def check_model(atol: float) -> dict:
    theirs = build_mmaction2(CONFIG).eval()
    randomise(theirs, seed=0)
    ours = BMN().eval()
    # our own sampling weights, before the checkpoint's replace them
    mask_diff = float((ours.bm_layer.sample_mask - theirs.sample_mask).abs().max())
    convert_into(ours, theirs)
    features = torch.randn(2, 400, 100)
    with torch.no_grad():
        expected = theirs._forward(features)
        got = ours(features)
    diffs = {name: float((a - b).abs().max()) for name, a, b in zip(("confidence_map", "start", "end"), expected, got)}
    return {"parameters": {"mmaction2": count(theirs), "actioncore": count(ours)},
            "sample_mask_max_abs_diff": mask_diff,
            "max_abs_diff": diffs, "ok": max(diffs.values()) < atol and mask_diff < 1e-6}, theirs, ours


def check_targets_and_loss(theirs, ours, rng: np.random.Generator) -> dict:
    from mmaction.models.localizers.bsn import TEM

    videos = [random_video(rng, f"v_{i}") for i in range(4)]
    gt = [torch.from_numpy(v.gt_bbox()) for v in videos]
    their_conf, their_start, their_end = theirs.generate_labels(gt)
    our_conf, our_start, our_end = bmn_targets_batch(videos, 100)
    bmn = max(float((their_conf - our_conf).abs().max()), float((their_start - our_start).abs().max()),
              float((their_end - our_end).abs().max()))
    tem = TEM(temporal_dim=100, boundary_ratio=0.1, tem_feat_dim=400, tem_hidden_dim=512, tem_match_threshold=0.5)
    their_tem = tem.generate_labels(gt)
    our_tem = tem_targets_batch(videos, 100, 0.1)
    tem_diff = max(float((a - b).abs().max()) for a, b in zip(their_tem, our_tem))

    features = torch.randn(4, 400, 100)
    ours.train(), theirs.train()
    torch.manual_seed(7)
    their_loss = theirs.loss_cls(*theirs._forward(features), their_conf, their_start, their_end, theirs.bm_mask)
    torch.manual_seed(7)
    confidence, start, end = ours(features)
    our_loss = bmn_loss(confidence, start, end, our_conf, our_start, our_end, ours.bm_mask)
    names = ("loss", "tem_loss", "pem_reg_loss", "pem_cls_loss")
    loss_diff = {n: abs(float(a.detach()) - float(our_loss[n].detach())) for n, a in zip(names, their_loss)}
    ours.eval(), theirs.eval()
    return {"bmn_targets_max_abs_diff": bmn, "tem_targets_max_abs_diff": tem_diff, "loss_abs_diff": loss_diff,
            "ok": bmn == 0.0 and tem_diff == 0.0 and max(loss_diff.values()) < 1e-5}


def check_proposals(theirs, ours, rng: np.random.Generator) -> dict:
    from mmaction.structures import ActionDataSample

    video = random_video(rng, "v_probe")
    sample = ActionDataSample()
    sample.set_metainfo({"video_name": video.video_name, "duration_second": video.duration_second,
                         "duration_frame": video.duration_frame, "feature_frame": video.feature_frame})
    features = torch.randn(1, 400, 100)
    with torch.no_grad():
        expected = theirs.predict(features, [sample])[0]["proposal_list"]
        got = ours.proposals(ours(features), [video])[0]
    rows = np.asarray([[p["segment"][0], p["segment"][1], p["score"]] for p in expected])
    same_shape = rows.shape == got.shape
    diff = float(np.abs(rows - got).max()) if same_shape else float("inf")
    return {"num_proposals": [len(rows), len(got)], "max_abs_diff": diff, "ok": same_shape and diff < 1e-6}


def check_average_recall(rng: np.random.Generator) -> dict:
    from mmaction.evaluation import average_recall_at_avg_proposals as theirs

    if not hasattr(np, "trapz"):  # NumPy 2.4 removed the name MMAction2 calls
        np.trapz = np.trapezoid

    worst = 0.0
    cases = 0
    for case in range(20):
        ground_truth, proposals = {}, {}
        for v in range(int(rng.integers(1, 12))):
            duration = rng.uniform(20, 200)
            k = int(rng.integers(1, 5))
            starts = rng.uniform(0, duration * 0.9, k)
            ground_truth[f"vid{v}"] = np.stack([starts, np.minimum(duration, starts + rng.uniform(1, duration / 2, k)),
                                                np.zeros(k)], axis=1)
            n = 0 if (case % 5 == 4 and v == 0) else int(rng.integers(1, 150))
            s = rng.uniform(0, duration * 0.9, n)
            proposals[f"vid{v}"] = np.stack([s, np.minimum(duration, s + rng.uniform(0.5, duration / 2, n)),
                                             rng.uniform(0, 1, n)], axis=1).reshape(-1, 3)
        total = sum(len(p) for p in proposals.values())
        for budget in (100, 5, None):
            recall, avg, per_video, auc = theirs(ground_truth, proposals, total, max_avg_proposals=budget)
            ours = average_recall_at_avg_proposals(ground_truth, proposals, total, max_avg_proposals=budget)
            worst = max(worst, float(np.abs(recall - ours.recall).max()), float(np.abs(avg - ours.average_recall).max()),
                        float(np.abs(per_video - ours.proposals_per_video).max()), abs(auc - ours.auc))
            cases += 1
    return {"cases": cases, "max_abs_diff": worst, "ok": worst <= 1e-6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atol", type=float, default=1e-4)
    args = parser.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model, theirs, ours = check_model(args.atol)
    report = {"model": model, "targets_and_loss": check_targets_and_loss(theirs, ours, rng),
              "proposals": check_proposals(theirs, ours, rng), "average_recall": check_average_recall(rng)}
    report["ok"] = all(part["ok"] for part in report.values())
    print(json.dumps(report, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
