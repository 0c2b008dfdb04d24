"""Check I3D with non-local blocks against MMAction2 1.2.0: parameter counts, checkpoint
conversion and outputs, for the three pairwise functions of its I3D-NL configs, and SlowFast with
I3D-NL's non-local blocks in its slow pathway (no MMAction2 config has it; its
``ResNet3dPathway`` takes ``non_local`` as ResNet3d does).

A measuring stick run by hand, never by CI (MMAction2 is not a dependency). With the peers
installed by ``shared/peers/setup.sh``:

    PYTHONPATH=/tmp/peers python benchmarks/parity/i3d_nonlocal.py

Each MMAction2 model (``i3d_imagenet-pretrained-r50-nl-{mode}_8xb8-32x2x1-100e_kinetics400-rgb``)
gets random weights, is saved as an MMAction2 checkpoint, converted into ours (built from
``examples/recognition/i3d_nl_{mode}_r50_32x2x1_100e_kinetics400_rgb.toml``) and both run one
8 x 64 x 64 clip in eval mode. The non-local output BatchNorms are scaled down first: with
random weights and no trained statistics, five dot-product blocks (cubic in their input) overflow
float32 in both toolboxes alike. Prints a JSON summary; exits 1 if a count differs or the
logits differ by more than 1e-4.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import (build_mmaction2, build_ours, convert_into, count, parity_arguments,  # noqa: E402
                            randomise, run_parity)

MODES = ("dot_product", "embedded_gaussian", "gaussian", "slowfast_embedded_gaussian")
I3D_NL = ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0))


def slowfast_nl(config) -> None:
    config.backbone.slow_pathway.update(non_local=I3D_NL, non_local_cfg=dict(
        sub_sample=True, use_scale=False, norm_cfg=dict(type="BN3d", requires_grad=True),
        mode="embedded_gaussian"))


def build_pair(mode: str):
    if mode == "slowfast_embedded_gaussian":
        return (build_mmaction2("recognition/slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py",
                                slowfast_nl),
                build_ours("recognition/slowfast_r50_4x16x1_256e_kinetics400_rgb.toml", [
                    f"model.backbone.slow_pathway.non_local={[list(s) for s in I3D_NL]}",
                    "model.backbone.slow_pathway.non_local_cfg.sub_sample=true",
                    "model.backbone.slow_pathway.non_local_cfg.use_scale=false",
                    'model.backbone.slow_pathway.non_local_cfg.norm_cfg={type = "BN3d"}']))
    return (build_mmaction2("recognition/i3d/i3d_imagenet-pretrained-r50-nl-"
                            f"{mode.replace('_', '-')}_8xb8-32x2x1-100e_kinetics400-rgb.py"),
            build_ours(f"recognition/i3d_nl_{mode}_r50_32x2x1_100e_kinetics400_rgb.toml"))


def check(mode: str) -> dict:
    theirs, ours = build_pair(mode)
    randomise(theirs, 0)
    with torch.no_grad():
        for name, module in theirs.named_modules():
            if name.endswith("non_local_block.conv_out"):
                module.bn.weight.mul_(0.05)
    converted = convert_into(ours, theirs)
    theirs.eval()
    ours.eval()
    frames = 32 if mode.startswith("slowfast") else 8
    clip = torch.randn(1, 3, frames, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        feat_theirs, feat_ours = theirs.backbone(clip), ours.backbone(clip)
        logits_theirs, logits_ours = theirs.cls_head(feat_theirs), ours.head(feat_ours)
    if isinstance(feat_ours, torch.Tensor):  # SlowFast gives one map per pathway
        feat_theirs, feat_ours = (feat_theirs,), (feat_ours,)
    return {"mmaction2_parameters": count(theirs), "actioncore_parameters": count(ours),
            "converted_tensors": converted,
            "feature_max_abs_diff": max(float((a - b).abs().max()) for a, b in zip(feat_theirs, feat_ours)),
            "logits_max_abs_diff": float((logits_theirs - logits_ours).abs().max())}


if __name__ == "__main__":
    torch.set_num_threads(1)
    raise SystemExit(run_parity(MODES, parity_arguments(__doc__.splitlines()[0], MODES).parse_args(), check))
