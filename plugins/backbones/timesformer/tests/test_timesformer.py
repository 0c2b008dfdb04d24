from pathlib import Path

import pytest
import torch
from torch import nn

import actioncore
from actioncore import load_config
from actioncore.sdk.weights import convert_state, load_into, load_pretrained_files
from actioncore.testing import assert_component_contract, count_parameters, fixed_batch_losses
from actioncore_timesformer import TimeSformer
from actioncore_timesformer.timesformer import DividedSpatialAttention, DividedTemporalAttention

pytestmark = pytest.mark.actioncore_plugins(
    "actioncore_timesformer.hooks", "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
    "actioncore_lists.hooks")

EXAMPLE = (Path(__file__).resolve().parents[1] / "actioncore_timesformer" / "examples"
           / "timesformer_divST_8x32x1_15e_kinetics400_rgb.toml")
ATTENTION_TYPES = ("divided_space_time", "joint_space_time", "space_only")
TINY = dict(embed_dims=32, num_heads=2, num_transformer_layers=2, img_size=32, patch_size=16)



def tiny_overrides(attention_type: str, frames: int = 4, classes: int = 5) -> list[str]:
    backbone = {**TINY, "num_frames": frames, "attention_type": f'"{attention_type}"'}
    return ([f"model.backbone.{k}={v}" for k, v in backbone.items()]
            + ["model.head.in_channels=32", f"model.head.num_classes={classes}"])


# (a) parameter counts of MMAction2 1.2.0's three Kinetics-400 configs (ViT-B/16, 8 frames),
# counted on MMAction2's own modules by benchmarks/parity/timesformer.py
@pytest.mark.parametrize(("attention_type", "expected"), [
    ("divided_space_time", 121_566_352),
    ("joint_space_time", 86_112_400),
    ("space_only", 86_106_256),
])
def test_full_size_parameter_counts_are_mmaction2s(actioncore_host, attention_type, expected):
    exp = load_config(EXAMPLE, [f'model.backbone.attention_type="{attention_type}"'])
    with torch.device("meta"):
        model = actioncore.build_model(exp.model)
    assert count_parameters(model) == expected
    assert count_parameters(model.head) == 307_600
    assert hasattr(model.backbone, "time_embed") == (attention_type != "space_only")


def test_contract(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "timesformer",
                                     {**TINY, "num_frames": 2})
    assert net(torch.zeros(3, 3, 2, 32, 32)).shape == (3, 32)


# (b) the example, shrunk, builds, runs forward/backward and learns a fixed batch
@pytest.mark.parametrize("attention_type", ATTENTION_TYPES)
def test_tiny_example_trains(actioncore_host, attention_type):
    torch.manual_seed(0)
    exp = load_config(EXAMPLE, tiny_overrides(attention_type))
    model = actioncore.build_model(exp.model)
    inputs = torch.randn(2, 1, 3, 4, 32, 32)   # [B, V, C, T, H, W]
    labels = torch.tensor([1, 3])
    model.eval()
    assert model(torch.randn(2, 3, 3, 4, 32, 32)).shape == (2, 5)  # 3 views averaged
    losses = fixed_batch_losses(model, inputs, labels)
    assert losses[-1] < losses[0]
    assert model.backbone.patch_embed.projection.weight.grad is not None


def test_wrong_frames_or_size_fail_clearly():
    net = TimeSformer(num_frames=2, **TINY)
    with pytest.raises(ValueError, match="num_frames = 2"):
        net(torch.zeros(1, 3, 4, 32, 32))
    with pytest.raises(ValueError, match="32x32"):
        net(torch.zeros(1, 3, 2, 48, 48))
    with pytest.raises(ValueError, match="attention_type"):
        TimeSformer(num_frames=2, attention_type="spatial", **TINY)


# (c) divided attention mixes only what it should
def positions(patches: int, frames: int) -> dict[tuple[int, int], int]:
    """Token index of (patch, frame): cls first, then patch-major, frame-minor."""
    return {(p, t): 1 + p * frames + t for p in range(patches) for t in range(frames)}


def changed_tokens(block: nn.Module, patches: int, frames: int, where: tuple[int, int]) -> set:
    torch.manual_seed(0)
    x = torch.randn(2, 1 + patches * frames, 32)
    index = positions(patches, frames)[where]
    y = x.clone()
    y[:, index] += torch.randn(32)
    with torch.no_grad():
        diff = (block(y, frames) - block(x, frames)).abs().amax(dim=(0, 2))
    names = {v: k for k, v in positions(patches, frames).items()} | {0: "cls"}
    return {names[i] for i in range(diff.numel()) if diff[i] > 1e-6}


def test_temporal_attention_mixes_only_the_same_patch_position():
    block = DividedTemporalAttention(32, 2, 0.0, 1e-6).eval()
    nn.init.normal_(block.temporal_fc.weight, std=0.2)  # zero at init: make it pass something
    changed = changed_tokens(block, patches=4, frames=3, where=(2, 1))
    assert changed == {(2, 0), (2, 1), (2, 2)}


def test_spatial_attention_mixes_only_the_same_frame_and_cls():
    block = DividedSpatialAttention(32, 2, 0.0, 1e-6).eval()
    changed = changed_tokens(block, patches=4, frames=3, where=(2, 1))
    assert changed == {"cls"} | {(p, 1) for p in range(4)}


def test_temporal_attention_starts_as_identity():
    block = DividedTemporalAttention(32, 2, 0.0, 1e-6)
    x = torch.randn(1, 1 + 4 * 3, 32)
    torch.testing.assert_close(block(x, 3), x)



@pytest.mark.parametrize("attention_type", ["divided_space_time", "joint_space_time"])
def test_frame_order_reaches_the_output_only_through_the_time_embedding(attention_type):
    # MMAction2 starts time_embed at zero: the network is then blind to frame order, so a clip
    # and its time reversal (the embedded set's motion-only pairs) score the same until the
    # time embedding has grown (why the tiny TimeSformer trained from scratch stalls there)
    torch.manual_seed(0)
    net = TimeSformer(num_frames=4, attention_type=attention_type, **TINY).eval()
    for m in net.modules():
        if isinstance(m, DividedTemporalAttention):
            nn.init.normal_(m.temporal_fc.weight, std=0.2)
    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(net(clip.flip(2)), net(clip), atol=1e-5, rtol=0)
        nn.init.normal_(net.time_embed, std=0.5)
        assert (net(clip.flip(2)) - net(clip)).abs().max() > 1e-2


# (d) MMAction2-named state dicts convert and load strictly
def mmaction2_state(attention_type: str, *, layers: int = 2, dims: int = 32, patches: int = 4,
                    frames: int = 4, classes: int = 5) -> dict[str, torch.Tensor]:
    """A random recognizer state dict with MMAction2 1.2.0's keys and shapes, written out from
    its module tree (mmcv BaseTransformerLayer / FFN / nn.MultiheadAttention)."""
    g = torch.Generator().manual_seed(1)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    def attn(prefix):
        return {f"{prefix}.attn.in_proj_weight": r(3 * dims, dims),
                f"{prefix}.attn.in_proj_bias": r(3 * dims),
                f"{prefix}.attn.out_proj.weight": r(dims, dims),
                f"{prefix}.attn.out_proj.bias": r(dims)}

    def norm(prefix):
        return {f"{prefix}.weight": 1 + r(dims), f"{prefix}.bias": r(dims)}

    b = "backbone"
    s = {f"{b}.cls_token": r(1, 1, dims), f"{b}.pos_embed": r(1, patches + 1, dims),
         f"{b}.patch_embed.projection.weight": r(dims, 3, 16, 16),
         f"{b}.patch_embed.projection.bias": r(dims), **norm(f"{b}.norm")}
    if attention_type != "space_only":
        s[f"{b}.time_embed"] = r(1, frames, dims)
    for i in range(layers):
        layer = f"{b}.transformer_layers.layers.{i}"
        ffn = f"{layer}.ffns.0"
        s |= {f"{ffn}.layers.0.0.weight": r(4 * dims, dims), f"{ffn}.layers.0.0.bias": r(4 * dims),
              f"{ffn}.layers.1.weight": r(dims, 4 * dims), f"{ffn}.layers.1.bias": r(dims)}
        if attention_type == "divided_space_time":
            s |= attn(f"{layer}.attentions.0") | attn(f"{layer}.attentions.1")
            s |= norm(f"{layer}.attentions.0.norm") | norm(f"{layer}.attentions.1.norm")
            s |= {f"{layer}.attentions.0.temporal_fc.weight": r(dims, dims),
                  f"{layer}.attentions.0.temporal_fc.bias": r(dims)}
            s |= norm(f"{ffn}.norm")
        else:
            s |= attn(f"{layer}.attentions.0") | norm(f"{layer}.norms.0") | norm(f"{layer}.norms.1")
    s |= {"cls_head.fc_cls.weight": r(classes, dims), "cls_head.fc_cls.bias": r(classes),
          "data_preprocessor.mean": torch.full((3, 1, 1, 1), 127.5),
          "data_preprocessor.std": torch.full((3, 1, 1, 1), 127.5)}
    return s


@pytest.mark.parametrize("attention_type", ATTENTION_TYPES)
def test_mmaction2_state_dict_converts_and_loads_strictly(actioncore_host, attention_type):
    model = actioncore.build_model(load_config(EXAMPLE, tiny_overrides(attention_type)).model)
    theirs = mmaction2_state(attention_type)
    converted = convert_state(model, theirs)
    load_into(model, converted, "mmaction2.pth")
    own = model.state_dict()
    for key, value in theirs.items():
        if key.startswith("data_preprocessor."):
            continue
        ours = key.replace("cls_head.", "head.", 1)
        assert torch.equal(own[ours], value), key
    assert model.eval()(torch.randn(1, 1, 3, 4, 32, 32)).isfinite().all()


def test_pretrained_vit_is_renamed_for_divided_attention(tmp_path):
    vit = TimeSformer(num_frames=2, attention_type="space_only", **TINY)  # mmcv ViT layout
    state = {k: v + 0.5 for k, v in vit.state_dict().items()}
    path = tmp_path / "vit.pth"
    torch.save({"state_dict": state}, path)
    net = load_pretrained_files(TimeSformer(num_frames=2, pretrained=str(path), **TINY))
    own = net.state_dict()
    layer = "transformer_layers.layers.1"
    for i in (0, 1):
        assert torch.equal(own[f"{layer}.attentions.{i}.attn.in_proj_weight"],
                           state[f"{layer}.attentions.0.attn.in_proj_weight"])
        assert torch.equal(own[f"{layer}.attentions.{i}.norm.weight"], state[f"{layer}.norms.0.weight"])
    assert torch.equal(own[f"{layer}.ffns.0.norm.bias"], state[f"{layer}.norms.1.bias"])
    assert torch.equal(own["pos_embed"], state["pos_embed"])
    assert torch.all(own[f"{layer}.attentions.0.temporal_fc.weight"] == 0)
    assert torch.all(own["time_embed"] == 0)


def test_pretrained_accepts_a_space_only_run_checkpoint_and_divided_state_dicts(tmp_path):
    # the two-stage recipe: a space_only recognizer's checkpoint starts divided attention
    vit = TimeSformer(num_frames=2, attention_type="space_only", **TINY)
    state = {f"backbone.{k}": v + 0.5 for k, v in vit.state_dict().items()}
    state["head.fc_cls.weight"] = torch.zeros(5, 32)
    path = tmp_path / "latest.pth"
    torch.save({"format": "actioncore-checkpoint", "format_version": 1, "model": state}, path)
    net = load_pretrained_files(TimeSformer(num_frames=2, pretrained=str(path), **TINY))
    layer = "transformer_layers.layers.0"
    own = net.state_dict()
    for i in (0, 1):
        assert torch.equal(own[f"{layer}.attentions.{i}.attn.out_proj.weight"],
                           state[f"backbone.{layer}.attentions.0.attn.out_proj.weight"])
    assert torch.equal(own["patch_embed.projection.weight"], state["backbone.patch_embed.projection.weight"])
    # a divided state dict keeps its spatial attention (no ViT renaming on top)
    divided = {k: torch.randn_like(v) for k, v in net.state_dict().items()}
    torch.save(divided, tmp_path / "divided.pth")
    again = load_pretrained_files(TimeSformer(num_frames=2, pretrained=str(tmp_path / "divided.pth"), **TINY)).state_dict()
    assert all(torch.equal(again[k], v) for k, v in divided.items())
