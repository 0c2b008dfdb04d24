"""The detector: MMAction2's parameter counts, the component contract, tiny variants that train."""
import tomllib
from pathlib import Path

import pytest
import torch
from torch import nn

import actioncore
from actioncore.sdk.weights import convert_state, load_into
from actioncore.testing import assert_component_contract, count_parameters, fixed_batch_losses
from actioncore_ava_detector import FeatureBank

PLUGINS = ("actioncore_ava_detector.hooks", "actioncore_resnet3d.hooks", "actioncore_slowfast.hooks")
EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_ava_detector" / "examples"

# MMAction2's SlowOnly-R50 of the AVA configs: spatial strides 1, 2, 2, 1 (features at 1/16).
SLOWONLY_R50 = """
type = "resnet3d"
depth = 50
conv1_kernel = [1, 7, 7]
with_pool2 = false
inflate = [0, 0, 1, 1]
spatial_strides = [1, 2, 2, 1]
"""
SLOWFAST_R50 = """
type = "resnet3d_slowfast"
resample_rate = {tau}
speed_ratio = {tau}
[slow_pathway]
fusion_kernel = {fusion}
spatial_strides = [1, 2, 2, 1]
[fast_pathway]
spatial_strides = [1, 2, 2, 1]
"""
# Tiny: basic blocks, one per stage. SlowOnly 8 base channels (64 out); SlowFast slow 16 (128 out)
# and fast 2 (16 out), 144 together. Both at 1/16 resolution.
TINY_SLOWONLY = """
type = "resnet3d"
depth = 18
stage_blocks = [1, 1, 1, 1]
base_channels = 8
conv1_kernel = [1, 7, 7]
with_pool2 = false
inflate = [0, 0, 1, 1]
spatial_strides = [1, 2, 2, 1]
"""
TINY_SLOWFAST = """
type = "resnet3d_slowfast"
resample_rate = 4
speed_ratio = 4
[slow_pathway]
depth = 18
base_channels = 16
stage_blocks = [1, 1, 1, 1]
spatial_strides = [1, 2, 2, 1]
[fast_pathway]
depth = 18
base_channels = 2
stage_blocks = [1, 1, 1, 1]
spatial_strides = [1, 2, 2, 1]
"""


def table(backbone: str, head: dict, **rest) -> dict:
    return {"backbone": tomllib.loads(backbone), "head": {"type": "ava_bbox", **head}, **rest}


def build(model_table: dict, *, meta_device: bool = False) -> torch.nn.Module:
    if meta_device:
        with torch.device("meta"):
            return actioncore.build("model", "ava_detector", **model_table)
    return actioncore.build("model", "ava_detector", **model_table)



pytestmark = pytest.mark.actioncore_plugins(*PLUGINS)

LFB_NL = {"type": "fbo", "fbo": {"type": "non_local"}}
LFB_MAX = {"type": "fbo", "fbo": {"type": "max"}}
ACRN = {"type": "acrn", "in_channels": 4608, "out_channels": 2304}

# MMAction2 1.2.0's counts for its AVA configs (its own modules with mmdet stand-ins, counted by
# benchmarks/parity/ava_detector.py).
FULL_SIZE = {
    "slowonly_r50 (ava21 4x16x1)": (table(SLOWONLY_R50, {"in_channels": 2048}), 31_800_465),
    "slowfast_r50 (ava21 4x16x1)": (
        table(SLOWFAST_R50.format(tau=8, fusion=5), {"in_channels": 2304}), 33_743_993),
    "slowfast_r50 context (ava21 4x16x1)": (
        table(SLOWFAST_R50.format(tau=8, fusion=5), {"in_channels": 4608},
              roi_extractor={"with_global": True}), 33_930_617),
    "slowfast_r50 temporal max focal (ava22 8x8x1)": (
        table(SLOWFAST_R50.format(tau=4, fusion=7), {"in_channels": 2304, "focal_alpha": 3.0,
                                                     "focal_gamma": 1.0},
              roi_extractor={"temporal_pool_mode": "max"}), 33_830_265),
    "slowfast_acrn_r50 (ava21 8x8x1)": (
        table(SLOWFAST_R50.format(tau=4, fusion=7), {"in_channels": 2304}, shared_head=ACRN),
        92_232_057),
    "slowonly_lfb_nl_r50 (ava21 4x16x1)": (
        table(SLOWONLY_R50, {"in_channels": 2560}, shared_head=LFB_NL), 36_043_409),
    "slowonly_lfb_max_r50 (ava21 4x16x1)": (
        table(SLOWONLY_R50, {"in_channels": 4096}, shared_head=LFB_MAX), 31_966_353),
}


@pytest.mark.parametrize("name", FULL_SIZE)
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, name):
    model_table, expected = FULL_SIZE[name]
    model = build(model_table, meta_device=True)
    assert count_parameters(model) == expected


EXAMPLE_COUNTS = {
    "slowonly_r50_4x16x1_20e_ava_rgb.toml": 31_800_465,
    "slowfast_r50_4x16x1_20e_ava_rgb.toml": 33_743_993,
    "acrn_slowfast_r50_8x8x1_10e_ava_rgb.toml": 92_232_057,
    "lfb_nl_slowonly_r50_4x16x1_20e_ava_rgb.toml": 36_043_409,
    "lfb_infer_slowonly_r50_4x16x1_ava_rgb.toml": 31_800_465,
}


@pytest.mark.actioncore_plugins(*PLUGINS, "actioncore_detection.hooks")
@pytest.mark.parametrize("name", EXAMPLE_COUNTS)
def test_full_size_examples_have_mmaction2s_parameter_count(actioncore_host, name):
    with torch.device("meta"):
        model = actioncore.build_model(actioncore.load_config(EXAMPLES / name).model)
    assert count_parameters(model) == EXAMPLE_COUNTS[name]


def test_slowonly_detector_is_the_recognizer_backbone_plus_an_81_way_box_head(actioncore_host):
    model = build(table(SLOWONLY_R50, {"in_channels": 2048}), meta_device=True)
    assert count_parameters(model.head) == 2048 * 81 + 81
    assert count_parameters(model.backbone) == 31_800_465 - 2048 * 81 - 81
    assert [m.conv2.conv.stride for m in (model.backbone.layer2[0], model.backbone.layer4[0])] == \
        [(1, 2, 2), (1, 1, 1)]


TINY = {
    "slowonly": table(TINY_SLOWONLY, {"in_channels": 64, "num_classes": 6}),
    "slowonly_context_temporal_max": table(
        TINY_SLOWONLY, {"in_channels": 128, "num_classes": 6},
        roi_extractor={"with_global": True, "temporal_pool_mode": "max"}),
    "slowfast": table(TINY_SLOWFAST, {"in_channels": 144, "num_classes": 6}),
    "slowfast_acrn": table(TINY_SLOWFAST, {"in_channels": 32, "num_classes": 6},
                           shared_head={"type": "acrn", "in_channels": 288, "out_channels": 32}),
}


@pytest.mark.parametrize("name", TINY)
def test_tiny_detector_scores_each_roi_and_trains(actioncore_host, clips_and_rois, name):
    torch.manual_seed(0)
    inputs, rois = clips_and_rois
    model = build(TINY[name])
    model.eval()
    with torch.no_grad():
        logits = model(inputs, rois, meta=None)
    assert logits.shape == (5, 6)
    scores = model.scores(logits)
    assert torch.equal(scores, logits.sigmoid())
    # one RoI's logits depend on its own box only: moving another box changes nothing for it
    moved = rois.clone()
    moved[1, 1:] = torch.tensor([0.0, 0, 20, 20])
    with torch.no_grad():
        again = model(inputs, moved)
    assert torch.allclose(again[[0, 2, 3, 4]], logits[[0, 2, 3, 4]], atol=1e-6)
    assert not torch.allclose(again[1], logits[1])

    class Fixed(nn.Module):  # fixed_batch_losses calls model(inputs); the RoIs stay fixed
        def __init__(self):
            super().__init__()
            self.detector = model

        def forward(self, x):
            return self.detector(x, rois)

    losses = fixed_batch_losses(Fixed(), inputs, torch.tensor([1, 2, 3, 4, 5]), steps=5, reseed=0)
    assert losses[-1] < losses[0], losses


def test_model_loss_trains_every_parameter(actioncore_host, clips_and_rois):
    inputs, rois = clips_and_rois
    torch.manual_seed(0)
    model = build(TINY["slowfast_acrn"])
    targets = torch.zeros(5, 6)
    targets[[0, 1, 2, 3], [1, 2, 3, 4]] = 1
    targets[0, 5] = 1  # row 4 is a sampled negative: all zeros
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(4):
        out = model.loss(model(inputs, rois), targets)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        losses.append(out["loss"].item())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    assert losses[-1] < losses[0], losses
    assert {"recall@thr=0.5", "prec@thr=0.5", "recall@top3", "prec@top5"} <= set(out)


def test_without_rois_each_clip_is_one_whole_frame_roi(actioncore_host, clips_and_rois):
    inputs, _ = clips_and_rois
    model = build(TINY["slowonly"]).eval()
    whole = torch.tensor([[0, 0, 0, 64, 64], [1, 0, 0, 64, 64.0]])
    with torch.no_grad():
        assert torch.equal(model(inputs), model(inputs, whole))


def test_roi_features_are_the_pooled_roi_maps(actioncore_host, clips_and_rois):
    inputs, rois = clips_and_rois
    model = build(TINY["slowfast"]).eval()
    with torch.no_grad():
        features = model.roi_features(inputs, rois, meta=None)
        maps, _ = model.roi_maps(inputs, rois)
    assert features.shape == (5, 144)
    assert torch.allclose(features, maps.mean(2).amax((2, 3)))


@pytest.mark.parametrize("name", ["slowonly", "slowfast_acrn"])
def test_mmaction2_names_convert_to_ours(actioncore_host, clips_and_rois, name):
    """A state dict in MMAction2's FastRCNN naming loads after from_mmaction2 and gives our outputs."""
    inputs, rois = clips_and_rois
    torch.manual_seed(1)
    source = build(TINY[name]).eval()
    theirs = {}
    for key, value in source.state_dict().items():
        key = key.replace("head.", "roi_head.bbox_head.", 1) if key.startswith("head.") else key
        key = key.replace("shared_head.", "roi_head.shared_head.", 1) if key.startswith("shared_head.") else key
        theirs[key] = value
    assert any(k.startswith("roi_head.bbox_head.fc_cls") for k in theirs)
    target = build(TINY[name]).eval()
    load_into(target, convert_state(target, theirs), "mmaction2.pth")
    with torch.no_grad():
        assert torch.equal(target(inputs, rois), source(inputs, rois))


def test_contracts(actioncore_host):
    model = assert_component_contract(actioncore_host, "model", "ava_detector", TINY["slowonly"])
    assert model.num_classes == 6
    head = assert_component_contract(actioncore_host, "head", "ava_bbox",
                                     {"in_channels": 16, "num_classes": 4, "focal_gamma": 1.0, "topk": [1, 3]})
    assert head(torch.randn(3, 16, 1, 8, 8)).shape == (3, 4)
    acrn = assert_component_contract(actioncore_host, "head", "acrn",
                                     {"in_channels": 32, "out_channels": 8, "num_convs": 2})
    assert len(acrn.convs) == 1
    fbo = assert_component_contract(actioncore_host, "head", "fbo", """
        temporal_pool_type = "max"
        [lfb]
        files = ["bank.pt"]
        lfb_channels = 16
        window_size = 4
        [fbo]
        type = "non_local"
        st_feat_channels = 16
        latent_channels = 8
        """)
    assert fbo.out_channels == 24


def test_lfb_detector_reads_a_bank_made_by_a_detector_without_lfb(actioncore_host, clips_and_rois, tmp_path):
    inputs, rois = clips_and_rois
    meta = [{"video_id": "a", "timestamp": 10}] * 2 + [{"video_id": "b", "timestamp": 3}] * 3
    torch.manual_seed(0)
    plain = build(table(TINY_SLOWONLY, {"in_channels": 64, "num_classes": 6})).eval()
    bank = FeatureBank()
    with torch.no_grad():
        for shift in (-1, 0, 2):  # the same clips at neighbouring seconds
            bank.add(plain.roi_features(inputs, rois, meta=meta),
                     [{**m, "timestamp": m["timestamp"] + shift} for m in meta])
    bank.save(tmp_path / "lfb_train.pt")
    lfb_table = table(TINY_SLOWONLY, {"in_channels": 64 + 16, "num_classes": 6}, shared_head={
        "type": "fbo", "lfb": {"files": [str(tmp_path / "lfb_train.pt")], "window_size": 6,
                               "max_num_sampled_feat": 3, "lfb_channels": 64},
        "fbo": {"type": "non_local", "st_feat_channels": 64, "latent_channels": 16}})
    model = build(lfb_table)
    logits = model(inputs, rois, meta=meta)
    assert logits.shape == (5, 6)
    targets = torch.zeros(5, 6)
    targets[torch.arange(5), torch.arange(1, 6)] = 1
    model.loss(logits, targets)["loss"].backward()
    assert model.shared_head.fbo.non_local_layer_2.out_conv.conv.weight.grad.abs().sum() > 0
    assert model.shared_head.bank().window("b", 3, window_size=6, max_per_second=3).abs().sum(1).gt(0).sum() == 9
