"""``torchvision_2d``: any torchvision classifier as a TSN backbone, MMAction2's parameter count for
its torchvision DenseNet-161 config, ImageNet weights from a local torchvision file, bad input."""
from pathlib import Path

import pytest
import torch
import torchvision

import actioncore
from actioncore.sdk import CheckpointError, ConfigError

pytestmark = pytest.mark.actioncore_plugins("actioncore_tsn.hooks", "actioncore_cls_heads.hooks",
                                            "actioncore_recognition.hooks", "actioncore_lists.hooks")

EXAMPLE = (Path(__file__).resolve().parents[1] / "actioncore_tsn" / "examples"
           / "tsn_torchvision_densenet161_1x1x3_100e_kinetics400_rgb.toml")
DENSENET161_PARAMETERS = 27_355_600  # MMAction2 1.2.0's TSN 'torchvision.densenet161' config, head included


def tsn(arch: str, in_channels: int, *extra: str) -> torch.nn.Module:
    overrides = [f"model.backbone.arch={arch}", f"model.head.in_channels={in_channels}", "model.head.num_classes=5",
                 "model.head.dropout_ratio=0.0", *extra]
    return actioncore.build_model(actioncore.load_config(EXAMPLE, overrides).model)


def test_full_size_parameter_count_is_mmaction2s(actioncore_host):
    with torch.device("meta"):
        model = actioncore.build_model(actioncore.load_config(EXAMPLE).model)
    assert sum(p.numel() for p in model.parameters()) == DENSENET161_PARAMETERS
    assert model.backbone.out_channels == 2208


def test_tiny_tsn_on_a_torchvision_mobilenet_runs_forward_and_backward(actioncore_host):
    torch.manual_seed(0)
    model = tsn("mobilenet_v3_small", 576)
    x, labels = torch.randn(2, 3, 3, 32, 32), torch.tensor([1, 3])
    assert model.backbone(x.flatten(0, 1)).shape == (6, 576, 1, 1)
    torch.nn.functional.cross_entropy(model(x), labels).backward()
    stem = model.backbone.net.features[0][0].weight
    assert stem.grad is not None and stem.grad.abs().sum() > 0
    assert model.head.fc_cls.weight.grad.abs().sum() > 0


@pytest.mark.parametrize(("arch", "features"), [("resnet18", "avgpool"), ("mobilenet_v3_small", "features")])
def test_imagenet_weights_load_from_a_local_torchvision_file(actioncore_host, tmp_path, arch, features):
    torch.manual_seed(1)
    reference = torchvision.models.get_model(arch, weights=None, num_classes=1000).eval()
    path = tmp_path / f"{arch}.pth"
    torch.save(reference.state_dict(), path)  # torchvision's layout, classifier included
    channels = {"resnet18": 512, "mobilenet_v3_small": 576}[arch]
    model = tsn(arch, channels, f"model.backbone.pretrained={path}").eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        if features == "features":  # MMAction2 reads .features and pools it
            expected = reference.features(x).mean(dim=(2, 3))
        else:                       # no .features: the whole network up to its (removed) fc
            reference.fc = torch.nn.Identity()
            expected = reference(x)
        torch.testing.assert_close(model.backbone(x).flatten(1), expected, rtol=0, atol=0)


def test_a_file_of_another_architecture_names_the_file(actioncore_host, tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    with pytest.raises(CheckpointError, match="resnet18.pth"):
        tsn("mobilenet_v3_small", 576, f"model.backbone.pretrained={path}")


def test_an_unknown_architecture_lists_torchvisions(actioncore_host):
    with pytest.raises((ConfigError, ValueError), match="unknown arch 'resnet51'.*resnet50"):
        tsn("resnet51", 2048)


def test_any_torchvision_classifier_is_its_network_without_the_classifier():
    """ResNeXt, MobileNetV2/V3, EfficientNet: torchvision's parameters less its classifier's
    (MMAction2 replaces ``classifier`` and ``fc``), and the classifier's input width as out_channels."""
    from actioncore_tsn import Torchvision2D

    widths = {"resnext50_32x4d": 2048, "mobilenet_v2": 1280, "mobilenet_v3_large": 960, "efficientnet_b0": 1280}
    for arch, width in widths.items():
        with torch.device("meta"):
            backbone, reference = Torchvision2D(arch=arch), torchvision.models.get_model(arch, weights=None)
        classifier = getattr(reference, "fc", None) or reference.classifier
        expected = sum(p.numel() for p in reference.parameters()) - sum(p.numel() for p in classifier.parameters())
        assert (sum(p.numel() for p in backbone.parameters()), backbone.out_channels) == (expected, width), arch
