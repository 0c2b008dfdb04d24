"""TEM's and PEM's losses on hand-worked examples."""
import math

import numpy as np
import pytest
import torch

from actioncore_bsn import PEM, TEM, proposal_iou_loss
from actioncore_bsn_pgm import ProposalTable


def test_tem_loss_on_a_hand_example(make_video):
    # T = 4, one action over [0.25, 0.75] of the video: anchors [0, .25), [.25, .5), [.5, .75), [.75, 1).
    # action targets (overlap over anchor): 0 1 1 0 -> 2 positives of 4: ratio 2, both weights 1.
    # start region: 0.25 -+ max(1/4, 0.1 x 0.5) / 2 = [0.125, 0.375] covers half of anchors 0 and 1:
    # targets .5 .5 0 0, none above 0.5 -> no positive: ratio 4 / max(0, 1) = 4, negatives weigh
    # 0.5 x 4 / 3 = 2/3. Same for the end region around 0.75.
    tem = TEM(temporal_dim=4, tem_feat_dim=2, tem_hidden_dim=2)
    action = [0.2, 0.9, 0.6, 0.1]
    start = [0.3, 0.4, 0.1, 0.2]
    end = [0.1, 0.2, 0.7, 0.5]
    probabilities = torch.tensor([[action, start, end]], dtype=torch.float64)
    losses = tem.loss(probabilities, [make_video("v", [[25.0, 75.0]])])
    eps = 1e-5
    expected_action = -(math.log(1 - 0.2 + eps) + math.log(0.9 + eps) + math.log(0.6 + eps)
                        + math.log(1 - 0.1 + eps)) / 4
    expected_start = -(2 / 3) * sum(math.log(1 - p + eps) for p in start) / 4
    expected_end = -(2 / 3) * sum(math.log(1 - p + eps) for p in end) / 4
    assert float(losses["loss_action"]) == pytest.approx(2.0 * expected_action, rel=1e-6)
    assert float(losses["loss_start"]) == pytest.approx(expected_start, rel=1e-6)
    assert float(losses["loss_end"]) == pytest.approx(expected_end, rel=1e-6)
    assert float(losses["loss"]) == pytest.approx(2.0 * expected_action + expected_start + expected_end, rel=1e-6)


def test_proposal_iou_loss_keeps_every_proposal_when_the_good_ones_are_many():
    # high (> .6): .9 .7; medium: .4; low (<= .2): .1 -> medium share min(1 x 2 / 1, 1) = 1,
    # low share min(2 x 2 / 1, 1) = 1: all four count. Smooth-L1 of errors .4 .2 .3 .8: .08 .02 .045 .32
    predicted = torch.tensor([0.5, 0.5, 0.1, 0.9])
    reference = torch.tensor([0.9, 0.7, 0.4, 0.1])
    loss = proposal_iou_loss(predicted, reference, generator=torch.Generator().manual_seed(0))
    assert float(loss) == pytest.approx((0.08 + 0.02 + 0.045 + 0.32) / 4, rel=1e-6)


def test_proposal_iou_loss_samples_the_poor_proposals():
    # one perfect high-IoU proposal and 1000 low ones each off by 0.5 (smooth-L1 0.125): with
    # u_ratio_l = 2 about 2 low ones are drawn (share 2 / 1000), so the loss is far below the
    # plain mean (0.125 x 1000 / 1001) that MMAction2's reduction gives
    predicted = torch.cat([torch.tensor([0.9]), torch.full((1000,), 0.6)])
    reference = torch.cat([torch.tensor([0.9]), torch.full((1000,), 0.1)])
    losses = [float(proposal_iou_loss(predicted, reference, ratio_low=2.0,
                                      generator=torch.Generator().manual_seed(seed))) for seed in range(20)]
    drawn = [round(loss / (0.125 - loss)) if loss < 0.125 else None for loss in losses]  # loss = .125 n / (n + 1)
    assert all(n is not None and 0 <= n <= 10 for n in drawn), drawn
    assert 0.5 < np.mean(drawn) < 4.0, drawn


def test_proposal_iou_loss_without_good_proposals_is_zero_with_a_gradient():
    predicted = torch.tensor([0.3, 0.8], requires_grad=True)
    loss = proposal_iou_loss(predicted, torch.tensor([0.1, 0.15]))
    loss.backward()
    assert float(loss.detach()) == 0.0 and predicted.grad is not None


def test_pem_loss_leaves_out_padding_rows(make_video, with_proposals):
    pem = PEM(pem_feat_dim=4, pem_hidden_dim=3)

    def label(ious):
        ious = np.asarray(ious, dtype=np.float64)
        return with_proposals(make_video("v", [[1.0, 2.0]]), ProposalTable(*(ious for _ in range(7))))

    confidences = torch.tensor([[0.7, 0.8, 0.0], [0.65, 123.0, 123.0]])  # padding rows hold garbage
    losses = pem.loss(confidences, [label([0.9, 0.7]), label([0.8])])
    # errors .2 .1 .15 -> smooth-L1 .02 .005 .01125, all high-IoU proposals
    assert float(losses["loss"]) == pytest.approx((0.02 + 0.005 + 0.01125) / 3, rel=1e-6)
