"""The full-size example configs: MMAction2's parameter counts, and tiny versions that train."""
import pytest
import torch

import actioncore
from actioncore import load_config
from actioncore.testing import count_parameters, fixed_batch_losses

pytestmark = pytest.mark.actioncore_plugins("actioncore_resnet3d.hooks", "actioncore_cls_heads.hooks",
                                          "actioncore_recognition.hooks", "actioncore_lists.hooks")

# MMAction2 1.2.0's counts for these configs (random init, its own recognizer).
FULL_SIZE = {
    "i3d_r50_32x2x1_100e_kinetics400_rgb.toml": 28_043_472,
    "slowonly_r50_4x16x1_256e_kinetics400_rgb.toml": 32_454_096,
    "r2plus1d_r34_8x8x1_180e_kinetics400_rgb.toml": 63_759_281,
    "ircsn_r152_32x2x1_58e_kinetics400_rgb.toml": 29_703_568,
    "c3d_sports1m_16x1x1_45e_ucf101_rgb.toml": 78_409_573,
    "i3d_nl_dot_product_r50_32x2x1_100e_kinetics400_rgb.toml": 35_397_840,
    "i3d_nl_embedded_gaussian_r50_32x2x1_100e_kinetics400_rgb.toml": 35_397_840,
    "i3d_nl_gaussian_r50_32x2x1_100e_kinetics400_rgb.toml": 31_723_728,
}

# Tiny versions: depth 18 at width 16 (CSN has bottlenecks only: depth 50 at width 8, one block a stage),
# 32 px, 4 frames; I3D needs 8 (its stem and pool1 halve time, pool2 halves it again) and C3D
# 16 x 16 x 16, the smallest clip its five poolings take.
TINY = {
    "i3d_r50_32x2x1_100e_kinetics400_rgb.toml": (
        ["model.backbone.depth=18", "model.backbone.inflate=[[1, 0], [1, 0], [1, 0], [0, 1]]",
         "model.backbone.base_channels=16", "model.head.in_channels=128"], (8, 32)),
    "slowonly_r50_4x16x1_256e_kinetics400_rgb.toml": (
        ["model.backbone.depth=18", "model.backbone.base_channels=16",
         "model.head.in_channels=128"], (4, 32)),
    "r2plus1d_r34_8x8x1_180e_kinetics400_rgb.toml": (
        ["model.backbone.depth=18", "model.backbone.base_channels=16",
         "model.head.in_channels=128"], (4, 32)),
    "ircsn_r152_32x2x1_58e_kinetics400_rgb.toml": (
        ["model.backbone.depth=50", "model.backbone.base_channels=8",
         "model.backbone.stage_blocks=[1, 1, 1, 1]", "model.backbone.norm_eval=false",
         "model.backbone.bn_frozen=false", "model.head.in_channels=256"], (4, 32)),
    "c3d_sports1m_16x1x1_45e_ucf101_rgb.toml": (["model.backbone.out_dim=512"], (16, 16)),
    **{f"i3d_nl_{mode}_r50_32x2x1_100e_kinetics400_rgb.toml": (
        ["model.backbone.depth=18", "model.backbone.inflate=[[1, 0], [1, 0], [1, 0], [0, 1]]",
         "model.backbone.non_local=[[0, 0], [0, 1], [1, 0], [0, 0]]",
         "model.backbone.base_channels=16", "model.head.in_channels=128"], (8, 32))
       for mode in ("dot_product", "embedded_gaussian", "gaussian")},
}



@pytest.mark.parametrize("name", FULL_SIZE)
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, examples, name):
    experiment = load_config(examples / name)
    with torch.device("meta"):
        model = actioncore.build_model(experiment.model)
    assert count_parameters(model) == FULL_SIZE[name]


@pytest.mark.parametrize("name", TINY)
def test_tiny_version_trains(actioncore_host, examples, name):
    overrides, (frames, size) = TINY[name]
    experiment = load_config(examples / name, ["model.head.num_classes=3", *overrides])
    torch.manual_seed(0)
    model = actioncore.build_model(experiment.model)
    inputs = torch.randn(3, 1, 3, frames, size, size)  # [B, V, C, T, H, W]
    labels = torch.tensor([0, 1, 2])
    model.eval()
    with torch.no_grad():
        assert model(inputs).shape == (3, 3)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01,
                                momentum=0.9)
    losses = fixed_batch_losses(model, inputs, labels, optimizer=optimizer, reseed=1)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    assert losses[-1] < losses[0], losses


def test_non_local_blocks_sit_where_mmaction2_puts_them(actioncore_host, examples):
    experiment = load_config(examples / "i3d_nl_dot_product_r50_32x2x1_100e_kinetics400_rgb.toml")
    with torch.device("meta"):
        model = actioncore.build_model(experiment.model)
    blocks = sorted({k.split(".non_local_block.")[0] for k in model.state_dict() if ".non_local_block." in k})
    assert blocks == ["backbone.layer2.1", "backbone.layer2.3", "backbone.layer3.1", "backbone.layer3.3",
                      "backbone.layer3.5"]
    keys = {k.split(".non_local_block.")[1] for k in model.state_dict() if k.startswith("backbone.layer2.1.")
            and ".non_local_block." in k}
    # mmcv NonLocal3d names; sub_sample wraps g and phi with their pooling in a Sequential
    assert {"g.0.conv.weight", "g.0.conv.bias", "theta.conv.weight", "phi.0.conv.weight",
            "conv_out.conv.weight", "conv_out.bn.running_var"} <= keys
    assert "conv_out.conv.bias" not in keys  # followed by BatchNorm


def test_non_local_flags_must_match_the_blocks(actioncore_host, examples):
    from actioncore_resnet3d import ResNet3d

    with pytest.raises(ValueError, match=r"non_local of stage 2 \(0, 1\) needs one value per block \(4\)"):
        ResNet3d(depth=50, non_local=(0, (0, 1), 0, 0))
