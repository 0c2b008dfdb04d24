"""MobileNetV2-TSM: MMAction2's parameter count and shift placement, a tiny variant that trains,
the mmcls ImageNet file as ``pretrained`` (plain names into the shifted ones)."""
from pathlib import Path

import pytest
import torch

import actioncore
from actioncore.sdk import CheckpointError
from actioncore.sdk.weights import load_pretrained_files
from actioncore.testing import fixed_batch_losses
from actioncore_tsm import MobileNetV2, MobileNetV2TSM, TemporalShift

pytestmark = pytest.mark.actioncore_plugins("actioncore_tsm.hooks", "actioncore_tsn.hooks",
                                            "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
                                            "actioncore_lists.hooks")

EXAMPLE = Path(__file__).resolve().parents[1] / "actioncore_tsm" / "examples" / "tsm_mobilenetv2_1x1x8_100e_kinetics400_rgb.toml"
PARAMETERS = 2_736_272  # MMAction2 1.2.0: tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb
BACKBONE_PARAMETERS = 2_223_872
# MMAction2 shifts the expansion of every residual block that has one: layer2.1, layer3.1-2,
# layer4.1-3, layer5.1-2, layer6.1-2
SHIFTED = {f"layer{s}.{b}.conv.0" for s, blocks in {2: 1, 3: 2, 4: 3, 5: 2, 6: 2}.items() for b in range(1, blocks + 1)}


def test_full_size_parameter_count_and_shifts_are_mmaction2s(actioncore_host):
    with torch.device("meta"):
        model = actioncore.build_model(actioncore.load_config(EXAMPLE).model)
    assert sum(p.numel() for p in model.parameters()) == PARAMETERS
    assert sum(p.numel() for p in model.backbone.parameters()) == BACKBONE_PARAMETERS
    assert {n for n, m in model.backbone.named_modules() if isinstance(m, TemporalShift)} == SHIFTED


def test_tiny_tsm_mobilenet_trains_and_averages_views(actioncore_host):
    torch.manual_seed(0)
    overrides = ["model.backbone.widen_factor=0.25", "model.backbone.num_segments=2", "model.head.num_segments=2",
                 "model.head.num_classes=5", "model.head.dropout_ratio=0.0"]
    model = actioncore.build_model(actioncore.load_config(EXAMPLE, overrides).model)
    assert model.backbone.out_channels == 1280  # MMAction2 widens the last layer only above 1
    x, labels = torch.randn(2, 2, 3, 32, 32), torch.tensor([1, 3])
    losses = fixed_batch_losses(model, x, labels, steps=3)
    assert losses[-1] < losses[0], losses
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3 * 2, 3, 32, 32)).shape == (2, 5)


def test_mmcls_imagenet_file_loads_into_the_shifted_layers(tmp_path):
    plain = MobileNetV2(widen_factor=0.25)
    with torch.no_grad():
        for p in plain.parameters():
            p.normal_()
    path = tmp_path / "mobilenet_v2_mmcls.pth"  # mmcls's layout: backbone.* and its ImageNet head
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in plain.state_dict().items()}
                | {"head.fc.weight": torch.zeros(1000, 1280), "head.fc.bias": torch.zeros(1000)}}, path)
    tsm = load_pretrained_files(MobileNetV2TSM(widen_factor=0.25, num_segments=2, pretrained=str(path)))
    torch.testing.assert_close(tsm.layer2[1].conv[0].net.conv.weight, plain.layer2[1].conv[0].conv.weight)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():  # same weights, but the shifts mix the two frames of the clip
        assert not torch.equal(tsm.eval()(x), plain.eval()(x))
    bad = tmp_path / "truncated.pth"
    torch.save({k: v for k, v in plain.state_dict().items() if not k.startswith("conv2.")}, bad)
    with pytest.raises(CheckpointError, match="truncated.pth"):
        load_pretrained_files(MobileNetV2TSM(widen_factor=0.25, pretrained=str(bad)))
