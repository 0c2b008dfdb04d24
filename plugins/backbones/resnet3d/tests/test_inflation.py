"""pretrained2d: a 2D ImageNet ResNet inflated into a 3D one reproduces the 2D features on a
clip of identical frames (away from the zero-padded clip ends), and a wrong file fails loudly."""
import pytest
import torch
import torchvision
from torch import nn

from actioncore.sdk import CheckpointError
from actioncore.sdk.weights import load_pretrained_files
from actioncore.testing import randomise_norms
from actioncore.sdk.layers import NormCfg
from actioncore_resnet3d import ResNet3d

pytestmark = pytest.mark.actioncore_plugins("actioncore_resnet3d.hooks", "actioncore_recognition.hooks",
                                          "actioncore_cls_heads.hooks", "actioncore_lists.hooks")


@pytest.fixture
def resnet18_2d(tmp_path):
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None)
    randomise_norms(net)
    path = tmp_path / "resnet18_imagenet.pth"
    torch.save(net.state_dict(), path)
    return net.eval(), path


def features_2d(net: nn.Module, frames: torch.Tensor) -> torch.Tensor:
    x = net.maxpool(net.relu(net.bn1(net.conv1(frames))))
    return net.layer4(net.layer3(net.layer2(net.layer1(x))))


def test_inflated_network_reproduces_2d_features_on_a_still_clip(resnet18_2d):
    net, path = resnet18_2d
    # temporal kernels of 3 in the stem and in both convolutions of stage 1's two blocks: the
    # temporal zero padding reaches 5 frames in from each end, not frames 7 and 8 of 16
    model = load_pretrained_files(ResNet3d(depth=18, conv1_kernel=(3, 7, 7), with_pool2=False, inflate=(1, 0, 0, 0),
                                     norm_cfg=NormCfg(eps=1e-5), pretrained=str(path), pretrained2d=True)).eval()
    assert model.conv1.conv.weight.shape[2] == 3
    frame = torch.randn(1, 3, 64, 64)
    clip = frame.unsqueeze(2).expand(1, 3, 16, 64, 64).contiguous()
    with torch.no_grad():
        ours = model(clip)
        theirs = features_2d(net, frame)
    assert ours.shape == (1, 512, 16, 2, 2)
    torch.testing.assert_close(ours[:, :, 7], theirs, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours[:, :, 8], theirs, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(ours[:, :, 0], theirs, atol=1e-3), "the clip ends see zero padding"


def test_wrong_depth_or_file_is_an_error_naming_it(resnet18_2d, tmp_path):
    _, path = resnet18_2d
    with pytest.raises(CheckpointError, match=r"resnet18_imagenet\.pth: cannot inflate into ResNet3d: layer1\.2\.conv1\.conv: no 2D kernel"):
        load_pretrained_files(ResNet3d(depth=34, pretrained=str(path), pretrained2d=True))
    with pytest.raises(CheckpointError, match="resnet18_imagenet.pth.*another depth"):
        load_pretrained_files(ResNet3d(depth=18, stage_blocks=(2, 2, 2, 1), pretrained=str(path), pretrained2d=True))
    with pytest.raises(CheckpointError, match="missing.pth: checkpoint not found"):
        load_pretrained_files(ResNet3d(depth=18, pretrained=str(tmp_path / "missing.pth"), pretrained2d=True))
    with pytest.raises(ValueError, match="pretrained2d = true needs pretrained"):
        ResNet3d(depth=18, pretrained2d=True)


def test_construction_reads_nothing_and_build_model_loads_the_file(resnet18_2d, tmp_path, examples,
                                                                   actioncore_host):
    import actioncore

    missing = tmp_path / "nowhere.pth"
    ResNet3d(depth=18, pretrained=str(missing), pretrained2d=True)  # no I/O while building
    overrides = ["model.backbone.depth=18", "model.backbone.base_channels=64", "model.head.in_channels=512",
                 "model.head.num_classes=3", f'model.backbone.pretrained="{missing}"']
    experiment = actioncore.load_config(examples / "slowonly_r50_4x16x1_256e_kinetics400_rgb.toml", overrides)
    with pytest.raises(CheckpointError, match=r"nowhere\.pth: checkpoint not found"):
        actioncore.build_model(experiment)
    net, path = resnet18_2d
    model = actioncore.build_model(actioncore.load_config(
        examples / "slowonly_r50_4x16x1_256e_kinetics400_rgb.toml",
        [*overrides[:-1], f'model.backbone.pretrained="{path}"', "model.backbone.pretrained2d=true"]))
    torch.testing.assert_close(model.backbone.layer2[0].conv1.bn.running_var, net.layer2[0].bn1.running_var)
    assert model.backbone.layer2[0].conv1.conv.weight.shape[2] == 1  # SlowOnly: no inflation in stage 2
    torch.testing.assert_close(model.backbone.layer2[0].conv1.conv.weight[:, :, 0], net.layer2[0].conv1.weight)
    with pytest.raises(CheckpointError, match=r"resnet18_imagenet\.pth: cannot inflate into ResNet3d: .*"
                                              r"\(the pretrained file of module 'backbone'\)"):
        actioncore.build_model(actioncore.load_config(
            examples / "slowonly_r50_4x16x1_256e_kinetics400_rgb.toml",
            ["model.head.num_classes=3", f'model.backbone.pretrained="{path}"', "model.backbone.pretrained2d=true"]))


def test_flow_stem_is_the_rgb_kernel_averaged_then_inflated(resnet18_2d):
    """A 2-channel (flow x, y) SlowOnly-style stem from an RGB ImageNet file: the 2D kernel is
    averaged over R, G, B, repeated for x and y, then inflated (divided by the temporal size)."""
    net, path = resnet18_2d
    model = load_pretrained_files(ResNet3d(depth=18, in_channels=2, conv1_kernel=(3, 7, 7), pretrained=str(path),
                                           pretrained2d=True))
    mean = net.conv1.weight.mean(dim=1, keepdim=True) / 3
    assert model.conv1.conv.weight.shape == (64, 2, 3, 7, 7)
    for channel in range(2):
        for t in range(3):
            torch.testing.assert_close(model.conv1.conv.weight[:, channel:channel + 1, t], mean, rtol=0, atol=0)


def test_slowonly_flow_parameter_count_is_mmaction2s():
    """MMAction2 1.2.0's slowonly_r50_8xb16-16x4x1-256e_kinetics400-flow backbone: 31,634,496 for
    RGB minus one input channel of the 1x7x7 stem (64 x 49)."""
    from actioncore.testing import count_parameters

    with torch.device("meta"):
        backbone = ResNet3d(depth=50, in_channels=2, conv1_kernel=(1, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
                            with_pool2=False, inflate=(0, 0, 1, 1))
    assert count_parameters(backbone) == 31_631_360
