from pathlib import Path

import pytest
import torch
from torch import nn

import actioncore
from actioncore import load_config
from actioncore.sdk.weights import convert_state, load_into
from actioncore.testing import assert_component_contract, count_parameters, fixed_batch_losses
from actioncore_x3d import X3D
from actioncore_x3d.x3d import BlockX3D, round_width

pytestmark = pytest.mark.actioncore_plugins(
    "actioncore_x3d.hooks", "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
    "actioncore_lists.hooks")

EXAMPLE = (Path(__file__).resolve().parents[1] / "actioncore_x3d" / "examples"
           / "x3d_m_16x5x1_facebook_kinetics400_rgb.toml")
# 8 base channels, blocks (1, 1, 1, 1), inner width 2x: features 64 -> conv5 128
TINY = ["model.backbone.gamma_w=0.25", "model.backbone.gamma_b=2.0", "model.backbone.gamma_d=0.2",
        "model.head.in_channels=128", "model.head.num_classes=5", "model.head.dropout_ratio=0.0",
        "model.head.mid_channels=32"]



# (a) MMAction2 1.2.0's x3d_m_16x5x1_facebook-kinetics400-rgb, counted on its own modules by
# benchmarks/parity/recognizers3d.py
def test_full_size_parameter_count_is_mmaction2s(actioncore_host):
    with torch.device("meta"):
        model = actioncore.build_model(load_config(EXAMPLE).model)
    assert count_parameters(model) == 3_794_322
    assert count_parameters(model.backbone) == 2_089_986
    assert count_parameters(model.head) == 1_704_336
    assert model.backbone.stage_blocks == [3, 5, 11, 7] and model.backbone.feat_dim == 432


def test_contract(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "x3d",
                                     {"gamma_w": 0.25, "gamma_b": 2.0, "gamma_d": 0.2})
    assert net(torch.zeros(2, 3, 4, 32, 32)).shape == (2, 128, 4, 1, 1)


# (b) the example, shrunk, builds, runs forward/backward and learns a fixed batch
def test_tiny_example_trains(actioncore_host):
    torch.manual_seed(0)
    model = actioncore.build_model(load_config(EXAMPLE, TINY).model)
    model.eval()
    assert model(torch.randn(2, 3, 3, 4, 32, 32)).shape == (2, 5)  # 3 views averaged
    inputs = torch.randn(4, 1, 3, 4, 32, 32)  # [B, V, C, T, H, W]
    labels = torch.tensor([0, 1, 2, 3])
    losses = fixed_batch_losses(model, inputs, labels, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-2))
    assert losses[-1] < losses[0]
    assert model.backbone.conv1_t.conv.weight.grad is not None


def test_stage_shapes_se_and_swish():
    net = X3D(gamma_w=0.25, gamma_b=2.0, gamma_d=0.2).eval()
    shapes = {}
    for name in ("conv1_t", "layer1", "layer2", "layer3", "layer4", "conv5"):
        getattr(net, name).register_forward_hook(
            lambda m, i, o, key=name: shapes.__setitem__(key, tuple(o.shape)))
    with torch.no_grad():
        net(torch.randn(1, 3, 4, 64, 64))
    # time is never strided; space /2 in the stem and in each stage
    assert shapes == {"conv1_t": (1, 8, 4, 32, 32), "layer1": (1, 8, 4, 16, 16),
                      "layer2": (1, 16, 4, 8, 8), "layer3": (1, 32, 4, 4, 4),
                      "layer4": (1, 64, 4, 2, 2), "conv5": (1, 128, 4, 2, 2)}
    block = net.layer2[0]
    assert block.conv2.conv.groups == 32 and block.conv2.conv.kernel_size == (3, 3, 3)
    assert isinstance(block.swish, nn.SiLU)
    # SE on every other block (se_style "half"), bottleneck rounded to multiples of 8
    m = X3D(gamma_b=2.25, gamma_d=2.2, num_stages=2, spatial_strides=(2, 2))
    assert [b.se_module is not None for b in m.layer2] == [True, False, True, False, True]
    assert m.layer2[0].se_module.fc1.out_channels == round_width(108, 1 / 16) == 8
    assert all(b.se_module is None for b in X3D(se_ratio=None, num_stages=1,
                                                spatial_strides=(2,)).modules()
               if isinstance(b, BlockX3D))


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="spatial_strides"):
        X3D(num_stages=2)
    with pytest.raises(ValueError, match="se_ratio"):
        X3D(se_ratio=0.0)


def test_mmaction2_names_and_shapes_at_full_size(actioncore_host):
    with torch.device("meta"):
        model = actioncore.build_model(load_config(EXAMPLE).model)
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    expected = {  # as MMAction2 1.2.0 builds X3D-M (ConvModule: conv + bn)
        "backbone.conv1_s.conv.weight": (24, 3, 1, 3, 3),
        "backbone.conv1_t.conv.weight": (24, 1, 5, 1, 1),
        "backbone.conv1_t.bn.running_mean": (24,),
        "backbone.layer1.0.conv1.conv.weight": (54, 24, 1, 1, 1),
        "backbone.layer1.0.conv2.conv.weight": (54, 1, 3, 3, 3),
        "backbone.layer1.0.se_module.fc1.weight": (8, 54, 1, 1, 1),
        "backbone.layer1.0.se_module.fc2.bias": (54,),
        "backbone.layer1.0.downsample.conv.weight": (24, 24, 1, 1, 1),
        "backbone.layer4.6.conv3.bn.weight": (192,),
        "backbone.conv5.conv.weight": (432, 192, 1, 1, 1),
        "head.fc1.weight": (2048, 432),
        "head.fc2.weight": (400, 2048),
    }
    assert {k: own.get(k) for k in expected} == expected
    assert "backbone.conv1_s.bn.weight" not in own
    assert "backbone.layer1.1.se_module.fc1.weight" not in own


def test_mmaction2_state_dict_converts_and_loads_strictly(actioncore_host):
    model = actioncore.build_model(load_config(EXAMPLE, TINY).model).eval()
    torch.manual_seed(1)
    state = {("cls_head." + k.removeprefix("head.") if k.startswith("head.") else k):
             (torch.rand_like(v) + 0.5 if v.is_floating_point() else v.clone())
             for k, v in model.state_dict().items()}
    state["data_preprocessor.mean"] = torch.full((3, 1, 1, 1), 114.75)
    state["data_preprocessor.std"] = torch.full((3, 1, 1, 1), 57.38)
    converted = convert_state(model, state)
    load_into(model, converted, "mmaction2.pth")
    assert torch.equal(model.head.fc2.weight, state["cls_head.fc2.weight"])
    assert torch.equal(model.backbone.layer1[0].se_module.fc1.weight,
                       state["backbone.layer1.0.se_module.fc1.weight"])
    with torch.no_grad():
        assert torch.isfinite(model(torch.randn(1, 1, 3, 4, 32, 32))).all()


def test_frozen_stages_and_norm_eval():
    net = X3D(gamma_w=0.25, gamma_d=0.2, frozen_stages=1, norm_eval=True).train()
    assert not any(p.requires_grad for p in net.layer1.parameters())
    assert all(p.requires_grad for p in net.layer2.parameters())
    assert not any(m.training for m in net.modules() if isinstance(m, nn.BatchNorm3d))
