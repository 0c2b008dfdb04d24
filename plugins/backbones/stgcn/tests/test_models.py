"""ST-GCN, AAGCN and the GCN head: MMAction2's sizes and names, shapes, training, conversion."""
import pytest
import torch
from torch import nn

import actioncore
from actioncore.sdk import Sequential
from actioncore.sdk.weights import convert_parts
from actioncore.sdk import CheckpointError
from actioncore.testing import assert_component_contract, count_parameters, fixed_batch_losses
from actioncore_cls_heads import GCNHead
from actioncore_stgcn import AAGCN, STGCN, GraphCfg

pytestmark = pytest.mark.actioncore_plugins("actioncore_stgcn.hooks", "actioncore_cls_heads.hooks")

# MMAction2 1.2.0's recognizers (random init), 60 classes: configs/skeleton/stgcn/
# stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-{2d,3d}.py and 2s-agcn/2s-agcn_8xb16-joint-
# u100-80e_ntu60-xsub-keypoint-2d.py, the latter with its AAGCN defaults (attention on) and as
# shipped (gcn_attention = False: 2s-AGCN).
FULL_SIZE = {
    "stgcn_coco": ({"type": "stgcn", "graph_cfg": {"layout": "coco", "mode": "stgcn_spatial"}}, 3_088_704),
    "stgcn_nturgbd": ({"type": "stgcn", "graph_cfg": {"layout": "nturgb+d", "mode": "stgcn_spatial"}},
                      3_098_832),
    # stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py
    "stgcnpp_coco": ({"type": "stgcn", "graph_cfg": {"layout": "coco", "mode": "spatial"},
                      "gcn_adaptive": "init", "gcn_with_res": True, "tcn_type": "mstcn"}, 1_393_016),
    "aagcn_coco": ({"type": "aagcn", "graph_cfg": {"layout": "coco", "mode": "spatial"}}, 3_760_228),
    "2s-agcn_coco": ({"type": "aagcn", "graph_cfg": {"layout": "coco", "mode": "spatial"},
                      "gcn_attention": False}, 3_459_344),
}



@pytest.mark.parametrize("name", FULL_SIZE)
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, name):
    backbone, expected = FULL_SIZE[name]
    with torch.device("meta"):
        model = actioncore.build("model", "sequential", backbone=backbone,
                                 head={"type": "gcn", "num_classes": 60, "in_channels": 256})
    assert count_parameters(model) == expected


def test_defaults_are_the_papers_graphs():
    assert STGCN().graph.mode == "stgcn_spatial" and AAGCN().graph.mode == "spatial"
    # learnable edge importance: one mask per block, initially all ones
    importance = [block.gcn.PA for block in STGCN().gcn]
    assert len(importance) == 10 and all(bool((pa == 1).all()) for pa in importance)


STGCNPP = dict(graph_cfg=GraphCfg(layout="coco", mode="spatial"), gcn_adaptive="init", gcn_with_res=True,
               tcn_type="mstcn")


def tiny(kind: str, **overrides) -> nn.Module:
    """Four blocks: 3 -> 8 channels, 8, 16 (time halved), 16 (12 and 24 for ST-GCN++, whose
    temporal module has six branches)."""
    if kind == "stgcnpp":
        return STGCN(base_channels=12, num_stages=4, inflate_stages=(3,), down_stages=(3,), **STGCNPP,
                     **overrides)
    plan = dict(base_channels=8, num_stages=4, inflate_stages=(3,), down_stages=(3,), **overrides)
    return STGCN(**plan) if kind == "stgcn" else AAGCN(**plan)


def out_channels(kind: str) -> int:
    return 24 if kind == "stgcnpp" else 16


@pytest.mark.parametrize("kind", ["stgcn", "stgcnpp", "aagcn"])
def test_tiny_model_shapes_and_training(kind):
    torch.manual_seed(0)
    model = Sequential(backbone=tiny(kind), head=GCNHead(num_classes=3, in_channels=out_channels(kind)))
    skeletons = torch.randn(6, 2, 12, 17, 3)  # [N, M, T, V, C]
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    model.eval()
    with torch.no_grad():
        assert model.backbone(skeletons).shape == (6, 2, out_channels(kind), 6, 17)
        assert model(skeletons).shape == (6, 3)
    losses = fixed_batch_losses(model, skeletons, labels, steps=6)
    assert all(p.grad is not None for p in model.parameters())
    assert losses[-1] < losses[0], losses


def test_nturgbd_layout_and_feature_variants():
    model = tiny("stgcn", graph_cfg=GraphCfg(layout="nturgb+d", mode="stgcn_spatial", max_hop=2),
                 gcn_adaptive="init", gcn_with_res=True, gcn_conv_pos="post", tcn_dropout=0.1,
                 data_bn_type="MVC")
    assert model.gcn[0].gcn.A.shape == (5, 25, 25) and isinstance(model.gcn[0].gcn.A, nn.Parameter)
    assert model(torch.randn(2, 2, 8, 25, 3)).shape == (2, 2, 16, 4, 25)
    agcn = tiny("aagcn", gcn_adaptive=False, gcn_attention=False, data_bn_type="none")
    assert agcn(torch.randn(2, 1, 8, 17, 3)).shape == (2, 1, 16, 4, 17)


def test_bad_inputs_and_parameters_are_named():
    with pytest.raises(ValueError, match=r"V=17, C=3\], got \[2, 2, 8, 25, 3\]"):
        tiny("stgcn")(torch.randn(2, 2, 8, 25, 3))
    with pytest.raises(ValueError, match="num_person = 2, got 3 persons"):
        tiny("aagcn")(torch.randn(1, 3, 8, 17, 3))
    with pytest.raises(ValueError, match="gcn_adaptive"):
        STGCN(gcn_adaptive="learned")
    with pytest.raises(ValueError, match="builds no block"):
        STGCN(in_channels=64, num_stages=1)


@pytest.mark.parametrize(("kind", "name", "table"), [
    ("backbone", "stgcn", {"graph_cfg": {"layout": "openpose", "mode": "stgcn_spatial"},
                           "base_channels": 8, "num_stages": 3, "inflate_stages": [3], "down_stages": [3]}),
    ("backbone", "aagcn", {"graph_cfg": {"layout": "custom", "mode": "spatial", "num_node": 3,
                                         "inward": [[0, 1], [2, 1]], "center": 1},
                           "base_channels": 8, "num_stages": 2, "gcn_attention": False}),
])
def test_component_contracts(actioncore_host, kind, name, table):
    assert_component_contract(actioncore_host, kind, name, table)


# Keys as MMAction2 1.2.0 names them (read off its modules).
MMACTION2_KEYS = {
    "stgcn": ["data_bn.running_var", "gcn.0.gcn.PA", "gcn.0.gcn.conv.weight", "gcn.0.gcn.bn.bias",
              "gcn.1.tcn.conv.weight", "gcn.2.residual.conv.weight", "gcn.2.residual.bn.running_mean"],
    "stgcnpp": ["gcn.0.gcn.A", "gcn.0.gcn.down.0.weight", "gcn.1.tcn.branches.0.0.weight",
                "gcn.1.tcn.branches.3.3.conv.weight", "gcn.1.tcn.branches.4.1.running_var",
                "gcn.1.tcn.branches.5.weight", "gcn.1.tcn.transform.2.bias", "gcn.1.tcn.bn.weight"],
    "aagcn": ["data_bn.weight", "gcn.0.gcn.A", "gcn.0.gcn.alpha", "gcn.0.gcn.conv_a.2.weight",
              "gcn.0.gcn.conv_b.0.bias", "gcn.0.gcn.conv_d.1.weight", "gcn.0.gcn.down.1.running_var",
              "gcn.0.gcn.conv_ta.weight", "gcn.0.gcn.conv_sa.bias", "gcn.0.gcn.fc1c.weight",
              "gcn.3.gcn.fc2c.bias", "gcn.2.residual.bn.weight"],
}


def as_mmaction2_checkpoint(model: Sequential) -> dict[str, torch.Tensor]:
    """The state dict MMAction2 would save: ``cls_head.``, and the fixed graphs MMAction2 keeps
    as buffers (each unit's ``A``; AAGCN also one at the top)."""
    state = {f"backbone.{k}": v.clone() for k, v in model.backbone.state_dict().items()}
    state |= {f"cls_head.{k}": v.clone() for k, v in model.head.state_dict().items()}
    for i, block in enumerate(model.backbone.gcn):
        state.setdefault(f"backbone.gcn.{i}.gcn.A", block.gcn.A.detach().clone())
    if isinstance(model.backbone, AAGCN):
        state["backbone.A"] = model.backbone.A.clone()
    return state


@torch.no_grad()
def randomise(model: nn.Module) -> None:
    for name, param in model.named_parameters():
        param.add_(0.1 * torch.randn_like(param))
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)


@pytest.mark.parametrize("kind", ["stgcn", "stgcnpp", "aagcn"])
def test_mmaction2_checkpoint_converts_and_gives_equal_logits(kind):
    torch.manual_seed(0)
    source = Sequential(backbone=tiny(kind), head=GCNHead(num_classes=4, in_channels=out_channels(kind)))
    randomise(source)
    assert set(MMACTION2_KEYS[kind]) <= set(source.backbone.state_dict())
    checkpoint = as_mmaction2_checkpoint(source)
    torch.manual_seed(1)
    target = Sequential(backbone=tiny(kind), head=GCNHead(num_classes=4, in_channels=out_channels(kind)))
    target.load_state_dict(convert_parts(target, checkpoint), strict=True)
    source.eval()
    target.eval()
    x = torch.randn(2, 2, 8, 17, 3)
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x), rtol=0, atol=0)


def test_checkpoint_of_another_graph_is_refused():
    # spatial and stgcn_spatial both have 3 subsets of 17 x 17: only the saved graph tells them apart
    other = Sequential(backbone=tiny("stgcn", graph_cfg=GraphCfg(layout="coco", mode="spatial")),
                       head=GCNHead(num_classes=4, in_channels=16))
    target = Sequential(backbone=tiny("stgcn"), head=GCNHead(num_classes=4, in_channels=16))
    refusal = r"graph stgcn.gcn.0.gcn.A \(shape \[3, 17, 17\]\) differs .* another graph_cfg layout or mode"
    with pytest.raises(CheckpointError, match=refusal):
        convert_parts(target, as_mmaction2_checkpoint(other))
