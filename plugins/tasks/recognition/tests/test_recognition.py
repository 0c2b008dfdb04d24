"""Recognizers' view averaging, the task's losses and outputs, against hand-computed numbers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from actioncore.sdk import ConfigError

from actioncore.testing import assert_component_contract
from actioncore_recognition.recognizer import average_views
from actioncore_recognition.task import RecognitionTask

pytestmark = pytest.mark.actioncore_plugins("actioncore_recognition.hooks", "actioncore_toy3d.hooks",
                                            "actioncore_tsn.hooks", "actioncore_cls_heads.hooks")


def test_average_views_by_score_and_by_probability():
    scores = torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0], [3.0, 1.0]])
    assert torch.allclose(average_views(scores, 2, "score"), torch.tensor([[1.0, 1.0], [2.0, 1.0]]))
    p = torch.sigmoid(torch.tensor(2.0))  # softmax of (2, 0) puts sigmoid(2) on the first class
    expected = torch.tensor([[0.5, 0.5], [(0.5 + p) / 2, (0.5 + 1 - p) / 2]])
    assert torch.allclose(average_views(scores, 2, "prob"), expected)


class CountingHead(nn.Module):
    """Scores each view by its mean input, to check what the recognizer feeds and averages."""

    def forward(self, x, num_segs=None):
        self.num_segs = num_segs
        return torch.stack([x.flatten(1).mean(1), -x.flatten(1).mean(1)], dim=1)


def test_recognizer3d_scores_each_view_then_averages(actioncore_host):
    model = assert_component_contract(actioncore_host, "model", "recognizer3d",
                                      {"backbone": {"type": "toy3d", "width": 2, "depth": 1},
                                       "head": {"type": "linear_head", "in_channels": 2, "num_classes": 3}})
    model.head, model.backbone = CountingHead(), nn.Identity()
    inputs = torch.arange(2 * 3, dtype=torch.float32).view(2, 3, 1, 1, 1, 1).expand(2, 3, 1, 2, 2, 2)
    model.average_clips = "score"
    model.eval()
    assert torch.allclose(model(inputs)[:, 0], torch.tensor([1.0, 4.0]))  # mean of views 0,1,2 and 3,4,5
    model.train()
    assert model(inputs[:, :1]).shape == (2, 2)


def test_recognizer2d_passes_segments_to_the_head(actioncore_host):
    model = assert_component_contract(actioncore_host, "model", "recognizer2d",
                                      {"backbone": {"type": "resnet", "depth": 18},
                                       "head": {"type": "tsn", "num_classes": 5, "in_channels": 512}})
    model.eval()
    out = model(torch.zeros(2, 3, 3, 32, 32))
    assert out.shape == (2, 5)
    assert torch.allclose(out.sum(dim=1), torch.ones(2))  # average_clips = "prob" by default


def adapter_for(task, num_classes=3):
    """The task's adapter without an experiment (only the loss and metric paths are used)."""
    from actioncore_recognition.task import RecognitionAdapter

    adapter = RecognitionAdapter.__new__(RecognitionAdapter)
    adapter.task, adapter.experiment, adapter.num_classes, adapter.metrics = task, None, num_classes, []
    return adapter


def test_losses_match_their_definitions():
    scores = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    labels = torch.tensor([0, 2])
    plain = adapter_for(RecognitionTask())
    assert plain.loss(scores, labels).item() == pytest.approx(nn.functional.cross_entropy(scores, labels).item())
    smooth = adapter_for(RecognitionTask(label_smoothing=0.1))
    logp = scores.log_softmax(1)
    expected = (0.9 * -logp[torch.arange(2), labels] + 0.1 * -logp.mean(1)).mean()
    assert smooth.loss(scores, labels).item() == pytest.approx(expected.item(), rel=1e-6)
    soft = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    assert plain.loss(scores, soft).item() == pytest.approx(-(soft * logp).sum(1).mean().item(), rel=1e-6)
    multi = adapter_for(RecognitionTask(multi_label=True))
    hot = multi.targets([(0, 2), (1,)], torch.device("cpu"))
    assert hot.tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    assert multi.loss(scores, hot).item() == pytest.approx(
        nn.functional.binary_cross_entropy_with_logits(scores, hot).item())


def test_task_contract_and_metric_defaults(actioncore_host):
    task = assert_component_contract(actioncore_host, "task", "recognition",
                                     {"label_smoothing": 0.1, "metrics": [{"type": "top_k_accuracy", "topk": [1, 3]}]})
    from actioncore_recognition.metrics import TopKAccuracy

    assert task.label_smoothing == 0.1
    assert isinstance(task.metrics[0], TopKAccuracy) and task.metrics[0].topk == (1, 3)
    with pytest.raises(ConfigError, match="label_smoothing must be in"):
        assert_component_contract(actioncore_host, "task", "recognition", {"label_smoothing": 1.5})


def test_eval_rows_and_metrics(actioncore_host):
    from actioncore_recognition.metrics import MeanClassAccuracy, TopKAccuracy

    adapter = adapter_for(RecognitionTask())
    adapter.metrics = [TopKAccuracy(topk=(1, 2)), MeanClassAccuracy()]
    outputs = {"scores": np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.3, 0.5]]), "label": np.array([1, 1, 2])}
    metrics, images = adapter.compute_metrics(outputs, "val")
    assert metrics == {"top1": pytest.approx(2 / 3), "top2": pytest.approx(1.0), "mean_class_accuracy": pytest.approx(0.5)}
    assert images["confusion_matrix"].dtype == np.uint8 and images["confusion_matrix"].ndim == 3


class ScaleStep:
    """A stand-in batch step: halves the inputs, mixes each target with the next one."""

    batch_step = True

    def __call__(self, inputs, targets, *, batch, generator):
        return inputs / 2, 0.5 * targets + 0.5 * targets.roll(1, 0)


def test_batch_steps_soft_targets_and_seeding():
    from actioncore_recognition.blending import BatchBlending, batch_generator, soft_targets

    hot = soft_targets(torch.tensor([0, 2]), 3, 0.1)
    assert torch.allclose(hot, torch.tensor([[0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3], [0.1 / 3, 0.1 / 3, 0.9 + 0.1 / 3]]))
    assert torch.allclose(hot.sum(1), torch.ones(2))
    blending = BatchBlending.create([ScaleStep()], None)
    inputs, targets = blending(torch.ones(2, 4), torch.tensor([0, 1]), batch={"iteration": 3}, num_classes=2, seed=0)
    assert torch.equal(inputs, torch.full((2, 4), 0.5)) and torch.allclose(targets, torch.full((2, 2), 0.5))
    never = BatchBlending.create([ScaleStep()], [0.0])
    inputs, targets = never(torch.ones(2, 4), torch.tensor([0, 1]), batch={"iteration": 3}, num_classes=2, seed=0)
    assert torch.equal(inputs, torch.ones(2, 4)) and targets.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    a, b = batch_generator(0, 7), batch_generator(0, 7)
    assert torch.equal(torch.rand(4, generator=a), torch.rand(4, generator=b))
    assert not torch.equal(torch.rand(4, generator=batch_generator(0, 8)), torch.rand(4, generator=batch_generator(0, 7)))


def test_batch_steps_must_be_batch_steps():
    with pytest.raises(ConfigError, match=r"task.batch_steps\[1\] \(<object"):
        RecognitionTask(batch_steps=[ScaleStep(), object()])
    with pytest.raises(ConfigError, match="batch_step_probs"):
        RecognitionTask(batch_steps=[ScaleStep()], batch_step_probs=[0.7, 0.7])
    assert RecognitionTask().blending is None


class Pathways(nn.Module):
    """Two pathways (SlowFast-like): the input itself and twice it."""

    def forward(self, x):
        return x, 2 * x


def test_clip_features_pool_space_time_frames_and_views(actioncore_host):
    adapter = adapter_for(RecognitionTask())
    model = assert_component_contract(actioncore_host, "model", "recognizer3d",
                                      {"backbone": {"type": "toy3d", "width": 2, "depth": 1},
                                       "head": {"type": "linear_head", "in_channels": 2, "num_classes": 3}})
    model.backbone = nn.Identity()
    # 3D: [1, views * clips, C, T, H, W], views first; clip c of view v is the constant 10 v + c
    values = torch.tensor([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    inputs = values.view(1, 6, 1, 1, 1, 1).expand(1, 6, 2, 2, 3, 3)
    features = adapter.clip_features(model, inputs, num_clips=3, views=2)
    assert torch.allclose(features, torch.tensor([[5.0, 5.0], [6.0, 6.0], [7.0, 7.0]]))
    # 2D: [1, views * clips * clip_len, C, H, W]: the frames of a clip are averaged too
    frames = torch.arange(8.0).view(1, 8, 1, 1, 1).expand(1, 8, 1, 2, 2)
    assert torch.allclose(adapter.clip_features(model, frames, num_clips=2), torch.tensor([[1.5], [5.5]]))
    model.backbone = Pathways()  # several pathways side by side
    assert torch.allclose(adapter.clip_features(model, frames, num_clips=2), torch.tensor([[1.5, 3.0], [5.5, 11.0]]))
