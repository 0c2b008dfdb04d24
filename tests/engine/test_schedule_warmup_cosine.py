"""``cosine_after_warmup``: mmengine's LinearLR + CosineAnnealingLR chain, by iteration.

The reference values are mmengine's (benchmarks/parity/warmup_cosine.py, MViT-S's recipe: base
1.6e-3, start 0.01, 30 warm-up epochs, T_max 200, epochs 200, eta_min 1.6e-5, 7 iterations per
epoch); that script finds every iteration within 4e-15 relative.
"""
from __future__ import annotations

import pytest

from actioncore.config.experiment import ScheduleSection
from actioncore.engine.optim import LRSchedule

MMENGINE = {0: 1.6000000000000003e-05, 1: 2.357894736842106e-05, 6: 6.147368421052632e-05,
            7: 6.905263157894737e-05, 100: 0.0007738947368421051, 209: 0.001599999999999999,
            210: 0.001599999999999999, 211: 0.0015999980059379056, 500: 0.0014381346427143674,
            1399: 0.00010313146070890592}


def test_mvit_small_curve_matches_mmengine():
    cfg = ScheduleSection(epochs=200, policy="cosine", min_lr=1.6e-5, warmup_epochs=30, warmup_start_factor=0.01,
                          cosine_after_warmup=True, cosine_epochs=200)
    schedule = LRSchedule(cfg, 1.6e-3, 7)
    for iteration, lr in MMENGINE.items():
        assert 1.6e-3 * schedule.factor(iteration) == pytest.approx(lr, rel=1e-12), iteration


def test_default_t_max_is_the_epochs_after_warmup_and_ends_at_min_lr():
    cfg = ScheduleSection(epochs=10, policy="cosine", min_lr=1e-4, warmup_epochs=2, warmup_start_factor=0.1,
                          cosine_after_warmup=True)
    schedule = LRSchedule(cfg, 1e-2, 5)
    assert schedule.factor(9) == pytest.approx(1.0)  # warm-up reaches the base at its last iteration
    assert schedule.factor(10 + 20) == pytest.approx(0.01 + 0.99 * 0.5)  # half-way through T_max = 40
    assert schedule.factor(50) == pytest.approx(0.01)
    # without the option the cosine spans all 50 iterations under the warm-up factor
    plain = LRSchedule(ScheduleSection(epochs=10, policy="cosine", min_lr=1e-4, warmup_epochs=2), 1e-2, 5)
    assert plain.factor(30) != pytest.approx(schedule.factor(30))
