"""The loss of SEED003 §1.2 against hand-computed numbers, and the task's value checks."""
from __future__ import annotations

import math

import pytest
import torch

from actioncore.sdk import ConfigError
from actioncore_semi import SemiRecognitionTask, consistency_loss, mix_targets, pseudo_labels, soft_cross_entropy

pytestmark = pytest.mark.actioncore_plugins("actioncore_semi.hooks", "actioncore_recognition.hooks")


def ce(logits: list[float], target: int) -> float:
    return -logits[target] + math.log(sum(math.exp(v) for v in logits))


def test_fixmatch_selects_at_threshold_and_scales_by_num_select_over_batch():
    weak = torch.tensor([[4.0, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 6.0], [0.3, 0.0, 0.0]])
    strong = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 1.0], [2.0, 0.0, 0.0]])
    pseudo = pseudo_labels(weak, method="fixmatch", threshold=0.95, temperature=0.4)
    p0 = math.exp(4) / (math.exp(4) + 2)  # 0.9647 >= 0.95; clip 2: 0.995; clips 1, 3 below
    assert p0 > 0.95 and pseudo.selected.tolist() == [True, False, True, False]
    assert pseudo.hard.tolist() == [0, 1, 2, 0]
    loss = consistency_loss(strong, pseudo.targets, pseudo.selected, method="fixmatch")
    expected = (ce([1.0, 2.0, 0.0], 0) + ce([0.5, 0.0, 1.0], 2)) / 2 * (2 / 4)
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    exactly = torch.tensor([[math.log(0.95 * 2 / 0.05), 0.0, 0.0]])  # top probability exactly 0.95
    assert pseudo_labels(exactly, method="fixmatch", threshold=0.95, temperature=0.4).selected.item()


def test_nothing_selected_gives_zero_with_a_graph():
    strong = torch.zeros(2, 3, requires_grad=True)
    pseudo = pseudo_labels(torch.zeros(2, 3), method="fixmatch", threshold=0.95, temperature=0.4)
    loss = consistency_loss(strong, pseudo.targets, pseudo.selected, method="fixmatch")
    loss.backward()
    assert float(loss.detach()) == 0 and strong.grad is not None


def test_uda_sharpens_at_temperature_and_averages_over_selected_only():
    weak = torch.tensor([[2.0, 0.0], [0.0, 0.1], [0.0, 3.0]])
    strong = torch.tensor([[0.0, 1.0], [5.0, 0.0], [1.0, 1.0]])
    pseudo = pseudo_labels(weak, method="uda", threshold=0.8, temperature=0.4)
    assert pseudo.selected.tolist() == [True, False, True]  # softmax tops 0.88, 0.52, 0.95
    q0 = torch.tensor([2.0 / 0.4, 0.0]).softmax(0)
    assert torch.allclose(pseudo.targets[0], q0)
    loss = consistency_loss(strong, pseudo.targets, pseudo.selected, method="uda")
    q2 = torch.tensor([0.0, 3.0 / 0.4]).softmax(0)
    expected = (q0[0] * ce([0.0, 1.0], 0) + q0[1] * ce([0.0, 1.0], 1) + q2[0] * math.log(2) + q2[1] * math.log(2)) / 2
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


def test_actor_cutmix_targets_mix_with_the_reversed_partner():
    targets = torch.eye(3)[[0, 1, 2, 1]]
    weight = torch.tensor([1 - 0.9 ** 4, 1.0, 1.0, 0.5])
    partner = torch.tensor([3, 2, 1, 0])
    mixed = mix_targets(targets, weight, partner)
    assert torch.allclose(mixed[0], torch.tensor([1 - 0.9 ** 4, 0.9 ** 4, 0.0]))
    assert torch.allclose(mixed[1], targets[1]) and torch.allclose(mixed[3], torch.tensor([0.5, 0.5, 0.0]))
    assert torch.allclose(soft_cross_entropy(torch.tensor([[1.0, 2.0, 0.0]]), torch.eye(3)[[1]]),
                          torch.tensor([ce([1.0, 2.0, 0.0], 1)]))


@pytest.mark.parametrize("value", [0.0, -0.1, 1.01])
def test_threshold_outside_0_1_is_a_config_error_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"task\.threshold: must be in \(0, 1\]"):
        SemiRecognitionTask(threshold=value)


def test_defaults_follow_the_method():
    assert SemiRecognitionTask().threshold == 0.95 and SemiRecognitionTask(method="uda").threshold == 0.8
    assert SemiRecognitionTask(threshold=1.0).threshold == 1.0
    task = SemiRecognitionTask()
    assert (task.temperature, task.unlabeled_weight, task.unlabeled_ratio, task.actor_cutmix, task.distill_weight) == \
        (0.4, 1.0, 1, 0.5, 0.0)
    with pytest.raises(ConfigError, match="task.distill_scores"):
        SemiRecognitionTask(distill_weight=1.0)
    with pytest.raises(ConfigError, match="task.actor_cutmix"):
        SemiRecognitionTask(actor_cutmix=1.5)
