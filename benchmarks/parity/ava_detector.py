"""Check the AVA detectors against MMAction2 1.2.0: parameter counts, conversion, box scores.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/ava_detector.py

MMAction2's detector is mmdet's ``FastRCNN`` and its RoI layers are mmcv's compiled ops; neither
mmdet nor mmcv's ops are installed with the peers (mmcv-lite). So this script puts small stand-ins
in ``sys.modules`` *before* importing MMAction2's detection code, and then runs MMAction2's own
classes unchanged:

- ``mmcv.ops.RoIAlign`` / ``RoIPool``: thin wrappers of ``torchvision.ops.roi_align`` /
  ``roi_pool`` (mmcv's avg-mode aligned RoIAlign computes the same function; both sides therefore
  share the RoI op itself, everything around it is MMAction2's);
- ``mmdet``'s ``StandardRoIHead`` base (only its constructor: it builds the extractor, shared
  head and box head from their config dicts and sets ``with_shared_head``), ``SamplingResult``
  (a record with ``pos_priors``, ``neg_priors``, ``pos_gt_labels``), ``bbox2roi`` and a registry.

For each config below it builds MMAction2's backbone (its registry, from the config file) and an
``AVARoIHead`` holding MMAction2's ``SingleRoIExtractor3D``, ``ACRNHead`` / ``FBOHead`` and
``BBoxHeadAVA``; the detector is ``backbone`` + ``roi_head`` as in ``FastRCNN`` (so the
state-dict keys are a real checkpoint's), with ``FastRCNN``'s test forward reconstructed as
``roi_head._bbox_forward(backbone(inputs), rois, img_metas)`` followed by the sigmoid of
``BBoxHeadAVA.predict_by_feat``. It then

1. counts MMAction2's full-size parameters and ours (model tables in ``OURS`` below, the same as
   ``examples/detection/``);
2. gives every MMAction2 parameter and BatchNorm statistic random values, saves the detector's
   state dict, converts it with :func:`actioncore.sdk.weights.convert_state` (our ``from_mmaction2``),
   loads it strictly into ours (and, where ``examples/detection/`` has the model, converts it
   again with ``actioncore convert mmaction2 ... --config EXAMPLE`` and checks the same tensors
   come out) and compares, in eval mode, the logits and box scores of two
   random clips with three boxes each (LFB: a random bank written in MMAction2's ``lfb_*.pkl``
   layout, at most ``max_num_sampled_feat`` features per second, read by both);
3. compares the training loss (``BBoxHeadAVA.loss_and_target`` with MMAction2's ``bbox_target``)
   with ``model.loss`` on the same logits and multi-hot targets, plain and focal.

Prints a JSON summary; exits 1 if a count differs or a difference exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import tomllib
import types
from pathlib import Path

import torch
import torchvision
from torch import nn

import actioncore
from actioncore.weights.files import load_into, mmaction2_weights
from actioncore.weights.mmaction2 import convert_state

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import REPO, count, example_path, mmaction2_config, parity_arguments, randomise, run_parity  # noqa: E402

SLOWONLY_BACKBONE = """
[backbone]
type = "resnet3d"
depth = 50
conv1_kernel = [1, 7, 7]
conv1_stride_t = 1
pool1_stride_t = 1
with_pool2 = false
inflate = [0, 0, 1, 1]
spatial_strides = [1, 2, 2, 1]
"""
SLOWFAST_BACKBONE = """
[backbone]
type = "resnet3d_slowfast"
resample_rate = {tau}
speed_ratio = {tau}
channel_ratio = 8
[backbone.slow_pathway]
lateral = true
fusion_kernel = {fusion}
conv1_kernel = [1, 7, 7]
inflate = [0, 0, 1, 1]
spatial_strides = [1, 2, 2, 1]
[backbone.fast_pathway]
lateral = false
base_channels = 8
conv1_kernel = [5, 7, 7]
spatial_strides = [1, 2, 2, 1]
"""


def head(in_channels: int, extra: str = "") -> str:
    return f"""
[head]
type = "ava_bbox"
in_channels = {in_channels}
num_classes = 81
dropout_ratio = 0.5
{extra}
"""


def lfb(kind: str) -> str:
    return f"""
[shared_head]
type = "fbo"
[shared_head.lfb]
files = ["{{bank}}/lfb_train.pkl", "{{bank}}/lfb_val.pkl"]
window_size = 60
max_num_sampled_feat = 5
lfb_channels = 2048
[shared_head.fbo]
type = "{kind}"
st_feat_channels = 2048
latent_channels = 512
"""


# name -> (MMAction2 config, our model table, clip length)
OURS = {
    "slowonly_r50_4x16x1": (
        "slowonly/slowonly_kinetics400-pretrained-r50_8xb16-4x16x1-20e_ava21-rgb.py",
        SLOWONLY_BACKBONE + head(2048), 4),
    "slowfast_r50_4x16x1": (
        "slowfast/slowfast_kinetics400-pretrained-r50_8xb16-4x16x1-20e_ava21-rgb.py",
        SLOWFAST_BACKBONE.format(tau=8, fusion=5) + head(2304), 32),
    "slowfast_r50_context_4x16x1": (
        "slowfast/slowfast_kinetics400-pretrained-r50-context_8xb16-4x16x1-20e_ava21-rgb.py",
        SLOWFAST_BACKBONE.format(tau=8, fusion=5) + head(4608)
        + "[roi_extractor]\nwith_global = true\n", 32),
    "slowfast_r50_temporal_max_focal_8x8x1": (
        "slowfast/slowfast_r50-k400-pre-temporal-max-focal-alpha3-gamma1_8xb6-8x8x1-cosine-10e_ava22-rgb.py",
        SLOWFAST_BACKBONE.format(tau=4, fusion=7) + head(2304, "focal_alpha = 3.0\nfocal_gamma = 1.0")
        + '[roi_extractor]\ntemporal_pool_mode = "max"\n', 32),
    "slowfast_acrn_r50_8x8x1": (
        "acrn/slowfast-acrn_kinetics400-pretrained-r50_8xb8-8x8x1-cosine-10e_ava21-rgb.py",
        SLOWFAST_BACKBONE.format(tau=4, fusion=7) + head(2304)
        + '[shared_head]\ntype = "acrn"\nin_channels = 4608\nout_channels = 2304\n', 32),
    "slowonly_lfb_nl_r50_4x16x1": (
        "lfb/slowonly-lfb-nl_kinetics400-pretrained-r50_8xb12-4x16x1-20e_ava21-rgb.py",
        SLOWONLY_BACKBONE + head(2560) + lfb("non_local"), 4),
    "slowonly_lfb_max_r50_4x16x1": (
        "lfb/slowonly-lfb-max_kinetics400-pretrained-r50_8xb12-4x16x1-20e_ava21-rgb.py",
        SLOWONLY_BACKBONE + head(4096) + lfb("max"), 4),
}


# The models that have a full-size example: also converted by the command line, from the example.
EXAMPLES = {
    "slowonly_r50_4x16x1": "slowonly_r50_4x16x1_20e_ava_rgb.toml",
    "slowfast_r50_4x16x1": "slowfast_r50_4x16x1_20e_ava_rgb.toml",
    "slowfast_acrn_r50_8x8x1": "acrn_slowfast_r50_8x8x1_10e_ava_rgb.toml",
    "slowonly_lfb_nl_r50_4x16x1": "lfb_nl_slowonly_r50_4x16x1_20e_ava_rgb.toml",
}


def install_stand_ins() -> None:
    """mmcv.ops and the few mmdet names MMAction2's detection modules import (see above)."""

    class RoIAlign(nn.Module):
        def __init__(self, output_size, spatial_scale, sampling_ratio=0, pool_mode="avg", aligned=True):
            super().__init__()
            assert pool_mode == "avg", "torchvision's RoIAlign averages"
            self.args = (output_size, spatial_scale, sampling_ratio, aligned)

        def forward(self, features, rois):
            size, scale, ratio, aligned = self.args
            return torchvision.ops.roi_align(features, rois, size, scale, ratio, aligned)

    class RoIPool(nn.Module):
        def __init__(self, output_size, spatial_scale):
            super().__init__()
            self.args = (output_size, spatial_scale)

        def forward(self, features, rois):
            return torchvision.ops.roi_pool(features, rois, *self.args)

    class StandardRoIHead(nn.Module):
        def __init__(self, bbox_roi_extractor=None, bbox_head=None, shared_head=None,
                     train_cfg=None, test_cfg=None, **_):
            super().__init__()
            from mmaction.models.roi_heads.bbox_heads import BBoxHeadAVA
            from mmaction.models.roi_heads.roi_extractors import SingleRoIExtractor3D
            from mmaction.models.roi_heads.shared_heads import ACRNHead, FBOHead

            classes = {c.__name__: c for c in (BBoxHeadAVA, SingleRoIExtractor3D, ACRNHead, FBOHead)}

            def build(cfg):
                cfg = dict(cfg)
                return classes[cfg.pop("type")](**cfg)

            self.bbox_roi_extractor = build(bbox_roi_extractor)
            if shared_head is not None:
                self.shared_head = build(shared_head)
            self.bbox_head = build(bbox_head)
            self.train_cfg, self.test_cfg = train_cfg, test_cfg

        @property
        def with_shared_head(self) -> bool:
            return getattr(self, "shared_head", None) is not None

    class SamplingResult:
        def __init__(self, pos_priors, neg_priors, pos_gt_labels):
            self.pos_priors, self.neg_priors, self.pos_gt_labels = pos_priors, neg_priors, pos_gt_labels

    def bbox2roi(boxes):
        return torch.cat([torch.cat([b.new_full((len(b), 1), i), b[:, :4]], 1) for i, b in enumerate(boxes)])

    from mmengine.registry import Registry

    modules = {
        "mmcv.ops": {"RoIAlign": RoIAlign, "RoIPool": RoIPool},
        "mmdet": {}, "mmdet.models": {}, "mmdet.models.roi_heads": {"StandardRoIHead": StandardRoIHead},
        "mmdet.models.task_modules": {},
        "mmdet.models.task_modules.samplers": {"SamplingResult": SamplingResult},
        "mmdet.structures": {}, "mmdet.structures.bbox": {"bbox2roi": bbox2roi},
        "mmdet.registry": {"MODELS": Registry("mmdet model")},
    }
    for name, attributes in modules.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        sys.modules[name] = module


class TheirDetector(nn.Module):
    """``FastRCNN``'s parts and test forward, with MMAction2's backbone and roi head."""

    def __init__(self, config: dict):
        super().__init__()
        from mmaction.models.roi_heads.roi_head import AVARoIHead
        from mmaction.registry import MODELS

        backbone = dict(config["backbone"])
        backbone["type"] = backbone["type"].removeprefix("mmaction.")
        self.backbone = MODELS.build(backbone)
        roi_head = dict(config["roi_head"])
        roi_head.pop("type")
        self.roi_head = AVARoIHead(**roi_head, train_cfg=config["train_cfg"]["rcnn"])
        self.backbone.init_weights()
        for module in self.roi_head.modules():
            if module is not self.roi_head and hasattr(module, "init_weights"):
                module.init_weights()

    def forward(self, inputs, rois, img_metas):
        results = self.roi_head._bbox_forward(self.backbone(inputs), rois, img_metas)
        return results["cls_score"]


@torch.no_grad()
def randomise_all(model: nn.Module, seed: int) -> None:
    """:func:`mmaction2_peer.randomise`, and LayerNorms (LFB's non-local blocks) too."""
    randomise(model, seed)
    g = torch.Generator().manual_seed(seed + 100)
    for module in model.modules():
        if isinstance(module, nn.LayerNorm):
            module.weight.copy_(0.5 + 0.5 * torch.rand(module.weight.shape, generator=g))
            module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=g))


def write_banks(folder: Path, videos: list[str], timestamps: list[int], seed: int) -> None:
    """Random banks in MMAction2's layout: 0-5 features per second, some seconds missing."""
    g = torch.Generator().manual_seed(seed)
    for mode, owned in (("train", videos[:1]), ("val", videos[1:])):
        bank = {}
        for video in owned:
            centre = timestamps[videos.index(video)]
            seconds = {}
            for second in range(centre - 40, centre + 40):
                n = int(torch.randint(0, 6, (1,), generator=g))
                if n:
                    seconds[second] = [torch.randn(2048, generator=g).half() for _ in range(n)]
            bank[video] = seconds
        torch.save(bank, folder / f"lfb_{mode}.pkl")


def check(name: str, args: argparse.Namespace) -> dict:
    config_name, table, frames = OURS[name]
    config = mmaction2_config(f"detection/{config_name}")
    videos, timestamps = ["video_a", "video_b"], [902, 1500]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_banks(tmp, videos, timestamps, args.seed)
        shared = config["roi_head"].get("shared_head")
        if shared is not None and shared["type"] == "FBOHead":
            shared["lfb_cfg"].update(lfb_prefix_path=str(tmp), device="cpu")
        theirs = TheirDetector(config)
        ours = actioncore.build("model", "ava_detector", **tomllib.loads(table.replace("{bank}", str(tmp))))
        result: dict = {"mmaction2_parameters": count(theirs), "actioncore_parameters": count(ours)}
        randomise_all(theirs, args.seed)
        checkpoint = tmp / "mmaction2.pth"
        torch.save({"state_dict": theirs.state_dict(), "meta": {}}, checkpoint)
        state = convert_state(ours, mmaction2_weights(checkpoint))
        load_into(ours, state, checkpoint)  # strict: every key and shape
        if name in EXAMPLES:
            result["cli_convert_equal"] = convert_by_cli(checkpoint, EXAMPLES[name], ours, tmp)
        theirs.eval()
        ours.eval()

        g = torch.Generator().manual_seed(args.seed + 1)
        size = args.size
        inputs = torch.randn(2, 3, frames, size, size, generator=g)
        corners = torch.rand(6, 2, 2, generator=g) * size
        boxes = torch.cat([corners.min(1).values, corners.max(1).values + 4], 1).clamp(max=size)
        rois = torch.cat([torch.tensor([0, 0, 0, 1, 1, 1.0])[:, None], boxes], 1)
        img_metas = [{"img_key": f"{v},{t:04d}", "img_shape": (size, size)} for v, t in zip(videos, timestamps)]
        meta = [{"video_id": videos[int(i)], "timestamp": timestamps[int(i)]} for i in rois[:, 0]]
        with torch.no_grad():
            their_logits = theirs(inputs, rois, img_metas)
            our_logits = ours(inputs, rois, meta=meta)
            their_scores = theirs.roi_head.bbox_head.predict_by_feat(
                rois=(rois,), cls_scores=(their_logits,), batch_img_metas=[img_metas[0]])[0].scores
        result |= {
            "input": list(inputs.shape), "rois": rois.shape[0], "converted_tensors": len(state),
            "logits_max_abs_diff": (their_logits - our_logits).abs().max().item(),
            "scores_max_abs_diff": (their_scores - ours.scores(our_logits)).abs().max().item(),
            "logit_scale": their_logits.abs().max().item(),
        }
        result |= loss_differences(theirs.roi_head.bbox_head, ours, their_logits, rois, args.seed)
    return result


def convert_by_cli(checkpoint: Path, example: str, ours: nn.Module, tmp: Path) -> bool:
    """``actioncore convert mmaction2`` with the example (a fresh process, plugins discovered as
    installed, no peers on the path) gives the same tensors as the conversion above."""
    from actioncore.engine.checkpoint import load_checkpoint, model_weights

    out = tmp / "converted.pth"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "actioncore", "convert", "mmaction2", str(checkpoint), str(out),
                    "--config", str(example_path(example)), "--json"],
                   check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    converted = model_weights(load_checkpoint(out), out)
    own = ours.state_dict()
    return converted.keys() == own.keys() and all(torch.equal(converted[k], own[k]) for k in own)


def loss_differences(their_head, ours, logits: torch.Tensor, rois: torch.Tensor, seed: int) -> dict:
    """MMAction2's ``loss_and_target`` against ``model.loss``: 4 positive RoIs (random multi-hot
    labels) and 2 negatives, with and without the focal terms."""
    from mmdet.models.task_modules.samplers import SamplingResult
    from mmengine.config import ConfigDict

    g = torch.Generator().manual_seed(seed + 2)
    labels = (torch.rand(4, logits.shape[1], generator=g) < 0.1).float()
    labels[:, 0] = 0
    labels[torch.arange(4), 1 + torch.arange(4)] = 1
    targets = torch.cat([labels, torch.zeros(2, logits.shape[1])])
    sampling = SamplingResult(rois[:4, 1:], rois[4:, 1:], labels)
    out = {}
    for alpha, gamma in ((1.0, 0.0), (3.0, 1.0)):
        their_head.focal_alpha, their_head.focal_gamma = alpha, gamma
        ours.head.focal_alpha, ours.head.focal_gamma = alpha, gamma
        theirs = their_head.loss_and_target(logits, rois, [sampling], ConfigDict(pos_weight=1.0))["loss_bbox"]
        mine = ours.loss(logits, targets)
        tag = "" if gamma == 0 else "_focal"
        out[f"loss{tag}_abs_diff"] = abs(theirs["loss_action_cls"].item() - mine["loss"].item())
        out[f"recall_prec{tag}_max_abs_diff"] = max(
            abs(float(theirs[k]) - float(mine[k])) for k in ("recall@thr=0.5", "prec@thr=0.5", "recall@top3", "prec@top5"))
    return out


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], OURS)
    parser.add_argument("--size", type=int, default=128, help="clip height and width in pixels")
    args = parser.parse_args()

    install_stand_ins()
    from mmaction.utils import register_all_modules

    register_all_modules()

    def quietly_checked(name: str) -> dict:
        with contextlib.redirect_stdout(sys.stderr):  # MMAction2's LFB prints as it loads
            return check(name, args)

    return run_parity(OURS, args, quietly_checked,
                      lambda r: r["mmaction2_parameters"] == r["actioncore_parameters"]
                      and max(v for k, v in r.items() if "diff" in k) < args.atol
                      and r.get("cli_convert_equal", True))

if __name__ == "__main__":
    sys.exit(main())
