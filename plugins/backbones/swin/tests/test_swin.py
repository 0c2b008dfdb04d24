import gzip
import json
from pathlib import Path

import pytest
import torch

import actioncore
from actioncore import load_config
from actioncore.sdk.weights import convert_state, load_into, load_pretrained_files
from actioncore.testing import assert_component_contract, count_parameters, fixed_batch_losses
from actioncore_swin import SwinTransformer3D
from actioncore_swin.swin import WindowAttention3D, shift_mask

pytestmark = [pytest.mark.actioncore_plugins(
    "actioncore_swin.hooks", "actioncore_cls_heads.hooks", "actioncore_recognition.hooks", "actioncore_lists.hooks"),
    pytest.mark.usefixtures("torch_one_thread")]

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_swin" / "examples"
TINY_EXAMPLE = EXAMPLES / "swin_tiny_p244_w877_in1k_pre_32x2x1_30e_kinetics400_rgb.toml"
REPO = Path(__file__).resolve().parents[4]
ZOO_KEYS = REPO / "tests" / "data" / "zoo_keys"
# Swin-T's stages and heads at a quarter of its width (head width 8): MMAction2's key set, tiny tensors
NARROW = "{embed_dims = 24, depths = [2, 2, 6, 2], num_heads = [3, 6, 12, 24]}"
SHALLOW = "{embed_dims = 24, depths = [2, 2, 2, 2], num_heads = [3, 6, 12, 24]}"  # for the training tests


def tiny_overrides(*, classes: int = 5, with_cp: bool = False, drop_path: float = 0.1, arch: str = SHALLOW) -> list[str]:
    return [f"model.backbone.arch={arch}", "model.backbone.window_size=[2,3,3]",
            f"model.backbone.drop_path_rate={drop_path}", f"model.backbone.with_cp={str(with_cp).lower()}",
            "model.head.in_channels=192", f"model.head.num_classes={classes}"]


# (a) full-size parameter counts: MMAction2 1.2.0's recognizers (SwinTransformer3D + I3DHead, 400
# classes), counted with its own builder by benchmarks/parity/swin.py
COUNTS = {"tiny": (28_158_070, 307_600), "small": (49_816_678, 307_600), "base": (88_048_984, 410_000),
          "large": (196_953_916, 614_800)}


def test_full_size_parameter_counts_are_mmaction2s(actioncore_host):
    for arch, (expected, head) in COUNTS.items():
        example = next(EXAMPLES.glob(f"swin_{arch}_*.toml"))
        with torch.device("meta"):
            model = actioncore.build_model(load_config(example).model)
        assert (count_parameters(model), count_parameters(model.head)) == (expected, head), arch


def test_contract(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "swin",
                                     {"arch": {"embed_dims": 8, "depths": [1, 1], "num_heads": [1, 2]},
                                      "window_size": [2, 2, 2]})
    assert net(torch.zeros(2, 3, 4, 16, 16)).shape == (2, 16, 2, 2, 2)  # stage 2 after one merge


# (b) the example, shrunk, runs forward/backward and learns a fixed batch
@pytest.fixture
def tiny_model(actioncore_host):
    torch.manual_seed(0)
    return actioncore.build_model(load_config(TINY_EXAMPLE, tiny_overrides()).model)


def test_tiny_example_trains(tiny_model):
    model = tiny_model
    model.eval()
    assert model(torch.randn(2, 2, 3, 4, 32, 32)).shape == (2, 5)  # 2 views averaged
    inputs, labels = torch.randn(2, 1, 3, 4, 32, 32), torch.tensor([1, 3])
    losses = fixed_batch_losses(model, inputs, labels, reseed=0)
    assert losses[-1] < losses[0]
    assert model.backbone.layers[0].blocks[1].attn.relative_position_bias_table.grad.abs().sum() > 0


def test_window_attention_adds_bias_and_mask_as_mmaction2():
    # the shifted-window logits: q.k * scale + relative position bias + (0 / -inf) region mask
    torch.manual_seed(0)
    attn = WindowAttention3D(8, (2, 2, 2), 2, qkv_bias=True, qk_scale=None, attn_drop=0.0, proj_drop=0.0).eval()
    torch.nn.init.normal_(attn.relative_position_bias_table)
    mask = shift_mask(4, 4, 4, (2, 2, 2), (1, 1, 1), torch.device("cpu"))
    assert mask.shape == (8, 8, 8) and set(mask.unique().tolist()) == {float("-inf"), 0.0}
    x = torch.randn(2 * 8, 8, 8)
    q, k, v = attn.qkv(x).reshape(16, 8, 3, 2, 4).permute(2, 0, 3, 1, 4)
    bias = attn.relative_position_bias_table[attn.relative_position_index.reshape(-1)].reshape(8, 8, 2).permute(2, 0, 1)
    mmaction2_mask = mask.clamp(min=-100.0)  # its constant; ours is -inf (no denormal weights)
    logits = (q * 4 ** -0.5) @ k.transpose(-2, -1) + bias + mmaction2_mask.repeat(2, 1, 1).unsqueeze(1)
    expected = attn.proj((logits.softmax(-1) @ v).transpose(1, 2).reshape(16, 8, 8))
    with torch.no_grad():
        torch.testing.assert_close(attn(x, mask), expected, atol=1e-5, rtol=1e-5)
        assert (attn(x, None) - expected).abs().max() > 1e-2  # the mask matters
    # with gradients (training) the attention is written out on the CPU: same values, and the
    # bias table gets the gradient of the hand-written form
    out = attn(x, mask)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    (grad_ours,) = torch.autograd.grad(out.square().sum(), attn.relative_position_bias_table)
    (grad_hand,) = torch.autograd.grad(expected.square().sum(), attn.relative_position_bias_table)
    torch.testing.assert_close(grad_ours, grad_hand, atol=1e-5, rtol=1e-5)


def test_gradient_checkpointing_gives_the_same_gradients(actioncore_host):
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = actioncore.build_model(load_config(TINY_EXAMPLE, tiny_overrides(with_cp=with_cp)).model).train()
        torch.manual_seed(1)  # the same drop-path draws in both
        model.head(model.features(torch.randn(2, 3, 4, 32, 32))).logsumexp(-1).sum().backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, atol=1e-6, rtol=1e-5, msg=name)


# (c) MMAction2's Swin-T keys (recorded from its builder) convert and load strictly
def mmaction2_tiny_keys() -> list[str]:
    index = json.loads((ZOO_KEYS / "index.json").read_text())
    found = index["configs/recognition/swin/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb.py"]
    return sorted(json.loads(gzip.decompress((ZOO_KEYS / f"{found['layout']}.json.gz").read_bytes())))


def test_mmaction2_state_dict_converts_and_loads_strictly(actioncore_host):
    model = actioncore.build_model(load_config(TINY_EXAMPLE, tiny_overrides(arch=NARROW)).model)
    ours = model.state_dict()
    g = torch.Generator().manual_seed(3)
    keys = mmaction2_tiny_keys()
    # their keys, with the shapes of the narrow model (same key set as Swin-T)
    theirs = {k: torch.randn(ours[k.replace("cls_head.", "head.", 1)].shape, generator=g) for k in keys}
    for k in [k for k in theirs if k.endswith("relative_position_index")]:
        theirs[k] = ours[k.replace("cls_head.", "head.", 1)].clone()
    load_into(model, convert_state(model, theirs), "mmaction2.pth")
    own = model.state_dict()
    assert all(torch.equal(own[k.replace("cls_head.", "head.", 1)], v) for k, v in theirs.items())


def test_pretrained_2d_swin_is_inflated(tmp_path):
    arch = {"embed_dims": 8, "depths": [2, 2], "num_heads": [1, 2]}
    net3d = SwinTransformer3D(arch=arch, window_size=(2, 3, 3))
    state = {k: torch.randn(v.shape) for k, v in net3d.state_dict().items() if "relative_position" not in k}
    state["patch_embed.proj.weight"] = torch.randn(8, 3, 4, 4)
    state["norm.weight"], state["norm.bias"] = state.pop("norm1.weight"), state.pop("norm1.bias")
    for k in [k for k in net3d.state_dict() if k.endswith("relative_position_bias_table")]:
        state[k] = torch.randn(5 * 5, net3d.state_dict()[k].shape[1])  # a 2D table of window 3
        state[k.replace("bias_table", "index")] = torch.zeros(9, 9, dtype=torch.long)
    torch.save({"model": state}, tmp_path / "swin2d.pth")
    net = load_pretrained_files(SwinTransformer3D(arch=arch, window_size=(2, 3, 3), pretrained=str(tmp_path / "swin2d.pth")))
    own = net.state_dict()
    torch.testing.assert_close(own["patch_embed.proj.weight"], state["patch_embed.proj.weight"].unsqueeze(2).repeat(1, 1, 2, 1, 1) / 2)
    table = "layers.1.blocks.0.attn.relative_position_bias_table"
    torch.testing.assert_close(own[table], state[table].repeat(3, 1))
    assert torch.equal(own["norm1.weight"], state["norm.weight"])
    assert torch.equal(own["layers.0.blocks.0.mlp.fc1.weight"], state["layers.0.blocks.0.mlp.fc1.weight"])
