"""torchvision's video ResNets and MMAction2 checkpoints load into ours and give the same outputs."""
import pytest
import torch
import torchvision
from torch import nn

from actioncore.sdk.weights import convert_state
from actioncore.sdk import CheckpointError
from actioncore.testing import assert_component_contract, randomise_norms
from actioncore_cls_heads import I3DHead
from actioncore_recognition import Recognizer3D
from actioncore_resnet3d import C3D, ResNet2Plus1d, ResNet3d, ResNet3dCSN, from_torchvision
from actioncore.sdk.layers import NormCfg

pytestmark = pytest.mark.actioncore_plugins("actioncore_resnet3d.hooks", "actioncore_cls_heads.hooks",
                                          "actioncore_recognition.hooks")


# torchvision's settings: no max pooling in the stem, no pool2, BatchNorm eps 1e-5.
TORCHVISION = {
    "r3d_18": lambda: ResNet3d(depth=18, with_pool1=False, with_pool2=False,
                               temporal_strides=(1, 2, 2, 2)),
    "mc3_18": lambda: ResNet3d(depth=18, with_pool1=False, with_pool2=False, inflate=(1, 0, 0, 0)),
    "r2plus1d_18": lambda: ResNet2Plus1d(depth=18, with_pool1=False, layout="torchvision",
                                         norm_cfg=NormCfg(eps=1e-5)),
}


@pytest.mark.parametrize("arch", TORCHVISION)
def test_torchvision_video_resnets_give_identical_outputs(arch):
    torch.manual_seed(0)
    reference = getattr(torchvision.models.video, arch)(weights=None, num_classes=5)
    randomise_norms(reference)
    ours = nn.ModuleDict({"backbone": TORCHVISION[arch](),
                          "head": I3DHead(num_classes=5, in_channels=512)})
    ours.load_state_dict(from_torchvision(reference.state_dict()), strict=True)
    reference.eval()
    ours.eval()
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        expected = reference(x)
        actual = ours["head"](ours["backbone"](x))
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)


def test_from_torchvision_rejects_other_layouts():
    with pytest.raises(CheckpointError, match="classifier.weight"):
        from_torchvision({"classifier.weight": torch.zeros(1)})


def tiny_models() -> dict[str, nn.Module]:
    return {
        "resnet3d": ResNet3d(depth=18, base_channels=8, conv1_kernel=(5, 7, 7), conv1_stride_t=2),
        "resnet2plus1d": ResNet2Plus1d(depth=18, base_channels=8),
        "resnet3d_csn_ip": ResNet3dCSN(depth=50, base_channels=8, stage_blocks=(1, 1, 1, 1),
                                       bottleneck_mode="ip"),
        "c3d": C3D(out_dim=512),
    }


# Keys as MMAction2 1.2.0 names them (read off its modules), one or two per kind of layer.
MMACTION2_KEYS = {
    "resnet3d": ["conv1.conv.weight", "conv1.bn.running_var", "layer2.0.downsample.conv.weight",
                 "layer4.1.conv2.bn.weight"],
    "resnet2plus1d": ["conv1.conv.conv_s.weight", "conv1.conv.bn_s.running_mean",
                      "conv1.conv.conv_t.weight", "layer2.0.downsample.conv.conv_t.weight",
                      "layer3.1.conv1.bn.bias"],
    "resnet3d_csn_ip": ["layer1.0.conv2.0.conv.weight", "layer1.0.conv2.1.conv.weight",
                        "layer1.0.conv2.1.bn.weight", "layer1.0.conv3.bn.weight"],
    "c3d": ["conv1a.conv.weight", "conv1a.conv.bias", "conv5b.conv.bias", "fc6.weight",
            "fc7.bias"],
}


@pytest.mark.parametrize("name", MMACTION2_KEYS)
def test_mmaction2_checkpoint_converts_and_loads_strictly(name):
    torch.manual_seed(0)
    source = Recognizer3D(backbone=tiny_models()[name],
                          head=I3DHead(num_classes=4, in_channels=4096 if name == "c3d" else
                                       (256 if name == "resnet3d_csn_ip" else 64),
                                       spatial_type="none" if name == "c3d" else "avg"))
    randomise_norms(source)
    assert set(MMACTION2_KEYS[name]) <= set(source.backbone.state_dict())
    # the checkpoint as MMAction2 saves it: cls_head, data_preprocessor buffers
    mmaction2 = {f"backbone.{k}": v.clone() for k, v in source.backbone.state_dict().items()}
    mmaction2 |= {f"cls_head.{k}": v.clone() for k, v in source.head.state_dict().items()}
    mmaction2["data_preprocessor.mean"] = torch.zeros(3, 1, 1, 1)
    mmaction2["data_preprocessor.std"] = torch.ones(3, 1, 1, 1)

    torch.manual_seed(1)
    target = Recognizer3D(backbone=tiny_models()[name], head=I3DHead(
        num_classes=4, in_channels=source.head.in_channels, spatial_type=source.head.spatial_type))
    target.load_state_dict(convert_state(target, mmaction2), strict=True)
    source.eval()
    target.eval()
    x = torch.randn(1, 1, 3, 16, 16, 16) if name == "c3d" else torch.randn(1, 1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x), rtol=0, atol=0)


@pytest.mark.parametrize(("kind", "name", "table"), [
    ("backbone", "resnet3d", {"depth": 18, "base_channels": 8,
                              "inflate": [[1, 0], [1, 0], [1, 0], [0, 1]]}),
    ("backbone", "resnet2plus1d", {"depth": 18, "base_channels": 8,
                                   "norm_cfg": {"type": "SyncBN", "eps": 0.001}}),
    ("backbone", "resnet3d_csn", {"depth": 50, "base_channels": 8, "stage_blocks": [1, 1, 1, 1]}),
    ("backbone", "c3d", {"out_dim": 512}),
])
def test_component_contracts(actioncore_host, kind, name, table):
    assert_component_contract(actioncore_host, kind, name, table)


def test_backbone_output_shapes():
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        assert ResNet3d(depth=18, base_channels=8).eval()(x).shape == (1, 64, 4, 1, 1)
        outs = ResNet3d(depth=18, base_channels=8, with_pool2=False, out_indices=(0, 3)).eval()(x)
        assert [tuple(o.shape) for o in outs] == [(1, 8, 8, 8, 8), (1, 64, 8, 1, 1)]
        r2plus1d = ResNet2Plus1d(depth=18, base_channels=8).eval()
        assert r2plus1d(x).shape == (1, 64, 1, 1, 1)
        # MMAction2's ConvModule keeps norm_cfg from the (2+1)D convolution's middle norm
        assert (r2plus1d.conv1.bn.eps, r2plus1d.conv1.conv.bn_s.eps) == (1e-3, 1e-5)
        assert C3D(out_dim=512).eval()(torch.randn(1, 3, 16, 16, 16)).shape == (1, 4096)
        with pytest.raises(ValueError, match="out_dim"):
            C3D(out_dim=512)(torch.randn(1, 3, 16, 32, 32))


def test_frozen_stages_norm_eval_and_bn_frozen():
    net = ResNet3d(depth=18, base_channels=8, frozen_stages=1).train()
    assert not any(p.requires_grad for m in (net.conv1, net.layer1) for p in m.parameters())
    assert all(p.requires_grad for p in net.layer2.parameters())
    assert not net.layer1[0].conv1.bn.training and net.layer2[0].conv1.bn.training
    csn = ResNet3dCSN(depth=50, base_channels=8, stage_blocks=(1, 1, 1, 1), norm_eval=True,
                      bn_frozen=True).train()
    norms = [m for m in csn.modules() if isinstance(m, nn.BatchNorm3d)]
    assert not any(m.training or m.weight.requires_grad for m in norms)
    assert all(p.requires_grad for n, p in csn.named_parameters() if ".conv." in n)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="inflate of stage 1"):
        ResNet3d(depth=18, inflate=((1, 1, 1), 1, 1, 1))
    with pytest.raises(ValueError, match="depth"):
        ResNet3dCSN(depth=18)
    with pytest.raises(ValueError, match="basic blocks only"):
        ResNet2Plus1d(depth=50, layout="torchvision")
