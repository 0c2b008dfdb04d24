"""The TSN head: pooling, segment consensus, dropout and MMAction2's defaults."""
import pytest
import torch
from torch import nn

from actioncore.testing import assert_component_contract
from actioncore_cls_heads import TSNHead

pytestmark = pytest.mark.actioncore_plugins("actioncore_cls_heads.hooks")


def identity_head(**params) -> TSNHead:
    head = TSNHead(num_classes=4, in_channels=4, **params).eval()
    with torch.no_grad():
        head.fc_cls.weight.copy_(torch.eye(4))
        head.fc_cls.bias.zero_()
    return head


def test_head_contract_and_dropout(actioncore_host):
    head = assert_component_contract(actioncore_host, "head", "tsn",
                                     {"num_classes": 7, "in_channels": 16, "dropout_ratio": 0.5})
    assert head(torch.zeros(6, 16, 2, 2), num_segs=3).shape == (2, 7)
    assert isinstance(head.dropout, nn.Dropout) and head.dropout.p == 0.5


def test_default_head_is_mmaction2s_for_kinetics400(actioncore_host):
    head = assert_component_contract(actioncore_host, "head", "tsn", {"num_classes": 400})
    assert sum(p.numel() for p in head.parameters()) == 819_600
    assert head.fc_cls.weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert torch.all(head.fc_cls.bias == 0)
    assert head.dropout.p == 0.4
    no_dropout = TSNHead(num_classes=3, in_channels=8, dropout_ratio=0.0)
    assert no_dropout.dropout is None
    assert set(no_dropout.state_dict()) == {"fc_cls.weight", "fc_cls.bias"}


def test_consensus_averages_pooled_segments_per_video():
    x = torch.arange(2 * 3 * 4 * 2 * 2, dtype=torch.float32).reshape(6, 4, 2, 2)
    pooled = x.mean(dim=(2, 3))
    expected = torch.stack([pooled[0:3].mean(0), pooled[3:6].mean(0)])
    torch.testing.assert_close(identity_head()(x, num_segs=3), expected)

    maxed = x.amax(dim=(2, 3))
    expected_max = torch.stack([maxed[0:3].mean(0), maxed[3:6].mean(0)])
    torch.testing.assert_close(identity_head(spatial_type="max")(x, num_segs=3), expected_max)

    torch.testing.assert_close(identity_head(spatial_type=None)(pooled, num_segs=3), expected)
    torch.testing.assert_close(identity_head()(x, num_segs=1), pooled)


def test_head_rejects_inputs_that_do_not_fold_into_videos():
    with pytest.raises(ValueError, match="num_segs = 4"):
        identity_head()(torch.zeros(6, 4, 2, 2), num_segs=4)
    with pytest.raises(ValueError, match="expected 4 channels"):
        identity_head(spatial_type=None)(torch.zeros(6, 4, 2, 2), num_segs=3)
    with pytest.raises(ValueError, match="num_classes"):
        TSNHead(num_classes=0)
    with pytest.raises(ValueError, match="consensus must be 'avg'"):
        TSNHead(num_classes=3, consensus="max")
