"""mmengine's LinearLR warm-up chained with CosineAnnealingLR (``convert_to_iter_based``) against
actioncore's ``[schedule] policy = "cosine"`` with ``cosine_after_warmup = true``.

Run: ``PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/parity/warmup_cosine.py``. Prints the
largest relative difference of the learning rate over every iteration of a few recipes (MViT-S's
30 + 170 epochs with T_max = 200, VideoMAE's 5 + 30 with T_max = 30) and the reference values at
the iterations tests/test_schedule_warmup_cosine.py checks.
"""
from __future__ import annotations

import torch
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR

from actioncore.config.experiment import ScheduleSection
from actioncore.engine.optim import LRSchedule

# (base_lr, start_factor, warm-up epochs, T_max, cosine begin, end, eta_min, iterations per epoch)
RECIPES = {
    "mvit_small": (1.6e-3, 0.01, 30, 200, 30, 200, 1.6e-5, 7),
    "videomae_ft": (1.6e-3, 0.1, 5, 30, 5, 35, 0.0, 5),
    "uniformer_like": (1e-3, 0.5, 2, 8, 2, 10, 1e-6, 3),
}
PROBES = (0, 1, 6, 7, 100, 209, 210, 211, 500, 1399)


def mmengine_curve(base_lr, start, warm, t_max, begin, end, eta_min, per_epoch) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    schedulers = [
        LinearLR.build_iter_from_epoch(optimizer, start_factor=start, by_epoch=True, begin=0, end=warm,
                                       epoch_length=per_epoch),
        CosineAnnealingLR.build_iter_from_epoch(optimizer, T_max=t_max, eta_min=eta_min, by_epoch=True,
                                                begin=begin, end=end, epoch_length=per_epoch),
    ]
    lrs = []
    for _ in range(end * per_epoch):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def ours(base_lr, start, warm, t_max, begin, end, eta_min, per_epoch) -> list[float]:
    cfg = ScheduleSection(epochs=end, policy="cosine", min_lr=eta_min, warmup_epochs=warm,
                          warmup_start_factor=start, cosine_after_warmup=True, cosine_epochs=t_max)
    schedule = LRSchedule(cfg, base_lr, per_epoch)
    return [base_lr * schedule.factor(i) for i in range(end * per_epoch)]


def main() -> None:
    for name, recipe in RECIPES.items():
        ref, got = mmengine_curve(*recipe), ours(*recipe)
        worst = max(abs(a - b) / max(abs(a), 1e-30) for a, b in zip(ref, got))
        print(f"{name}: {len(ref)} iterations, max relative lr difference {worst:.3g}")
        if name == "mvit_small":
            print("  reference:", {i: ref[i] for i in PROBES})


if __name__ == "__main__":
    main()
