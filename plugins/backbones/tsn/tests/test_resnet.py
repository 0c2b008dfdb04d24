import logging

import pytest
import torch
import torchvision
from torch import nn

from actioncore.sdk import CheckpointError
from actioncore.sdk.weights import load_pretrained_files
from actioncore.testing import assert_component_contract, count_parameters
from actioncore_tsn.resnet import ResNet
from actioncore_tsn.weights import torchvision_key

pytestmark = pytest.mark.actioncore_plugins("actioncore_tsn.hooks")



def norms(module: nn.Module) -> list[nn.BatchNorm2d]:
    return [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]


@pytest.fixture(scope="module")
def resnet50() -> ResNet:
    return ResNet(depth=50)


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, nn.Module]:
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    with torch.no_grad():
        for bn in norms(reference):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    return str(path), reference.eval()


def test_the_fixture_registers_exactly_this_plugin(actioncore_host):
    assert list(actioncore_host.distributions()) == ["actioncore", "actioncore-tsn"]


def test_resnet18_contract_and_shapes(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "resnet", {"depth": 18})
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 512, 1, 1)
    assert net.out_channels == 512


def test_resnet50_default_config_builds_with_mmaction2_shapes(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "resnet", "norm_eval = false")
    assert net.depth == 50 and net.out_channels == 2048
    assert net.eval()(torch.zeros(1, 3, 64, 64)).shape == (1, 2048, 2, 2)


def test_several_out_indices_give_every_stage(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "resnet",
                                     {"depth": 18, "out_indices": [0, 1, 2, 3]})
    outs = net(torch.zeros(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 16, 16), (1, 128, 8, 8),
                                             (1, 256, 4, 4), (1, 512, 2, 2)]


def test_strides_dilations_and_fewer_stages():
    dilated = ResNet(depth=18, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))
    assert dilated(torch.zeros(1, 3, 64, 64)).shape == (1, 512, 4, 4)
    assert dilated.layer4[1].conv1.conv.dilation == (2, 2)
    short = ResNet(depth=18, num_stages=2, out_indices=(1,), strides=(1, 2), dilations=(1, 1))
    assert short(torch.zeros(1, 3, 32, 32)).shape == (1, 128, 4, 4)
    assert not hasattr(short, "layer3")


def test_style_moves_the_stride_of_bottlenecks(resnet50):
    assert resnet50.layer2[0].conv1.conv.stride == (1, 1)
    assert resnet50.layer2[0].conv2.conv.stride == (2, 2)
    caffe = ResNet(depth=50, style="caffe", num_stages=2, out_indices=(1,), strides=(1, 2),
                   dilations=(1, 1))
    assert caffe.layer2[0].conv1.conv.stride == (2, 2)
    assert caffe.layer2[0].conv2.conv.stride == (1, 1)


def test_bad_parameters_are_rejected(actioncore_host):
    with pytest.raises(AssertionError, match="depth"):
        assert_component_contract(actioncore_host, "backbone", "resnet", {"depth": 20})
    with pytest.raises(ValueError, match="out_indices"):
        ResNet(depth=18, out_indices=(4,))
    with pytest.raises(ValueError, match="strides"):
        ResNet(depth=18, num_stages=3)
    with pytest.raises(ValueError, match="frozen_stages"):
        ResNet(depth=18, frozen_stages=5)


def test_resnet50_parameter_count_is_mmaction2s(resnet50):
    assert count_parameters(resnet50) == 23_508_032


@pytest.mark.parametrize("depth", [18, 34, 101, 152])
def test_parameter_count_is_torchvisions_without_fc(depth):
    with torch.device("meta"):
        reference = getattr(torchvision.models, f"resnet{depth}")(weights=None)
        net = ResNet(depth=depth)
    assert count_parameters(net) == count_parameters(reference) - count_parameters(reference.fc)


def test_names_are_mmaction2s_and_map_one_to_one_from_torchvision(resnet50):
    ours = set(resnet50.state_dict())
    assert {"conv1.conv.weight", "conv1.bn.running_var", "layer1.0.conv1.conv.weight",
            "layer1.0.downsample.conv.weight", "layer1.0.downsample.bn.bias",
            "layer4.2.conv3.bn.weight"} <= ours
    reference = torchvision.models.resnet50(weights=None).state_dict()
    mapped = {torchvision_key(k) for k in reference if not k.startswith("fc.")}
    assert mapped == ours
    assert torchvision_key("fc.weight") is None


def test_initialisation_is_kaiming_fan_out_and_unit_batchnorm(resnet50):
    conv = resnet50.layer3[0].conv2.conv.weight
    fan_out = conv.shape[0] * conv.shape[2] * conv.shape[3]
    assert conv.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.05)
    for bn in norms(resnet50):
        assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)


def test_frozen_stages_stop_gradients_and_statistics():
    net = ResNet(depth=18, frozen_stages=1).train()
    frozen = [net.conv1, net.layer1]
    assert not any(p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for p in net.layer2.parameters())
    assert not any(bn.training for m in frozen for bn in norms(m))
    assert all(bn.training for bn in norms(net.layer2))
    before = net.layer1[0].conv1.bn.running_mean.clone()
    net(torch.randn(2, 3, 32, 32) + 3)
    assert torch.equal(net.layer1[0].conv1.bn.running_mean, before)
    assert not torch.equal(net.layer2[0].conv1.bn.running_mean, torch.zeros(128))


def test_norm_eval_keeps_every_batchnorm_in_eval_mode():
    net = ResNet(depth=18, norm_eval=True).train()
    assert not any(bn.training for bn in norms(net))
    assert all(p.requires_grad for p in net.parameters())
    before = net.conv1.bn.running_mean.clone()
    net(torch.randn(2, 3, 32, 32) + 3)
    assert torch.equal(net.conv1.bn.running_mean, before)


def test_partial_bn_freezes_every_batchnorm_but_the_first():
    net = ResNet(depth=18, partial_bn=True).train()
    first, *rest = norms(net)
    assert first.training and first.weight.requires_grad
    assert rest and not any(bn.training or bn.weight.requires_grad or bn.bias.requires_grad
                            for bn in rest)
    assert all(p.requires_grad for name, p in net.named_parameters() if ".conv." in name)


def test_with_cp_gives_the_same_outputs_and_gradients():
    torch.manual_seed(0)
    plain = ResNet(depth=18, num_stages=2, out_indices=(1,), strides=(1, 2), dilations=(1, 1))
    recomputed = ResNet(depth=18, num_stages=2, out_indices=(1,), strides=(1, 2),
                        dilations=(1, 1), with_cp=True)
    recomputed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32)
    outs = [net(x) for net in (plain, recomputed)]
    torch.testing.assert_close(outs[0], outs[1])
    for out in outs:
        out.square().sum().backward()
    torch.testing.assert_close(plain.conv1.conv.weight.grad, recomputed.conv1.conv.weight.grad)


def test_torchvision_weights_load_from_a_local_file(resnet18_file, caplog):
    path, reference = resnet18_file
    with caplog.at_level(logging.INFO, logger="actioncore.tsn"):
        net = load_pretrained_files(ResNet(depth=18, pretrained=path)).eval()
    assert torch.equal(net.conv1.conv.weight, reference.conv1.weight)
    assert torch.equal(net.layer3[0].downsample.bn.running_var, reference.layer3[0].downsample[1].running_var)
    assert "fc.weight" in caplog.text
    trunk = nn.Sequential(*list(reference.children())[:-2])
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(net(x), trunk(x), rtol=0, atol=1e-5)


def test_pretrained_in_our_own_naming_loads_too(tmp_path):
    source = ResNet(depth=18)
    path = tmp_path / "backbone.pth"
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in source.state_dict().items()}}, path)
    net = load_pretrained_files(ResNet(depth=18, pretrained=str(path)))
    for key, value in source.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key


def test_unreadable_or_unfitting_pretrained_files_name_the_file(tmp_path, resnet18_file):
    path, _ = resnet18_file
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt.pth"):
        load_pretrained_files(ResNet(depth=18, pretrained=str(corrupt)))
    with pytest.raises(CheckpointError, match="missing.pth.*not found"):
        load_pretrained_files(ResNet(depth=18, pretrained=str(tmp_path / "missing.pth")))
    listing = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], listing)
    with pytest.raises(CheckpointError, match="list.pth.*not a state dict"):
        load_pretrained_files(ResNet(depth=18, pretrained=str(listing)))
    tampered = tmp_path / "tampered.pth"  # (another in_channels is no mismatch: the stem is averaged)
    torch.save({**torch.load(path, weights_only=True), "layer1.0.conv1.weight": torch.zeros(64, 32, 3, 3)}, tampered)
    with pytest.raises(CheckpointError, match=r"tampered.pth.*shape mismatch for layer1\.0\.conv1\.conv\.weight"):
        load_pretrained_files(ResNet(depth=18, pretrained=str(tampered)))
    with pytest.raises(CheckpointError, match=r"resnet18.pth.*tensors are missing: layer1\.2\."):
        load_pretrained_files(ResNet(depth=34, num_stages=3, out_indices=(2,), strides=(1, 2, 2),
                               dilations=(1, 1, 1), pretrained=path))
    deeper = tmp_path / "resnet34.pth"
    torch.save(ResNet(depth=34).state_dict(), deeper)
    with pytest.raises(CheckpointError, match="resnet34.pth.*blocks the model does not have"):
        load_pretrained_files(ResNet(depth=18, pretrained=str(deeper)))


def test_flow_stem_starts_from_the_rgb_kernel_averaged_over_its_channels(resnet18_file):
    """TSN's cross-modality pre-training: conv1 of a 10-channel (5 flow pairs) ResNet is the mean
    of the ImageNet kernel over R, G, B, once per input channel; every other tensor is copied."""
    path, reference = resnet18_file
    net = load_pretrained_files(ResNet(depth=18, in_channels=10, pretrained=path))
    mean = reference.conv1.weight.mean(dim=1, keepdim=True)
    assert net.conv1.conv.weight.shape == (64, 10, 7, 7)
    for channel in range(10):
        torch.testing.assert_close(net.conv1.conv.weight[:, channel:channel + 1], mean, rtol=0, atol=0)
    assert torch.equal(net.layer1[0].conv1.conv.weight, reference.layer1[0].conv1.weight)
    assert torch.equal(net.conv1.bn.running_var, reference.bn1.running_var)
    # 10 uniform channels at 3/10 of a gray level answer as the RGB network does to that gray image
    with torch.no_grad():
        torch.testing.assert_close(net.eval()(torch.full((1, 10, 64, 64), 0.3 * 3 / 10)),
                                   nn.Sequential(*list(reference.children())[:-2])(torch.full((1, 3, 64, 64), 0.3)),
                                   rtol=1e-4, atol=1e-4)


def test_tsn_flow_resnet50_parameter_count_is_mmaction2s():
    """MMAction2 1.2.0's tsn_imagenet-pretrained-r50_8xb32_5x1x3-110e_kinetics400-flow backbone:
    23,508,032 + (10 - 3) x 64 x 7 x 7 stem weights."""
    with torch.device("meta"):
        assert count_parameters(ResNet(depth=50, in_channels=10)) == 23_529_984
