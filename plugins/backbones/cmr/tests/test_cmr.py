"""CMR: the example's size, a tiny training run, and the motion-enhancement modules' behaviour."""
from pathlib import Path

import pytest
import torch
from torch import nn

import actioncore
from actioncore.testing import count_parameters, fixed_batch_losses
from actioncore_cmr import CME, SME, ResNetCMR, adjacent_difference
from actioncore_tsm import ResNetTSM

pytestmark = pytest.mark.actioncore_plugins("actioncore_cmr.hooks", "actioncore_tsm.hooks",
                                            "actioncore_tsn.hooks", "actioncore_cls_heads.hooks",
                                            "actioncore_recognition.hooks", "actioncore_lists.hooks")

EXAMPLE = (Path(__file__).resolve().parents[1] / "actioncore_cmr" / "examples"
           / "cmr_r50_1x1x8_50e_sthv1_rgb.toml")
PARAMETERS = 24_102_602  # backbone 23,746,076 + head 356,526
SEGMENTS = 4
TINY = ["model.backbone.depth=18", "model.head.in_channels=512", "model.head.num_classes=5",
        "model.head.dropout_ratio=0.0", f"model.head.num_segments={SEGMENTS}",
        f"model.backbone.num_segments={SEGMENTS}"]



def moving_clip(n: int = 2, channels: int = 16, size: int = 8) -> torch.Tensor:
    """``[n * SEGMENTS, channels, size, size]``: a bright square moving right over a fixed background."""
    torch.manual_seed(0)
    background = torch.rand(n, 1, channels, size, size)
    frames = background.repeat(1, SEGMENTS, 1, 1, 1)
    for t in range(SEGMENTS):
        frames[:, t, :, 2:5, t:t + 3] += 2.0
    return frames.flatten(0, 1)


def static_clip(n: int = 2, channels: int = 16, size: int = 8) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(n, 1, channels, size, size).repeat(1, SEGMENTS, 1, 1, 1).flatten(0, 1)


def randomised(module: nn.Module) -> nn.Module:
    """Give the zero-initialised last layers random weights, as after some training."""
    torch.manual_seed(2)
    for p in module.parameters():
        nn.init.normal_(p, std=0.5)
    return module


def test_example_parameter_count(actioncore_host):
    experiment = actioncore.load_config(EXAMPLE)
    with torch.device("meta"):
        model = actioncore.build_model(experiment.model)
    assert sum(p.numel() for p in model.parameters()) == PARAMETERS
    assert isinstance(model.backbone, ResNetCMR)


def test_without_modules_it_is_resnet_tsm():
    with torch.device("meta"):
        plain = ResNetCMR(depth=50, cme=False, sme=False)
        tsm = ResNetTSM(depth=50)
        cme_only = ResNetCMR(depth=50, sme=False)
    assert count_parameters(plain) == count_parameters(tsm) == 23_508_032
    assert list(plain.state_dict()) == list(tsm.state_dict())
    assert count_parameters(tsm) < count_parameters(cme_only) < 23_746_076


def test_tiny_model_trains_on_a_fixed_batch(actioncore_host):
    torch.manual_seed(0)
    model = actioncore.build_model(actioncore.load_config(EXAMPLE, TINY).model)
    clips = torch.randn(2, SEGMENTS, 3, 32, 32)
    labels = torch.tensor([1, 3])
    assert model(clips).shape == (2, 5)
    losses = fixed_batch_losses(model, clips, labels, optimizer=torch.optim.Adam(model.parameters(), lr=1e-3))
    assert losses[-1] < losses[0], losses
    # the modules learn: their zero-initialised layers have moved
    assert model.backbone.layer1[0].conv1.cme.expand.weight.abs().sum() > 0
    assert model.backbone.layer1[0].conv1.sme.attend.weight.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3 * SEGMENTS, 3, 32, 32)).shape == (2, 5)


def test_backbone_starts_as_resnet_tsm():
    torch.manual_seed(0)
    cmr = ResNetCMR(depth=18, num_segments=SEGMENTS).eval()
    tsm = ResNetTSM(depth=18, num_segments=SEGMENTS).eval()
    missing, unexpected = cmr.load_state_dict(tsm.state_dict(), strict=False)
    assert not unexpected and missing and all(".cme." in k or ".sme." in k for k in missing)
    x = torch.randn(2 * SEGMENTS, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(cmr(x), tsm(x))


@pytest.mark.parametrize("kind", [CME, SME])
def test_module_is_shape_preserving_and_identity_at_init(kind):
    module = kind(16, SEGMENTS, reduction=4)
    x = moving_clip()
    y = module(x)
    assert y.shape == x.shape
    torch.testing.assert_close(y, x)
    y.sum().backward()  # the zero-initialised layer gets a gradient
    last = module.expand if kind is CME else module.attend
    assert last.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", [CME, SME])
def test_static_clip_has_no_motion_signal(kind):
    module = randomised(kind(16, SEGMENTS, reduction=4))
    x = static_clip()
    assert module.motion(x).abs().max() < 1e-5
    torch.testing.assert_close(module(x), x)          # gates / attention all 1: unchanged


def test_cme_gates_respond_to_motion():
    # CME sees spatial means, which a square moving inside the frame leaves unchanged: here a
    # square lights up frame by frame instead
    module = randomised(CME(16, SEGMENTS, reduction=4))
    changing = static_clip().reshape(2, SEGMENTS, 16, 8, 8).clone()
    for t in range(SEGMENTS):
        changing[:, t, :, 2:5, 2:5] += t
    static, moving = module.gates(static_clip()), module.gates(changing.flatten(0, 1))
    torch.testing.assert_close(static, torch.ones_like(static))
    assert (moving - 1).abs().max() > 0.05
    assert moving.shape == (2 * SEGMENTS, 16)
    assert not torch.allclose(moving[0], moving[1])    # per frame: the frames differ differently


def test_sme_attention_is_uniform_on_static_clips_and_follows_the_motion():
    module = randomised(SME(16, SEGMENTS, reduction=4))
    static, moving = module.attention(static_clip()), module.attention(moving_clip())
    assert static.shape == moving.shape == (2 * SEGMENTS, 1, 8, 8)
    torch.testing.assert_close(static, torch.ones_like(static))
    assert moving.std() > 0.05
    # far from the moving square (rows 2-4, columns 0-5 over the clip) nothing changes
    torch.testing.assert_close(moving[..., 7, :], torch.ones_like(moving[..., 7, :]))
    assert (moving[..., 2:5, :] - 1).abs().max() > 0.05
    motion = module.motion(moving_clip())
    assert motion[:, -1].max() > 0                    # 1 - cosine similarity is seen where it moves


def test_adjacent_difference_at_clip_boundaries():
    f = torch.arange(2 * 4, dtype=torch.float).reshape(2, 4) ** 2   # N = 2 clips of T = 4
    d = adjacent_difference(f)
    assert d.tolist() == [[1, 3, 5, 5], [9, 11, 13, 13]]
    assert adjacent_difference(f[:, :1]).abs().sum() == 0


def test_frames_of_different_clips_do_not_mix():
    module = randomised(SME(16, SEGMENTS, reduction=4))
    cme = randomised(CME(16, SEGMENTS, reduction=4))
    x = torch.cat([static_clip(1), moving_clip(1)])
    torch.testing.assert_close(module(x)[:SEGMENTS], x[:SEGMENTS])
    torch.testing.assert_close(cme(x)[:SEGMENTS], x[:SEGMENTS])


def test_component_contract_and_options(actioncore_host):
    from actioncore.testing import assert_component_contract
    net = assert_component_contract(actioncore_host, "backbone", "resnet_cmr",
                                     "depth = 18\nnum_segments = 4\nreduction = 8\nsme = false")
    assert isinstance(net, ResNetCMR) and not net.sme
    assert not any(".sme." in k for k in net.state_dict())
    with pytest.raises(ValueError):
        ResNetCMR(depth=18, reduction=0)
    frozen = ResNetCMR(depth=18, num_segments=SEGMENTS, frozen_stages=1)
    assert not any(p.requires_grad for p in frozen.layer1.parameters())
    pooled = ResNetCMR(depth=18, num_segments=SEGMENTS, temporal_pool=True, shift_place="block")
    assert pooled.layer2.net[0].net.conv1.cme.num_segments == SEGMENTS // 2
    assert pooled(torch.randn(SEGMENTS, 3, 32, 32)).shape == (SEGMENTS // 2, 512, 1, 1)


def test_imagenet_weights_load_around_the_motion_modules(actioncore_host, tmp_path):
    import torchvision

    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    net = actioncore.build("backbone", "resnet_cmr", depth=18, num_segments=SEGMENTS, pretrained=str(path))
    assert torch.equal(net.layer3[1].conv1.conv.net.weight, reference.layer3[1].conv1.weight)
    assert not any(".cme." in k or ".sme." in k for k in net.resnet_keys().values())
    assert not net.layer1[0].conv1.sme.attend.weight.any(), "the new modules keep their (zero) init"
