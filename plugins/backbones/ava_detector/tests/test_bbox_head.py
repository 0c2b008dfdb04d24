"""The AVA box head: pooling, and the loss worked out by hand."""
import math

import pytest
import torch

from actioncore_ava_detector import BBoxHeadAVA, focal_bce


def bce(logit: float, target: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_focal_loss_by_hand():
    logits = torch.tensor([[2.0, -1.0]])
    targets = torch.tensor([[1.0, 1.0]])
    expected = []
    for logit in (2.0, -1.0):
        ce = bce(logit, 1.0)
        p_t = math.exp(-ce)  # the probability given to the true answer
        expected.append(3.0 * (1 - p_t) ** 2 * ce)
    assert focal_bce(logits, targets, alpha=3.0, gamma=2.0).item() == pytest.approx(sum(expected) / 2, rel=1e-6)
    plain = (bce(2.0, 1.0) + bce(-1.0, 1.0)) / 2
    assert focal_bce(logits, targets).item() == pytest.approx(plain, rel=1e-6)


def test_loss_ignores_class_0_and_rois_without_an_action():
    head = BBoxHeadAVA(num_classes=3, in_channels=4, topk=(1,))
    logits = torch.tensor([[9.0, 1.0, -2.0],     # positive RoI; class 0 is ignored
                           [0.0, 5.0, 5.0],      # sampled negative: all-zero targets, dropped
                           [-9.0, -1.0, 3.0]])
    targets = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    out = head.loss(logits, targets)
    expected = (bce(1.0, 1) + bce(-2.0, 0) + bce(-1.0, 0) + bce(3.0, 1)) / 4
    assert out["loss"].item() == pytest.approx(expected, rel=1e-6)
    # both kept RoIs' scores above 0.5 are exactly their actions: recall = precision = 1
    assert out["recall@thr=0.5"].item() == pytest.approx(1.0)
    assert out["prec@thr=0.5"].item() == pytest.approx(1.0, abs=1e-5)
    assert out["recall@top1"].item() == pytest.approx(1.0)


def test_recall_and_precision_by_hand():
    head = BBoxHeadAVA(num_classes=4, in_channels=4, topk=(2,))
    logits = torch.tensor([[0.0, 2.0, 1.0, -3.0]])   # above 0.5: classes 1 and 2
    targets = torch.tensor([[0.0, 1.0, 0.0, 1.0]])   # true: 1 and 3
    out = head.loss(logits, targets)
    assert out["recall@thr=0.5"].item() == pytest.approx(0.5)
    assert out["prec@thr=0.5"].item() == pytest.approx(0.5, abs=1e-5)
    assert out["recall@top2"].item() == pytest.approx(0.5)


def test_a_batch_without_positives_gives_zero_loss_with_a_gradient():
    head = BBoxHeadAVA(num_classes=3, in_channels=4, topk=(1, 2))
    logits = torch.randn(2, 3, requires_grad=True)
    out = head.loss(logits, torch.zeros(2, 3))
    out["loss"].backward()
    assert out["loss"].item() == 0.0 and torch.equal(logits.grad, torch.zeros(2, 3))


def test_single_label_head_uses_softmax():
    head = BBoxHeadAVA(num_classes=3, in_channels=4, multilabel=False, background_class=False, topk=(1,))
    logits = torch.tensor([[1.0, 2.0, 0.5]])
    out = head.loss(logits, torch.tensor([[0.0, 1.0, 1.0]]))
    log_p = logits.log_softmax(-1)[0]
    assert out["loss"].item() == pytest.approx(-(0.5 * log_p[1] + 0.5 * log_p[2]).item(), rel=1e-6)
    assert torch.allclose(head.scores(logits), logits.softmax(-1))


def test_pooling_and_channel_check():
    head = BBoxHeadAVA(num_classes=3, in_channels=2, temporal_pool_type="max", spatial_pool_type="avg",
                       topk=(1,))
    x = torch.zeros(1, 2, 2, 2, 2)
    x[0, 0, 1] = 4.0         # max over time 4, then mean over space 4
    x[0, 1, :, 0, 0] = 8.0   # max over time 8 at one cell, mean over 4 cells 2
    with torch.no_grad():
        head.fc_cls.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [1, 1]]))
        head.fc_cls.bias.zero_()
        assert head(x).tolist() == [[4.0, 2.0, 6.0]]
    with pytest.raises(ValueError, match="in_channels"):
        head(torch.zeros(1, 3, 1, 2, 2))
    with pytest.raises(ValueError, match="topk"):
        BBoxHeadAVA(num_classes=3, in_channels=2, topk=(3,))
