"""``poly`` and ``cyclic`` learning-rate policies, against torch's schedulers and mmcv's formulas."""
from __future__ import annotations

import math

import pytest
import torch

from actioncore.config.experiment import ScheduleSection
from actioncore.engine.optim import LRSchedule


def torch_rates(scheduler_of, steps: int, lr: float = 0.1) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)
    scheduler = scheduler_of(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_poly_is_torchs_polynomial_lr_and_keeps_min_lr():
    schedule = LRSchedule(ScheduleSection(epochs=4, policy="poly", power=0.9), 0.1, 5)
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=20, power=0.9), 20)
    assert [0.1 * schedule.factor(i) for i in range(20)] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    floor = LRSchedule(ScheduleSection(epochs=4, policy="poly", power=0.9, min_lr=1e-4), 0.1, 5)
    # mmcv's PolyLrUpdaterHook: (base - min_lr) * (1 - t / T) ** power + min_lr
    assert 0.1 * floor.factor(7) == pytest.approx((0.1 - 1e-4) * (1 - 7 / 20) ** 0.9 + 1e-4)
    assert 0.1 * floor.factor(20) == pytest.approx(1e-4)


def test_cyclic_linear_is_torchs_triangular_cyclic_lr():
    # 2 cycles of 15 iterations, 6 rising (int(0.4 * 15)), peak 10x, back to the base rate
    cfg = ScheduleSection(epochs=3, policy="cyclic", target_ratio=(10.0, 1.0), cyclic_times=2,
                          step_ratio_up=0.4, anneal_strategy="linear")
    schedule = LRSchedule(cfg, 0.1, 10)
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.CyclicLR(
        o, base_lr=0.1, max_lr=1.0, step_size_up=6, step_size_down=9, cycle_momentum=False), 30)
    assert [0.1 * schedule.factor(i) for i in range(30)] == pytest.approx(expected, rel=1e-9)


def test_cyclic_cosine_follows_mmcv_cyclic_lr_updater():
    schedule = LRSchedule(ScheduleSection(epochs=1, policy="cyclic"), 0.1, 100)  # target (10, 1e-4), 40 up
    def cos(start, end, t):
        return end + 0.5 * (start - end) * (math.cos(math.pi * t) + 1)
    assert schedule.factor(0) == 1.0
    assert schedule.factor(20) == pytest.approx(cos(1, 10, 0.5)) == pytest.approx(5.5)
    assert schedule.factor(40) == pytest.approx(10.0)
    assert schedule.factor(70) == pytest.approx(cos(10, 1e-4, 30 / 60))
    assert schedule.factor(99) == pytest.approx(cos(10, 1e-4, 59 / 60))


def test_cyclic_ratio_up_out_of_range_names_the_key():
    from actioncore.config.structure import KeyProblem

    with pytest.raises(KeyProblem, match="must be in"):
        ScheduleSection(policy="cyclic", step_ratio_up=1.0)
