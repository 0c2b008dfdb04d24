from pathlib import Path

import pytest
import torch

import actioncore
from actioncore import load_config
from actioncore.sdk.weights import convert_state, load_into
from actioncore.testing import assert_component_contract, count_parameters
from actioncore_uniformerv2 import UniFormerV2
from actioncore_uniformerv2.uniformerv2 import GlobalUniBlock, multihead_attention

pytestmark = [pytest.mark.usefixtures("torch_one_thread"), pytest.mark.actioncore_plugins(
    "actioncore_uniformerv2.hooks", "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
    "actioncore_lists.hooks", "actioncore_augment.hooks")]

EXAMPLE = (Path(__file__).resolve().parents[1] / "actioncore_uniformerv2" / "examples"
           / "uniformerv2_base_p16_res224_clip_kinetics710_pre_u8_kinetics400.toml")
TINY = dict(input_resolution=32, patch_size=8, width=32, layers=3, heads=2, t_size=4, return_list=[1, 2],
            n_layers=2, n_dim=32, n_head=2, mlp_dropout=[0.5, 0.5])


# full-size parameter counts of MMAction2 1.2.0's configs, counted on its own modules by
# benchmarks/parity/uniformerv2.py (the others are checked by tests/test_zoo_fits.py)
@pytest.mark.parametrize(("overrides", "expected"), [
    ([], 114_552_208),                                           # ViT-B/16, 224 px, 8 frames
    (["model.backbone.no_lmhra=false"], 133_543_312),            # with local MHRA (double)
    (["model.backbone.patch_size=14", "model.backbone.width=1024", "model.backbone.layers=24",
      "model.backbone.heads=16", "model.backbone.return_list=[20, 21, 22, 23]", "model.backbone.n_dim=1024",
      "model.backbone.n_head=16", "model.head.in_channels=1024"], 354_099_600),  # ViT-L/14
])
def test_full_size_parameter_counts_are_mmaction2s(actioncore_host, overrides, expected):
    with torch.device("meta"):
        model = actioncore.build_model(load_config(EXAMPLE, overrides).model)
    assert count_parameters(model) == expected


def test_contract(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "uniformerv2", {**TINY, "no_lmhra": False})
    assert net(torch.zeros(2, 3, 4, 32, 32)).shape == (2, 32)


def test_sdpa_attention_is_clips_multihead_attention():
    torch.manual_seed(0)
    attn = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    x, y = torch.randn(2, 3, 16), torch.randn(2, 7, 16)
    with torch.no_grad():
        torch.testing.assert_close(multihead_attention(attn, x, y), attn(x, y, y, need_weights=False)[0])


def test_global_and_local_blocks_start_as_identity_and_only_the_balance_mixes():
    """The global blocks' outputs and the local MHRA's last conv start at zero: the network is
    CLIP's per frame at first, and sigmoid(0) = 1/2 blends the video token with the frame mean."""
    torch.manual_seed(0)
    block = GlobalUniBlock(32, 2).eval()
    x = torch.randn(2, 1, 32)
    torch.testing.assert_close(block(x, torch.randn(2, 9, 32)), x)
    net = UniFormerV2(**{**TINY, "no_lmhra": False}).eval()
    plain = UniFormerV2(**TINY).eval()
    plain.load_state_dict(net.state_dict(), strict=False)
    clip = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(net(clip), plain(clip))


def test_mmaction2_named_state_dict_loads_strictly(actioncore_host):
    overrides = [f"model.backbone.{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in TINY.items()]
    model = actioncore.build_model(load_config(EXAMPLE, overrides + ["model.head.in_channels=32"]).model)
    theirs = {("cls_head." + k[5:] if k.startswith("head.") else k): torch.randn_like(v) if v.is_floating_point() else v
              for k, v in model.state_dict().items()}
    load_into(model, convert_state(model, theirs), "mmaction2.pth")
    assert torch.equal(model.state_dict()["head.fc_cls.weight"], theirs["cls_head.fc_cls.weight"])
    assert "backbone.transformer.dec.1.attn.in_proj_weight" in theirs


def test_wrong_input_fails_clearly():
    net = UniFormerV2(**TINY)
    with pytest.raises(ValueError, match="t_size = 4"):
        net(torch.zeros(1, 3, 2, 32, 32))
    with pytest.raises(ValueError, match="32, 32"):
        net(torch.zeros(1, 3, 4, 48, 48))
