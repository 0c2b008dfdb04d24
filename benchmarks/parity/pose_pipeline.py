"""Check the pose pipeline steps (actioncore-pose) against MMAction2 1.2.0's, value for value.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/pose_pipeline.py

For random pose records (2D COCO-17 keypoints with scores, some joints missing, one or two
persons; 3D NTU RGB+D 25 skeletons) it runs MMAction2's deterministic pipelines and ours on the
same record and compares the model inputs:

- ST-GCN 2D test pipeline, every feature stream (``j``, ``b``, ``jm``, ``bm``, ``j``+``b``):
  PreNormalize2D, GenSkeFeat, UniformSampleFrames (10 clips, test mode), PoseDecode, FormatGCNInput;
- ST-GCN 3D: PreNormalize3D, GenSkeFeat (NTU), the same sampling and formatting;
- PoseC3D keypoint and limb test pipelines: UniformSampleFrames, PoseDecode, PoseCompact,
  Resize (-1, 64), CenterCrop 64, GeneratePoseTarget (``double``: the flipped view), FormatShape
  NCTHW_Heatmap; and a train-like one with Resize (56, 56) and Flip (ratio 1, left/right swap);
  our heatmaps with ``dtype = "float32"`` (exact) and the default uint8 (within 1/510).

Prints a JSON summary of the max abs differences; exits 1 if one exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

import actioncore
from actioncore.data.pipeline import Pipeline
from actioncore.data.sample import VideoSample
from actioncore_pose.state import PoseState

LEFT_KP = [1, 3, 5, 7, 9, 11, 13, 15]
RIGHT_KP = [2, 4, 6, 8, 10, 12, 14, 16]


def random_2d(rng: np.random.Generator, persons: int, frames: int) -> dict:
    h, w = 480, 640
    base = rng.uniform([150, 100], [490, 380], size=(persons, 1, 1, 2))
    kp = (base + rng.normal(0, 40, size=(persons, frames, 17, 2))).astype(np.float32)
    score = rng.uniform(0.2, 1.0, size=(persons, frames, 17)).astype(np.float32)
    missing = rng.random((persons, frames, 17)) < 0.05
    kp[missing], score[missing] = 0, 0
    if persons > 1:
        kp[1, : frames // 3], score[1, : frames // 3] = 0, 0
    return {"keypoint": kp, "keypoint_score": score, "img_shape": (h, w), "original_shape": (h, w),
            "total_frames": frames, "label": 0, "start_index": 0, "modality": "Pose"}


def random_3d(rng: np.random.Generator, persons: int, frames: int) -> dict:
    kp = (rng.normal(0, 0.3, size=(persons, frames, 25, 3)) + [0, 0, 3]).astype(np.float32)
    if persons > 1:
        kp[0, : frames // 2] = 0  # the second person is present longer: becomes the main one
    return {"keypoint": kp, "img_shape": (1080, 1920), "total_frames": frames, "label": 0, "start_index": 0,
            "modality": "Pose"}


def run_mmaction(steps: list[dict], results: dict) -> dict:
    np.Inf = np.inf  # MMAction2's PoseCompact still spells it the NumPy 1 way
    from mmaction.registry import TRANSFORMS
    from mmengine.dataset import Compose
    from mmaction.utils import register_all_modules

    register_all_modules()
    return Compose([TRANSFORMS.build(s) for s in steps])({k: (v.copy() if isinstance(v, np.ndarray) else v)
                                                          for k, v in results.items()})


def run_ours(steps: list[dict], results: dict, layout: str) -> torch.Tensor:
    pipeline = Pipeline([actioncore.build("transform", s["type"], **{k: v for k, v in s.items() if k != "type"})
                         for s in steps])
    kp = results["keypoint"].copy()
    score = results.get("keypoint_score")
    sample = VideoSample(source="random", label=0, index=0, num_frames=kp.shape[1], rng=np.random.default_rng(0))
    sample.meta["pose"] = PoseState(kp, None if score is None else score.copy(), results["img_shape"],
                                    results["img_shape"], layout)
    sample = pipeline(sample)
    out = sample.frames
    return out.float() / 255 if out.dtype == torch.uint8 else out


def gcn_case(name: str, results: dict, feats: list[str], layout: str, mm_norm: dict, our_norm: dict) -> float:
    mm = run_mmaction([mm_norm, dict(type="GenSkeFeat", dataset=layout, feats=feats),
                       dict(type="UniformSampleFrames", clip_len=20, num_clips=10, test_mode=True),
                       dict(type="PoseDecode"), dict(type="FormatGCNInput", num_person=2)], results)["keypoint"]
    ours = run_ours([our_norm, {"type": "gen_ske_feat", "layout": layout, "feats": feats},
                     {"type": "uniform_sample_frames", "clip_len": 20, "num_clips": 10, "test_mode": True},
                     {"type": "pose_decode"}, {"type": "format_gcn_input", "num_person": 2}], results, layout)
    assert tuple(ours.shape) == mm.shape, (name, ours.shape, mm.shape)
    return float(np.abs(ours.numpy() - mm).max())


def heatmap_case(results: dict, *, limb: bool, train: bool, dtype: str) -> float:
    target = dict(sigma=0.6, use_score=True, with_kp=not limb, with_limb=limb)
    if not train:
        target.update(double=True, left_kp=LEFT_KP, right_kp=RIGHT_KP)
    mm_steps = [dict(type="UniformSampleFrames", clip_len=12, num_clips=1 if train else 3, test_mode=True),
                dict(type="PoseDecode"), dict(type="PoseCompact", hw_ratio=1., allow_imgpad=True),
                dict(type="Resize", scale=(-1, 64))]
    ours = [{"type": "uniform_sample_frames", "clip_len": 12, "num_clips": 1 if train else 3, "test_mode": True},
            {"type": "pose_decode"}, {"type": "pose_compact", "hw_ratio": 1.0, "allow_imgpad": True},
            {"type": "pose_resize", "scale": (-1, 64)}]
    if train:
        mm_steps += [dict(type="Resize", scale=(56, 56), keep_ratio=False),
                     dict(type="Flip", flip_ratio=1.0, left_kp=LEFT_KP, right_kp=RIGHT_KP)]
        ours += [{"type": "pose_resize", "scale": (56, 56), "keep_ratio": False},
                 {"type": "pose_flip", "flip_ratio": 1.0, "layout": "coco"}]
    else:
        mm_steps += [dict(type="CenterCrop", crop_size=64)]
        ours += [{"type": "pose_center_crop", "crop_size": 64}]
    mm = run_mmaction(mm_steps + [dict(type="GeneratePoseTarget", **target),
                                  dict(type="FormatShape", input_format="NCTHW_Heatmap")], results)["imgs"]
    ours_target = {"type": "generate_pose_target", "sigma": 0.6, "use_score": True, "with_kp": not limb,
                   "with_limb": limb, "layout": "coco", "double": not train, "dtype": dtype}
    got = run_ours(ours + [ours_target, {"type": "format_heatmap"}], results, "coco")
    assert tuple(got.shape) == mm.shape, (got.shape, mm.shape)
    return float(np.abs(got.numpy() - mm).max())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--atol", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    report: dict[str, float] = {}
    limits: dict[str, float] = {}
    for persons, frames in ((1, 50), (2, 37), (3, 15)):
        record = random_2d(rng, persons, frames)
        for feats in (["j"], ["b"], ["jm"], ["bm"], ["j", "b"]):
            name = f"gcn2d_{'+'.join(feats)}_M{persons}_T{frames}"
            report[name] = gcn_case(name, record, feats, "coco", dict(type="PreNormalize2D"),
                                    {"type": "pre_normalize_2d"})
        for limb in (False, True):
            for train in (False, True):
                for dtype in ("float32", "uint8"):
                    key = f"posec3d_{'limb' if limb else 'kp'}_{'train' if train else 'test'}_{dtype}_M{persons}"
                    report[key] = heatmap_case(record, limb=limb, train=train, dtype=dtype)
                    limits[key] = 1 / 510 + 1e-6 if dtype == "uint8" else args.atol
    for persons, frames in ((1, 40), (2, 33)):
        record = random_3d(rng, persons, frames)
        for feats in (["j"], ["b"], ["jm", "bm"]):
            name = f"gcn3d_{'+'.join(feats)}_M{persons}_T{frames}"
            report[name] = gcn_case(name, record, feats, "nturgb+d", dict(type="PreNormalize3D"),
                                    {"type": "pre_normalize_3d"})
    failed = {k: v for k, v in report.items() if v > limits.get(k, args.atol)}
    print(json.dumps({"max_abs_diff": report, "failed": failed}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
