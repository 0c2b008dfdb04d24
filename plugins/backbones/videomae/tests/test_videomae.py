from pathlib import Path

import pytest
import torch

import actioncore
from actioncore import load_config
from actioncore.sdk.weights import convert_state, load_into, load_pretrained_files
from actioncore.testing import assert_component_contract, count_parameters
from actioncore_videomae import VideoMAEPretrainer, VisionTransformer
from actioncore_videomae.vit import Attention, sinusoid_table

pytestmark = [pytest.mark.usefixtures("torch_one_thread"), pytest.mark.actioncore_plugins(
    "actioncore_videomae.hooks", "actioncore_cls_heads.hooks", "actioncore_recognition.hooks", "actioncore_lists.hooks",
    "actioncore_augment.hooks")]

EXAMPLE = (Path(__file__).resolve().parents[1] / "actioncore_videomae" / "examples"
           / "vit_base_p16_videomae_k400_pre_16x4x1_kinetics400.toml")
TINY = dict(embed_dims=32, depth=2, num_heads=2, img_size=32, patch_size=8, num_frames=4, tubelet_size=2)


def tiny_overrides(classes: int = 5) -> list[str]:
    return [f"model.backbone.{k}={v}" for k, v in TINY.items()] + [
        "model.head.in_channels=32", f"model.head.num_classes={classes}"]


# (a) full-size parameter counts of MMAction2 1.2.0's four Kinetics-400 configs, counted on its
# own modules (meta device) by benchmarks/parity/videomae.py
@pytest.mark.parametrize(("size", "expected"), [
    ((768, 12, 12), 86_534_800),   # videomae ViT-B and videomaev2 ViT-B (vit-g distilled)
    ((1024, 24, 16), 304_270_736),  # videomae ViT-L
    ((384, 12, 6), 22_033_936),    # videomaev2 ViT-S (vit-g distilled)
])
def test_full_size_parameter_counts_are_mmaction2s(actioncore_host, size, expected):
    dims, depth, heads = size
    exp = load_config(EXAMPLE, [f"model.backbone.embed_dims={dims}", f"model.backbone.depth={depth}",
                                f"model.backbone.num_heads={heads}", f"model.head.in_channels={dims}"])
    with torch.device("meta"):
        model = actioncore.build_model(exp.model)
    assert count_parameters(model) == expected
    assert count_parameters(model.head) == dims * 400 + 400
    assert "backbone.pos_embed" in model.state_dict()  # the fixed table is a buffer MMAction2 saves


def test_contract(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "videomae", TINY)
    assert net(torch.zeros(3, 3, 4, 32, 32)).shape == (3, 32)


def test_attention_is_mmaction2s_formula():
    """SDPA with the q/v biases (zero key bias) and the scale equals MMAction2's explicit softmax."""
    torch.manual_seed(0)
    attn = Attention(16, 4, qkv_bias=True, qk_scale=None, attn_drop_rate=0.0, drop_rate=0.0).eval()
    torch.nn.init.normal_(attn.q_bias)
    torch.nn.init.normal_(attn.v_bias)
    x = torch.randn(2, 5, 16)
    bias = torch.cat((attn.q_bias, torch.zeros(16), attn.v_bias))
    q, k, v = (x @ attn.qkv.weight.T + bias).reshape(2, 5, 3, 4, 4).permute(2, 0, 3, 1, 4)
    weights = ((q * 4 ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(2, 5, 16))
    with torch.no_grad():
        torch.testing.assert_close(attn(x), expected, atol=1e-5, rtol=1e-5)


def test_position_table_is_the_sinusoid_and_resizes():
    table = sinusoid_table(6, 8)[0]
    position, channel = 5, 3  # odd channel: cos(pos / 10000^(2*floor(i/2)/d))
    assert table[position, channel].item() == pytest.approx(torch.cos(torch.tensor(5 / 10000 ** (2 / 8))).item())
    assert table[position, 2].item() == pytest.approx(torch.sin(torch.tensor(5 / 10000 ** (2 / 8))).item())
    net = VisionTransformer(**TINY).eval()
    assert net(torch.randn(1, 3, 4, 48, 48)).shape == (1, 32)  # a 6x6 grid from the 4x4 table
    with pytest.raises(ValueError, match="num_frames = 4"):
        net(torch.randn(1, 3, 6, 32, 32))


def test_tiny_recognizer_learns_a_fixed_batch(actioncore_host):
    torch.manual_seed(0)
    model = actioncore.build_model(load_config(EXAMPLE, tiny_overrides()).model)
    inputs, labels = torch.randn(2, 1, 3, 4, 32, 32), torch.tensor([1, 3])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(6):
        loss = torch.nn.functional.cross_entropy(model.train()(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert model.eval()(torch.randn(2, 3, 3, 4, 32, 32)).shape == (2, 5)  # 3 views averaged


def mmaction2_state(*, dims: int = 32, depth: int = 2, tokens: int = 32, classes: int = 5) -> dict[str, torch.Tensor]:
    """A random recognizer state dict with MMAction2 1.2.0's keys and shapes (vit_mae.py's module tree)."""
    g = torch.Generator().manual_seed(1)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    b = "backbone"
    s = {f"{b}.pos_embed": r(1, tokens, dims), f"{b}.patch_embed.projection.weight": r(dims, 3, 2, 8, 8),
         f"{b}.patch_embed.projection.bias": r(dims), f"{b}.fc_norm.weight": 1 + r(dims), f"{b}.fc_norm.bias": r(dims)}
    for i in range(depth):
        p = f"{b}.blocks.{i}"
        s |= {f"{p}.norm1.weight": 1 + r(dims), f"{p}.norm1.bias": r(dims), f"{p}.attn.q_bias": r(dims),
              f"{p}.attn.v_bias": r(dims), f"{p}.attn.qkv.weight": r(3 * dims, dims), f"{p}.attn.proj.weight": r(dims, dims),
              f"{p}.attn.proj.bias": r(dims), f"{p}.norm2.weight": 1 + r(dims), f"{p}.norm2.bias": r(dims),
              f"{p}.mlp.layers.0.0.weight": r(4 * dims, dims), f"{p}.mlp.layers.0.0.bias": r(4 * dims),
              f"{p}.mlp.layers.1.weight": r(dims, 4 * dims), f"{p}.mlp.layers.1.bias": r(dims)}
    return s | {"cls_head.fc_cls.weight": r(classes, dims), "cls_head.fc_cls.bias": r(classes),
                "data_preprocessor.mean": torch.zeros(3, 1, 1, 1), "data_preprocessor.std": torch.ones(3, 1, 1, 1)}


def test_mmaction2_state_dict_converts_and_loads_strictly(actioncore_host):
    model = actioncore.build_model(load_config(EXAMPLE, tiny_overrides()).model)
    theirs = mmaction2_state()
    load_into(model, convert_state(model, theirs), "mmaction2.pth")
    own = model.state_dict()
    for key, value in theirs.items():
        if not key.startswith("data_preprocessor."):
            assert torch.equal(own[key.replace("cls_head.", "head.", 1)], value), key


def test_pretraining_encoder_starts_the_recognizer(actioncore_host, tmp_path):
    """A pre-training model's ``backbone.*`` is the fine-tuning backbone; its ``norm`` (no mean
    pooling) is left out and ``fc_norm`` starts fresh, as VideoMAE's fine-tuning does."""
    encoder = VisionTransformer(**TINY, use_mean_pooling=False)
    pretrainer = VideoMAEPretrainer(backbone=encoder, decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2)
    state = {k: v + 0.25 for k, v in pretrainer.state_dict().items()}
    torch.save(state, tmp_path / "pre.pth")
    net = load_pretrained_files(VisionTransformer(**TINY, pretrained=str(tmp_path / "pre.pth")))
    own = net.state_dict()
    assert torch.equal(own["blocks.1.attn.qkv.weight"], state["backbone.blocks.1.attn.qkv.weight"])
    assert torch.equal(own["patch_embed.projection.weight"], state["backbone.patch_embed.projection.weight"])
    assert torch.equal(own["fc_norm.weight"], torch.ones(32))


def test_pretrainer_predicts_every_hidden_cube():
    torch.manual_seed(0)
    model = VideoMAEPretrainer(backbone=VisionTransformer(**TINY, use_mean_pooling=False),
                               decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2)
    mask = torch.zeros(2, 32, dtype=torch.bool)
    mask[:, [1, 2, 5, 17, 18, 21]] = True
    out = model(torch.randn(2, 3, 4, 32, 32), mask)
    assert out.shape == (2, 6, 3 * 2 * 8 * 8)
    with pytest.raises(ValueError, match="use_mean_pooling = false"):
        VideoMAEPretrainer(backbone=VisionTransformer(**TINY))
