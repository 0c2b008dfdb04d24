"""Each head: the plugin contract, MMAction2's state-dict keys and parameter counts, its forward."""
import pytest
import torch

from actioncore.testing import assert_component_contract, count_parameters
from actioncore_cls_heads import (ClsHead, GCNHead, I3DHead, SlowFastHead, TimeSformerHead, TRNHead,
                                  TSMHead, TSNHead, X3DHead)

pytestmark = pytest.mark.actioncore_plugins("actioncore_cls_heads.hooks")

# name: (a small config table, an input, the output shape)
SMALL = {
    "tsn": ({"num_classes": 7, "in_channels": 16, "dropout_ratio": 0.5},
            lambda head: head(torch.zeros(6, 16, 2, 2), num_segs=3), (2, 7)),
    "i3d": ({"num_classes": 5, "in_channels": 64}, lambda head: head(torch.zeros(2, 64, 2, 3, 3)), (2, 5)),
    "slowfast": ({"num_classes": 7, "in_channels": 144},
                 lambda head: head((torch.zeros(1, 128, 2, 1, 1), torch.zeros(1, 16, 16, 1, 1))), (1, 7)),
    "x3d": ({"num_classes": 7, "in_channels": 128}, lambda head: head(torch.zeros(2, 128, 4, 1, 1)), (2, 7)),
    # 1 frame per clip left after the backbone's temporal pooling
    "tsm": ({"num_classes": 3, "in_channels": 512, "num_segments": 2, "temporal_pool": True},
            lambda head: head(torch.randn(4, 512, 1, 1)), (4, 3)),
    "trn": ({"num_classes": 3, "in_channels": 8, "num_segments": 3, "relation_type": "TRN", "hidden_dim": 4},
            lambda head: head(torch.randn(6, 8, 2, 2)), (2, 3)),
    "timesformer": ({"num_classes": 7, "in_channels": 32, "dropout_ratio": 0.5},
                    lambda head: head(torch.zeros(3, 32)), (3, 7)),
    "gcn": ({"num_classes": 5, "in_channels": 16, "dropout": 0.5},
            lambda head: head(torch.zeros(2, 2, 16, 4, 17)), (2, 5)),
}

# name: (constructor, MMAction2's state-dict keys, parameters of MMAction2's full-size config head)
FULL_SIZE = {
    "tsn": (lambda: TSNHead(num_classes=400), {"fc_cls.weight", "fc_cls.bias"}, 819_600),
    "i3d": (lambda: I3DHead(num_classes=400), {"fc_cls.weight", "fc_cls.bias"}, 819_600),
    "slowfast": (lambda: SlowFastHead(num_classes=400), {"fc_cls.weight", "fc_cls.bias"}, 922_000),
    "x3d": (lambda: X3DHead(num_classes=400), {"fc1.weight", "fc2.weight", "fc2.bias"}, 1_704_336),
    "tsm": (lambda: TSMHead(num_classes=400), {"fc_cls.weight", "fc_cls.bias"}, 819_600),
    # TRN on Something-Something V2: 174 classes, 8 segments, multi-scale relations
    "trn": (lambda: TRNHead(num_classes=174),
            {"fc_cls.weight", "fc_cls.bias"} | {f"consensus.fc_fusion_scales.{i}.{j}.{p}" for i in range(7)
                                                 for j in (1, 3) for p in ("weight", "bias")}, 3_133_122),
    "timesformer": (lambda: TimeSformerHead(num_classes=400), {"fc_cls.weight", "fc_cls.bias"}, 307_600),
    "gcn": (lambda: GCNHead(num_classes=60), {"fc.weight", "fc.bias"}, 15_420),
}


def test_the_plugin_registers_every_head(actioncore_host):
    heads = {c.name: c.factory for c in actioncore_host.registry.items("head")
             if c.distribution == "actioncore-cls-heads"}
    assert set(heads) == set(SMALL) == set(FULL_SIZE)
    assert all(issubclass(factory, ClsHead) for factory in heads.values())
    assert {factory.name.split()[0] for factory in heads.values()} == set(heads)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_contract_and_output_shape(actioncore_host, name):
    table, forward, shape = SMALL[name]
    head = assert_component_contract(actioncore_host, "head", name, table)
    assert forward(head.eval()).shape == shape


@pytest.mark.parametrize("name", sorted(FULL_SIZE))
def test_state_dict_keys_and_parameter_counts_are_mmaction2s(name):
    make, keys, parameters = FULL_SIZE[name]
    assert set(make().state_dict()) == keys
    with torch.device("meta"):
        assert count_parameters(make()) == parameters


def test_x3d_hidden_layer():
    assert "fc1.bias" in X3DHead(num_classes=3, in_channels=8, fc1_bias=True).state_dict()
    head = X3DHead(num_classes=3, in_channels=8, mid_channels=16)
    assert head.classifier is head.fc2 and head.fc1.out_features == 16
    with pytest.raises(ValueError, match="in_channels"):
        X3DHead(num_classes=3, in_channels=10)(torch.zeros(1, 8, 1, 1, 1))


def test_slowfast_concatenates_fast_then_slow():
    head = SlowFastHead(num_classes=3, in_channels=3, dropout_ratio=0.0)
    with torch.no_grad():
        head.fc_cls.weight.copy_(torch.eye(3))
        head.fc_cls.bias.zero_()
    slow, fast = torch.full((1, 1, 2, 2, 2), 5.0), torch.tensor([1.0, 3.0]).view(1, 2, 1, 1, 1)
    torch.testing.assert_close(head((slow, fast)), torch.tensor([[1.0, 3.0, 5.0]]))
    with pytest.raises(ValueError, match="in_channels"):
        SlowFastHead(num_classes=3, in_channels=10)((torch.zeros(1, 8, 1, 1, 1), torch.zeros(1, 4, 1, 1, 1)))


def test_i3d_pools_or_takes_flat_features():
    head = I3DHead(num_classes=4, in_channels=8, spatial_type="none").eval()
    x = torch.randn(2, 8)
    torch.testing.assert_close(head(x), head.fc_cls(x))
    pooled = I3DHead(num_classes=4, in_channels=8).eval()
    clip = torch.randn(2, 8, 2, 3, 3)
    torch.testing.assert_close(pooled(clip), pooled.fc_cls(clip.mean(dim=(2, 3, 4))))
    with pytest.raises(ValueError, match="spatial_type"):
        I3DHead(num_classes=3, spatial_type="max")


def test_tsm_consensus_averages_each_clips_frames():
    head = TSMHead(num_classes=4, in_channels=4, num_segments=2, spatial_type=None, dropout_ratio=0.0)
    with torch.no_grad():
        head.fc_cls.weight.copy_(torch.eye(4))
        head.fc_cls.bias.zero_()
    x = torch.arange(16.0).reshape(4, 4)
    torch.testing.assert_close(head(x), torch.stack([x[:2].mean(0), x[2:].mean(0)]))
    with pytest.raises(ValueError, match="not a multiple of 2 segments"):
        head(torch.zeros(3, 4))


def test_trn_relations():
    torch.manual_seed(0)
    multi = TRNHead(num_classes=3, in_channels=8, num_segments=4, hidden_dim=4, dropout_ratio=0.0).eval()
    assert len(multi.consensus.fc_fusion_scales) == 3      # scales 4, 3, 2
    assert multi(torch.randn(8, 8, 2, 2)).shape == (2, 3)
    with pytest.raises(ValueError, match="num_segments must be at least 2"):
        TRNHead(num_classes=3, num_segments=1)
    with pytest.raises(ValueError, match="relation_type"):
        TRNHead(num_classes=3, relation_type="TRNSingle")
    with pytest.raises(ValueError, match="num_segments = 4"):
        multi(torch.randn(6, 8, 2, 2))


def test_timesformer_head_starts_truncated_normal():
    torch.manual_seed(0)
    head = TimeSformerHead(num_classes=100, in_channels=768, init_std=0.02)
    assert head.fc_cls.weight.abs().max() <= 2.0 and torch.all(head.fc_cls.bias == 0)
    assert head.fc_cls.weight.std().item() == pytest.approx(0.02, rel=0.05)
    with pytest.raises(ValueError, match=r"expected features \[N, 768\]"):
        head(torch.zeros(2, 768, 1))


def test_gcn_averages_time_joints_then_persons():
    head = GCNHead(num_classes=2, in_channels=2).eval()
    with torch.no_grad():
        head.fc.weight.copy_(torch.eye(2))
        head.fc.bias.zero_()
    x = torch.randn(3, 2, 2, 4, 5)
    torch.testing.assert_close(head(x), x.mean(dim=(3, 4)).mean(dim=1))
    with pytest.raises(ValueError, match=r"features \[N, M, C=16, T, V\]"):
        GCNHead(num_classes=3, in_channels=16)(torch.randn(2, 8, 4, 17))
    with pytest.raises(ValueError, match="gcn dropout must be in"):
        GCNHead(num_classes=3, dropout=1.0)
