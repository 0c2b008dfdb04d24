from pathlib import Path

import pytest
import torch
from torch import nn

import actioncore
from actioncore import load_config
from actioncore.sdk.weights import convert_state, load_into, load_pretrained_files
from actioncore.testing import assert_component_contract, count_parameters, fixed_batch_losses
from actioncore_slowfast import ResNet3dSlowFast
from actioncore_slowfast.slowfast import FastPathway, SlowPathway

pytestmark = pytest.mark.actioncore_plugins(
    "actioncore_slowfast.hooks", "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
    "actioncore_lists.hooks")

EXAMPLE = (Path(__file__).resolve().parents[1] / "actioncore_slowfast" / "examples"
           / "slowfast_r50_4x16x1_256e_kinetics400_rgb.toml")

# slow: basic blocks, 16 base channels (16, 32, 64, 128 out); fast: 2 base channels (2, 4, 8, 16)
TINY = ["model.backbone.slow_pathway.depth=18", "model.backbone.slow_pathway.base_channels=16",
        "model.backbone.slow_pathway.stage_blocks=[1, 1, 1, 1]",
        "model.backbone.fast_pathway.depth=18", "model.backbone.fast_pathway.base_channels=2",
        "model.backbone.fast_pathway.stage_blocks=[1, 1, 1, 1]",
        "model.head.in_channels=144", "model.head.num_classes=5", "model.head.dropout_ratio=0.0"]



def tiny_backbone() -> ResNet3dSlowFast:
    return ResNet3dSlowFast(
        slow_pathway=SlowPathway(depth=18, base_channels=16, stage_blocks=(1, 1, 1, 1)),
        fast_pathway=FastPathway(depth=18, base_channels=2, stage_blocks=(1, 1, 1, 1)))


# (a) MMAction2 1.2.0's slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb, counted on its own
# modules by benchmarks/parity/recognizers3d.py
def test_full_size_parameter_count_is_mmaction2s(actioncore_host):
    with torch.device("meta"):
        model = actioncore.build_model(load_config(EXAMPLE).model)
    assert count_parameters(model) == 34_479_288
    assert count_parameters(model.head) == 922_000
    assert count_parameters(model.backbone.slow_path) + count_parameters(model.backbone.fast_path) == 33_557_288


def test_contract(actioncore_host):
    net = assert_component_contract(
        actioncore_host, "backbone", "resnet3d_slowfast",
        {"slow_pathway": {"depth": 18, "base_channels": 16, "stage_blocks": [1, 1, 1, 1]},
         "fast_pathway": {"depth": 18, "base_channels": 2, "stage_blocks": [1, 1, 1, 1]}})
    slow, fast = net(torch.zeros(1, 3, 16, 32, 32))
    assert slow.shape == (1, 128, 2, 1, 1) and fast.shape == (1, 16, 16, 1, 1)
    # a partial pathway table keeps that pathway's own defaults
    assert net.slow_path.conv1.conv.kernel_size == (1, 7, 7)
    assert net.fast_path.conv1.conv.kernel_size == (5, 7, 7)


# (b) the example, shrunk, builds, runs forward/backward and learns a fixed batch
def test_tiny_example_trains(actioncore_host):
    torch.manual_seed(0)
    model = actioncore.build_model(load_config(EXAMPLE, TINY).model)
    model.eval()
    assert model(torch.randn(2, 3, 3, 16, 32, 32)).shape == (2, 5)  # 3 views averaged
    inputs = torch.randn(4, 1, 3, 16, 32, 32)  # [B, V, C, T, H, W]
    labels = torch.tensor([0, 1, 2, 3])
    losses = fixed_batch_losses(model, inputs, labels, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-2))
    assert losses[-1] < losses[0]
    assert model.backbone.slow_path.layer1_lateral.conv.weight.grad is not None


# (c) temporal lengths and channels of both pathways after the stem and each stage
def test_pathway_shapes_and_lateral_fusion():
    net = tiny_backbone().eval()
    shapes: dict[str, tuple[int, ...]] = {}
    for path in ("slow_path", "fast_path"):
        pathway = getattr(net, path)
        for name in ("maxpool", "layer1", "layer2", "layer3", "layer4"):
            getattr(pathway, name).register_forward_hook(
                lambda m, i, o, key=f"{path}.{name}": shapes.__setitem__(key, tuple(o.shape)))
    with torch.no_grad():
        slow, fast = net(torch.randn(1, 3, 32, 64, 64))
    # slow: every 8th of 32 frames; fast: all 32; spatial /4 after the stem, /2 per later stage
    assert shapes == {
        "slow_path.maxpool": (1, 16, 4, 16, 16), "fast_path.maxpool": (1, 2, 32, 16, 16),
        "slow_path.layer1": (1, 16, 4, 16, 16), "fast_path.layer1": (1, 2, 32, 16, 16),
        "slow_path.layer2": (1, 32, 4, 8, 8), "fast_path.layer2": (1, 4, 32, 8, 8),
        "slow_path.layer3": (1, 64, 4, 4, 4), "fast_path.layer3": (1, 8, 32, 4, 4),
        "slow_path.layer4": (1, 128, 4, 2, 2), "fast_path.layer4": (1, 16, 32, 2, 2),
    }
    assert slow.shape == (1, 128, 4, 2, 2) and fast.shape == (1, 16, 32, 2, 2)
    # each slow stage takes its own channels plus 2x the fast ones, fused at temporal stride 8
    firsts = [getattr(net.slow_path, f"layer{i}")[0].conv1.conv.in_channels for i in (1, 2, 3, 4)]
    assert firsts == [16 + 4, 16 + 4, 32 + 8, 64 + 16]
    assert net.slow_path.conv1_lateral.conv.stride == (8, 1, 1)
    assert net.slow_path.conv1_lateral.conv.kernel_size == (5, 1, 1)
    assert not hasattr(net.slow_path, "layer4_lateral")


def test_full_size_shapes_on_the_meta_device():
    with torch.device("meta"):
        net = ResNet3dSlowFast()
        slow, fast = net(torch.empty(1, 3, 32, 224, 224))
    assert slow.shape == (1, 2048, 4, 7, 7) and fast.shape == (1, 256, 32, 7, 7)
    assert net.slow_path.layer3[0].conv1.conv.kernel_size == (3, 1, 1)   # inflate (0, 0, 1, 1)
    assert net.slow_path.layer2[0].conv1.conv.kernel_size == (1, 1, 1)
    assert net.fast_path.layer1[0].conv1.conv.kernel_size == (3, 1, 1)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="resample_rate"):
        ResNet3dSlowFast(resample_rate=6, speed_ratio=4)
    with pytest.raises(ValueError, match="depth"):
        ResNet3dSlowFast(slow_pathway=SlowPathway(depth=20))


# (d) an MMAction2-named recognizer state dict converts and loads strictly
def mmaction2_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Random weights under MMAction2 1.2.0's Recognizer3D names (ResNet3dSlowFast + SlowFastHead)."""
    torch.manual_seed(1)
    state = {}
    for key, value in model.state_dict().items():
        key = "cls_head." + key.removeprefix("head.") if key.startswith("head.") else key
        state[key] = (torch.randn_like(value.float()).abs().to(value.dtype) + 0.5
                      if value.is_floating_point() else value.clone())
    state["data_preprocessor.mean"] = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1, 1)
    state["data_preprocessor.std"] = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1, 1)
    return state


def test_mmaction2_names_and_shapes_at_full_size(actioncore_host):
    with torch.device("meta"):
        model = actioncore.build_model(load_config(EXAMPLE).model)
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    # names and shapes as MMAction2 1.2.0 builds them (ConvModule: conv + bn)
    expected = {
        "backbone.slow_path.conv1.conv.weight": (64, 3, 1, 7, 7),
        "backbone.slow_path.conv1.bn.running_var": (64,),
        "backbone.slow_path.conv1_lateral.conv.weight": (16, 8, 5, 1, 1),
        "backbone.slow_path.layer1.0.conv1.conv.weight": (64, 80, 1, 1, 1),
        "backbone.slow_path.layer1.0.downsample.conv.weight": (256, 80, 1, 1, 1),
        "backbone.slow_path.layer1_lateral.conv.weight": (64, 32, 5, 1, 1),
        "backbone.slow_path.layer2.0.conv1.conv.weight": (128, 320, 1, 1, 1),
        "backbone.slow_path.layer3.0.conv1.conv.weight": (256, 640, 3, 1, 1),
        "backbone.slow_path.layer3_lateral.conv.weight": (256, 128, 5, 1, 1),
        "backbone.slow_path.layer4.0.conv1.conv.weight": (512, 1280, 3, 1, 1),
        "backbone.slow_path.layer4.2.conv3.bn.weight": (2048,),
        "backbone.fast_path.conv1.conv.weight": (8, 3, 5, 7, 7),
        "backbone.fast_path.layer1.0.conv1.conv.weight": (8, 8, 3, 1, 1),
        "backbone.fast_path.layer4.0.downsample.bn.num_batches_tracked": (),
        "head.fc_cls.weight": (400, 2304),
    }
    assert {k: own.get(k) for k in expected} == expected
    assert not any("lateral" in k for k in own if k.startswith("backbone.fast_path"))


def test_mmaction2_state_dict_converts_and_loads_strictly(actioncore_host):
    model = actioncore.build_model(load_config(EXAMPLE, TINY).model).eval()
    state = mmaction2_state(model)
    converted = convert_state(model, state)
    assert not any(k.startswith(("cls_head.", "data_preprocessor.")) for k in converted)
    load_into(model, converted, "mmaction2.pth")
    assert torch.equal(model.head.fc_cls.weight, state["cls_head.fc_cls.weight"])
    assert torch.equal(model.backbone.slow_path.layer2_lateral.conv.weight,
                       state["backbone.slow_path.layer2_lateral.conv.weight"])
    with torch.no_grad():
        assert torch.isfinite(model(torch.randn(1, 1, 3, 16, 32, 32))).all()


def test_pretrained_backbone_checkpoint_loads(tmp_path):
    source = tiny_backbone()
    path = tmp_path / "slowfast.pth"
    torch.save({"state_dict": {"backbone." + k: v for k, v in source.state_dict().items()}}, path)
    net = load_pretrained_files(ResNet3dSlowFast(
        slow_pathway=SlowPathway(depth=18, base_channels=16, stage_blocks=(1, 1, 1, 1)),
        fast_pathway=FastPathway(depth=18, base_channels=2, stage_blocks=(1, 1, 1, 1)),
        pretrained=str(path)))
    for (name, a), b in zip(source.state_dict().items(), net.state_dict().values()):
        assert torch.equal(a, b), name


def test_slow_pathway_inflates_imagenet_resnet_with_zeros_for_lateral_channels(tmp_path):
    import torchvision

    torch.manual_seed(0)
    resnet18 = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(resnet18.state_dict(), path)
    net = load_pretrained_files(ResNet3dSlowFast(slow_pathway=SlowPathway(depth=18, pretrained=str(path)),
                                           fast_pathway=FastPathway(depth=18)))
    slow = net.slow_path
    # stage 3 is inflated (3x3x3 first conv of each basic block): 2D kernel / 3 at every time step
    conv = slow.layer3[0].conv1.conv
    source = resnet18.layer3[0].conv1.weight
    assert conv.weight.shape == (256, 128 + 32, 3, 3, 3)
    for t in range(3):
        torch.testing.assert_close(conv.weight[:, :128, t], source / 3)
    assert torch.count_nonzero(conv.weight[:, 128:]) == 0, "lateral input channels start at zero"
    torch.testing.assert_close(slow.layer3[0].conv1.bn.running_var, resnet18.layer3[0].bn1.running_var)
    # the lateral convolutions keep their (kaiming) initialisation
    assert slow.layer1_lateral.conv.weight.abs().sum() > 0
    # the fast pathway was not given weights: untouched by the slow one's
    fresh = ResNet3dSlowFast(slow_pathway=SlowPathway(depth=18), fast_pathway=FastPathway(depth=18))
    assert fresh.slow_path.layer3[0].conv1.conv.weight.shape == conv.weight.shape
    assert not torch.equal(fresh.slow_path.layer3[0].conv1.conv.weight, conv.weight)


def test_non_local_blocks_in_a_pathway_from_the_config(actioncore_host):
    torch.manual_seed(0)
    nl = ["model.backbone.slow_pathway.stage_blocks=[1, 1, 2, 1]",
          "model.backbone.slow_pathway.non_local=[0, 1, [0, 1], 0]",
          'model.backbone.slow_pathway.non_local_cfg.mode="dot_product"']
    model = actioncore.build_model(load_config(EXAMPLE, [*TINY, *nl]).model)
    slow = model.backbone.slow_path
    blocks = {k.split(".non_local_block.")[0] for k in model.backbone.state_dict()
              if ".non_local_block." in k}
    assert blocks == {"slow_path.layer2.0", "slow_path.layer3.1"}
    # the lateral channels widen only the stage's input, not the non-local block's (C = 64)
    assert slow.layer3[1].non_local_block.g.conv.weight.shape == (32, 64, 1, 1, 1)
    assert slow.layer3[1].non_local_block.mode == "dot_product"
    losses = fixed_batch_losses(model, torch.randn(4, 1, 3, 16, 32, 32), torch.tensor([0, 1, 2, 3]),
                                optimizer=torch.optim.AdamW(model.parameters(), lr=1e-2))
    assert losses[-1] < losses[0]
    assert slow.layer2[0].non_local_block.conv_out.conv.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="non_local of stage 3"):
        ResNet3dSlowFast(slow_pathway=SlowPathway(depth=18, base_channels=16,
                                                  stage_blocks=(1, 1, 2, 1), non_local=(0, 0, (1,), 0)))
