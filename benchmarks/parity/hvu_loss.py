"""Check ``actioncore_hvu.HVULoss`` and the HVU label layout against MMAction2 1.2.0's ``HVULoss``
and ``LoadHVULabel``.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers python benchmarks/parity/hvu_loss.py

Random HVU-style labels (each clip tagged in a random subset of HVU's six categories, the full
3142 tags) go through MMAction2's ``LoadHVULabel`` (one-hot, tag mask, category mask) and through
our ``hvu`` dataset's record layout; random scores go through both losses for every
``loss_type`` x ``with_mask`` x ``reduction``. Prints a JSON summary with the largest absolute
difference; exits 1 if one exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--atol", type=float, default=1e-6)
    args = parser.parse_args()
    from mmaction.datasets.transforms.loading import LoadHVULabel
    from mmaction.models.losses import HVULoss as TheirLoss

    from actioncore_hvu import HVU_CATEGORIES, HVU_CATEGORY_NUMS, HVUDataset, HVULoss

    rng = np.random.default_rng(0)
    entries = []
    for i in range(args.clips):
        chosen = [c for c in HVU_CATEGORIES if rng.random() < 0.5] or ["action"]
        label = {c: sorted(rng.choice(n, size=rng.integers(1, 4), replace=False).tolist())
                 for c, n in zip(HVU_CATEGORIES, HVU_CATEGORY_NUMS) if c in chosen}
        entries.append({"filename": f"v{i}.mp4", "label": label})
    with tempfile.TemporaryDirectory() as tmp:
        ann = Path(tmp) / "hvu.json"
        ann.write_text(json.dumps(entries))
        records = HVUDataset(ann_file=str(ann), pipeline=[]).records
    loader = LoadHVULabel()
    theirs = [loader.transform({"label": e["label"], "categories": HVU_CATEGORIES, "category_nums": HVU_CATEGORY_NUMS})
              for e in entries]
    targets = torch.zeros(args.clips, sum(HVU_CATEGORY_NUMS))
    for row, record in enumerate(records):
        targets[row, list(record.label)] = 1.0
    label = torch.stack([t["label"] for t in theirs])
    mask = torch.stack([t["mask"] for t in theirs])
    category_mask = torch.stack([t["category_mask"] for t in theirs])
    ours_loss = HVULoss(categories=HVU_CATEGORIES, category_nums=HVU_CATEGORY_NUMS)
    report = {"labels_equal": bool(torch.equal(targets, label)),
              "category_mask_equal": bool(torch.equal(ours_loss.category_mask(targets), category_mask))}
    scores = torch.randn(args.clips, sum(HVU_CATEGORY_NUMS), generator=torch.Generator().manual_seed(0)) * 3
    weights = [1.0, 2.0, 0.5, 1.0, 3.0, 1.0]
    worst = 0.0
    for loss_type in ("all", "individual"):
        for with_mask in (False, True):
            for reduction in ("mean", "sum"):
                common = dict(categories=HVU_CATEGORIES, category_nums=HVU_CATEGORY_NUMS,
                              category_loss_weights=weights, loss_type=loss_type, with_mask=with_mask,
                              reduction=reduction)
                theirs_out = TheirLoss(**common)._forward(scores, label, mask, category_mask)
                ours_out = HVULoss(**common)(scores, targets)
                diff = abs(float(theirs_out["loss_cls"]) - float(ours_out["loss"]))
                if loss_type == "individual":
                    diff = max([diff] + [abs(float(theirs_out[f"{c}_LOSS"]) - float(ours_out[f"{c}_loss"]))
                                         for c in HVU_CATEGORIES])
                report[f"{loss_type}/mask={with_mask}/{reduction}"] = diff
                worst = max(worst, diff)
    report["max_abs_diff"] = worst
    print(json.dumps(report, indent=1))
    ok = report["labels_equal"] and report["category_mask_equal"] and worst <= args.atol
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
