"""PoseC3D's SlowOnly: MMAction2's size and names, shapes, training on heatmap volumes."""
import pytest
import torch
from torch import nn

import actioncore
from actioncore.sdk import Sequential
from actioncore.sdk.weights import convert_parts
from actioncore.testing import assert_component_contract, count_parameters, fixed_batch_losses
from actioncore_cls_heads import I3DHead
from actioncore_posec3d import PoseC3DSlowOnly
from actioncore_resnet3d import ResNet3d

pytestmark = pytest.mark.actioncore_plugins("actioncore_posec3d.hooks", "actioncore_resnet3d.hooks",
                                          "actioncore_cls_heads.hooks")



# MMAction2 1.2.0, configs/skeleton/posec3d/slowonly_r50_8xb16-u48-240e_gym-keypoint.py (99
# classes) and ..._ntu60-xsub-keypoint.py (60), random init.
@pytest.mark.parametrize(("num_classes", "expected"), [(99, 2_044_867), (60, 2_024_860)])
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, num_classes, expected):
    with torch.device("meta"):
        model = actioncore.build("model", "sequential", backbone={"type": "posec3d_slowonly"},
                                 head={"type": "i3d", "num_classes": num_classes, "in_channels": 512})
    assert count_parameters(model) == expected


def test_defaults_are_mmaction2s_posec3d_settings():
    net = PoseC3DSlowOnly()
    assert isinstance(net, ResNet3d) and net.out_channels == 512
    assert [len(getattr(net, name)) for name in net.res_layers] == [4, 6, 3]
    assert net.conv1.conv.weight.shape == (32, 17, 1, 7, 7) and net.conv1.conv.stride == (1, 1, 1)
    assert net.maxpool.stride == (1, 1, 1) and not net.with_pool2
    # temporal kernels in stages 2 and 3 only, time halved in stage 3
    assert net.layer1[0].conv1.conv.kernel_size == (1, 1, 1)
    assert net.layer2[0].conv1.conv.kernel_size == (3, 1, 1)
    assert net.layer3[0].conv2.conv.stride == (2, 2, 2)
    with torch.device("meta"):
        features = net.to("meta")(torch.empty(2, 17, 48, 56, 56))
    assert features.shape == (2, 512, 24, 7, 7)


def tiny() -> PoseC3DSlowOnly:
    return PoseC3DSlowOnly(base_channels=8, stage_blocks=(1, 1, 1))


def test_tiny_model_trains():
    torch.manual_seed(0)
    model = Sequential(backbone=tiny(), head=I3DHead(num_classes=3, in_channels=128, dropout_ratio=0.0))
    heatmaps = torch.rand(3, 17, 4, 16, 16)  # [N, K, T, H, W]
    labels = torch.tensor([0, 1, 2])
    model.eval()
    with torch.no_grad():
        assert model.backbone(heatmaps).shape == (3, 128, 2, 2, 2)
        assert model(heatmaps).shape == (3, 3)
    losses = fixed_batch_losses(model, heatmaps, labels, steps=4)
    assert all(p.grad is not None for p in model.parameters())
    assert losses[-1] < losses[0], losses


def test_component_contract(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "posec3d_slowonly",
                                    {"base_channels": 8, "stage_blocks": [1, 1, 1], "in_channels": 28})
    assert net.conv1.conv.in_channels == 28  # limb heatmaps of NTU RGB+D: 28 channels


def test_mmaction2_checkpoint_converts_and_gives_equal_logits():
    torch.manual_seed(0)
    source = Sequential(backbone=tiny(), head=I3DHead(num_classes=4, in_channels=128))
    with torch.no_grad():
        for m in source.modules():
            if isinstance(m, nn.BatchNorm3d):
                m.weight.uniform_(0.5, 1.5)
                m.running_var.uniform_(0.5, 1.5)
    # MMAction2's Recognizer3D names: backbone.layer1.0.conv1.conv.weight, cls_head.fc_cls.weight
    checkpoint = {f"backbone.{k}": v.clone() for k, v in source.backbone.state_dict().items()}
    checkpoint |= {f"cls_head.{k}": v.clone() for k, v in source.head.state_dict().items()}
    assert {"backbone.layer3.0.downsample.conv.weight", "cls_head.fc_cls.bias"} <= set(checkpoint)
    target = Sequential(backbone=tiny(), head=I3DHead(num_classes=4, in_channels=128))
    target.load_state_dict(convert_parts(target, checkpoint), strict=True)
    source.eval()
    target.eval()
    x = torch.rand(1, 17, 4, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x), rtol=0, atol=0)
