import gzip
import json
from pathlib import Path

import pytest
import torch

import actioncore
from actioncore import load_config
from actioncore.sdk.weights import convert_state, load_into
from actioncore.testing import assert_component_contract, count_parameters, fixed_batch_losses
from actioncore_mvit import MViT, MViTHead
from actioncore_mvit.mvit import MultiScaleAttention

pytestmark = pytest.mark.actioncore_plugins(
    "actioncore_mvit.hooks", "actioncore_cls_heads.hooks", "actioncore_recognition.hooks", "actioncore_lists.hooks",
    "actioncore_augment.hooks")
pytestmark = [pytestmark, pytest.mark.usefixtures("torch_one_thread")]

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_mvit" / "examples"
SMALL = EXAMPLES / "mvit_small_p244_16x4x1_200e_kinetics400_rgb.toml"
MASKFEAT = EXAMPLES / "mvit_small_p244_k400_maskfeat_pre_16x4x1_100e_kinetics400_rgb.toml"
ZOO_KEYS = Path(__file__).resolve().parents[4] / "tests" / "data" / "zoo_keys"
# MViTv2-S's 16 blocks and downscales at 1/6 of its width: MMAction2's key set, tiny tensors
NARROW = "{embed_dims = 16, num_layers = 16, num_heads = 1, downscale_indices = [1, 3, 14]}"
SHALLOW = "{embed_dims = 16, num_layers = 5, num_heads = 1, downscale_indices = [1, 2, 4]}"  # for the training tests


def tiny_overrides(*, classes: int = 5, with_cp: bool = False, arch: str = SHALLOW) -> list[str]:
    return [f"model.backbone.arch={arch}", "model.backbone.spatial_size=32", "model.backbone.temporal_size=4",
            f"model.backbone.with_cp={str(with_cp).lower()}", "model.head.in_channels=128",
            f"model.head.num_classes={classes}", "task.batch_steps=[]"]


# (a) full-size parameter counts: MMAction2 1.2.0's recognizers (MViT + MViTHead), counted with its
# own builder by benchmarks/parity/mvit.py
COUNTS = {"mvit_small_p244_16x4x1_200e_kinetics400_rgb.toml": (34_537_744, 307_600),
          "mvit_base_p244_32x3x1_kinetics400_rgb.toml": (51_230_128, 307_600),
          "mvit_large_p244_40x3x1_kinetics400_rgb.toml": (213_390_112, 461_200),
          "mvit_small_p244_k400_maskfeat_pre_16x4x1_100e_kinetics400_rgb.toml": (36_475_120, 307_600),
          "mvit_small_p244_k400_pre_u16_100e_sthv2_rgb.toml": (34_363_950, 133_806),
          "mvit_base_p244_u32_sthv2_rgb.toml": (51_056_334, 133_806),
          "mvit_large_p244_u40_sthv2_rgb.toml": (213_129_534, 200_622)}


def test_full_size_parameter_counts_are_mmaction2s(actioncore_host):
    for example, (expected, head) in COUNTS.items():
        with torch.device("meta"):
            model = actioncore.build_model(load_config(EXAMPLES / example).model)
        assert (count_parameters(model), count_parameters(model.head)) == (expected, head), example


def test_contract(actioncore_host):
    arch = {"embed_dims": 8, "num_layers": 2, "num_heads": 1, "downscale_indices": [1]}
    net = assert_component_contract(actioncore_host, "backbone", "mvit",
                                     {"arch": arch, "spatial_size": 16, "temporal_size": 2})
    assert net(torch.zeros(2, 3, 2, 16, 16)).shape == (2, 16)
    head = assert_component_contract(actioncore_host, "head", "mvit", {"num_classes": 3, "in_channels": 16})
    assert torch.all(head.fc_cls.bias == 0.02)


@pytest.fixture
def tiny_model(actioncore_host):
    torch.manual_seed(0)
    return actioncore.build_model(load_config(SMALL, tiny_overrides()).model)


def test_tiny_example_trains(tiny_model):
    model = tiny_model
    model.eval()
    assert model(torch.randn(2, 2, 3, 4, 32, 32)).shape == (2, 5)
    model.head.dropout.p = 0.0
    losses = fixed_batch_losses(model, torch.randn(2, 1, 3, 4, 32, 32), torch.tensor([1, 3]), reseed=0)
    assert losses[-1] < losses[0]
    assert model.backbone.blocks[3].attn.rel_pos_t.grad.abs().sum() > 0


def test_relative_positions_go_in_as_the_attention_mask():
    # MMAction2's logits: (q * scale) . k + q . R_t + q . R_h + q . R_w, nothing on the cls row/column
    torch.manual_seed(0)
    attn = MultiScaleAttention(8, 8, 2, qkv_bias=True, norm_eps=1e-6, pool_kernel=(3, 3, 3), stride_q=(1, 1, 1),
                               stride_kv=(1, 2, 2), rel_pos_embed=True, residual_pooling=False,
                               input_size=(2, 4, 4), rel_pos_zero_init=False, with_cls_token=True).eval()
    x = torch.randn(1, 1 + 2 * 4 * 4, 8)
    with torch.no_grad():
        out, size = attn(x, (2, 4, 4))
        assert size == (2, 4, 4)
        for p in (attn.rel_pos_t, attn.rel_pos_h, attn.rel_pos_w):
            p.zero_()
        plain, _ = attn(x, (2, 4, 4))
        assert (out - plain).abs().max() > 1e-3
    # the cls token's query row carries no relative term: a new time table changes only patch rows
    with torch.no_grad():
        torch.nn.init.normal_(attn.rel_pos_t)
        changed, _ = attn(x, (2, 4, 4))
    torch.testing.assert_close(changed[:, 0], plain[:, 0])


def test_gradient_checkpointing_gives_the_same_gradients(actioncore_host):
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = actioncore.build_model(load_config(SMALL, tiny_overrides(with_cp=with_cp)).model).train()
        torch.manual_seed(1)
        model.head(model.features(torch.randn(2, 3, 4, 32, 32))).logsumexp(-1).sum().backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, atol=1e-6, rtol=1e-5, msg=name)


def test_mmaction2_state_dict_converts_and_loads_strictly(actioncore_host):
    index = json.loads((ZOO_KEYS / "index.json").read_text())
    found = index["configs/recognition/mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py"]
    keys = sorted(json.loads(gzip.decompress((ZOO_KEYS / f"{found['layout']}.json.gz").read_bytes())))
    model = actioncore.build_model(load_config(SMALL, tiny_overrides(arch=NARROW)).model)
    ours = model.state_dict()
    g = torch.Generator().manual_seed(3)
    theirs = {k: torch.randn(ours[k.replace("cls_head.", "head.", 1)].shape, generator=g) for k in keys}
    load_into(model, convert_state(model, theirs), "mmaction2.pth")
    own = model.state_dict()
    assert all(torch.equal(own[k.replace("cls_head.", "head.", 1)], v) for k, v in theirs.items())
