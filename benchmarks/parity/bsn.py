"""Check BSN (TEM, PGM, PEM) against MMAction2 1.2.0: parameter counts, checkpoint conversion,
outputs, TEM loss, PGM proposals and BSP features, PEM post-processed proposals.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency). With the peers
installed by ``shared/peers/setup.sh``:

    PYTHONPATH=/tmp/peers python benchmarks/parity/bsn.py

It builds MMAction2's TEM and PEM from its model configs (``_base_/models/bsn_tem.py``,
``_base_/models/bsn_pem.py``) with random weights, saves each as an MMAction2 checkpoint,
converts it with ``actioncore.weights.files`` for our models built from the example experiments, and
compares in eval mode:

- TEM probabilities on random ``[2, 400, 100]`` features, and the TEM loss (MMAction2's label
  generation and binary logistic regression) for hand-made ground truth;
- PEM confidences on random BSP features, and the final proposals of one video (confidence x
  boundary scores, soft-NMS, seconds) from MMAction2's ``PEM.predict`` and our ``proposals``;
- PGM: MMAction2's ``generate_candidate_proposals`` and ``generate_bsp_feature`` against ours on
  the TEM result files of three synthetic videos (smooth random curves).

Prints a JSON summary; exits 1 if a count differs or a difference exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

import actioncore
from actioncore.weights.files import load_into, mmaction2_weights
from actioncore.weights.mmaction2 import convert_state
from actioncore_bsn import ProposalAnnotation
from actioncore_bsn_pgm import BSPSampling, ProposalTable, read_tem_result, video_proposals
from actioncore_bsn_pgm.files import TEM_COLUMNS
from actioncore_localization.annotations import VideoAnnotation

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "plugins" / "backbones" / "bsn" / "actioncore_bsn" / "examples"
TEM_EXAMPLE = EXAMPLES / "bsn_tem_400x100_1x16_20e_activitynet_feature.toml"
PEM_EXAMPLE = EXAMPLES / "bsn_pem_400x100_1x16_20e_activitynet_feature.toml"
PGM_EXAMPLE = ROOT / "plugins" / "tasks" / "bsn_pgm" / "actioncore_bsn_pgm" / "examples" / "bsn_pgm_400x100_activitynet_feature.toml"


def build_mmaction2(name: str) -> torch.nn.Module:
    import mmaction
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine import Config

    register_all_modules()
    config = Config.fromfile(str(Path(mmaction.__file__).parent / ".mim" / "configs" / "_base_" / "models" / name))
    return MODELS.build(config.model)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def convert(theirs: torch.nn.Module, example: Path, tmp: Path) -> torch.nn.Module:
    """Save MMAction2's weights as its checkpoint, convert for our model of ``example``, load strictly."""
    path = tmp / f"{example.stem}_mmaction2.pth"
    torch.save({"state_dict": theirs.state_dict(), "meta": {"source": "mmaction2 1.2.0"}}, path)
    ours = actioncore.build_model(actioncore.load_config(example))
    load_into(ours, convert_state(ours, mmaction2_weights(path)), path)
    return ours.eval()


def video(name: str, segments: list[list[float]], seconds: float = 120.0, frames: int = 3600) -> VideoAnnotation:
    feature_frame = frames // 16 * 16
    return VideoAnnotation(video_name=name, duration_second=seconds, duration_frame=frames,
                           feature_frame=feature_frame, fps=frames / seconds, segments=np.asarray(segments),
                           labels=tuple("action" for _ in segments))


def tem_parity(theirs, ours, args) -> dict[str, float]:
    from mmaction.structures import ActionDataSample
    from mmengine.structures import InstanceData

    inputs = torch.randn(2, 400, 100)
    with torch.no_grad():
        their_out = theirs(inputs, None, mode="tensor")
        our_out = ours(inputs)
    labels = [video("v_a", [[10.0, 40.0], [70.5, 99.0]]), video("v_b", [[3.2, 118.0]])]
    samples = []
    for label in labels:
        sample = ActionDataSample()
        sample.gt_instances = InstanceData(gt_bbox=torch.from_numpy(label.gt_bbox()))
        sample.set_metainfo({"video_name": label.video_name})
        samples.append(sample)
    # at the default conv3_ratio every probability is near 0.5: compare the losses at ratio 1 too,
    # where the probabilities spread over (0, 1)
    loss_diff, our_losses = 0.0, {}
    for ratio in (0.01, 1.0):
        theirs.conv3_ratio = ratio
        ours.conv_ratios = ours.conv_ratios[:2] + (ratio,)
        with torch.no_grad():
            their_losses = theirs(inputs, samples, mode="loss")
            our_losses = ours.loss(ours(inputs), labels)
        loss_diff = max([loss_diff] + [abs(float(their_losses[k]) - float(our_losses[k])) for k in their_losses])
    theirs.conv3_ratio, ours.conv_ratios = 0.01, ours.conv_ratios[:2] + (0.01,)
    return {"tem_output_max_abs_diff": (their_out - our_out).abs().max().item(),
            "tem_loss_max_abs_diff": loss_diff,
            "tem_loss": {k: float(v) for k, v in our_losses.items()}}


def pem_parity(theirs, ours, rng: np.random.Generator) -> dict[str, float]:
    from mmaction.structures import ActionDataSample
    from mmengine.structures import InstanceData

    features = torch.randn(1, 600, 32)
    with torch.no_grad():
        their_out = theirs([row for row in features[0]], None, mode="tensor").view(-1)
        our_out = ours(features)[0]
    tmin = rng.uniform(0.0, 0.8, 600)
    tmax = np.minimum(tmin + rng.uniform(0.02, 0.6, 600), 1.0)
    starts, ends = rng.uniform(0.05, 1.0, 600), rng.uniform(0.05, 1.0, 600)
    label = video("v_c", [[12.0, 30.0], [50.0, 80.0]])
    sample = ActionDataSample()
    sample.gt_instances = InstanceData(
        bsp_feature=features[0], tmin=torch.from_numpy(tmin), tmax=torch.from_numpy(tmax),
        tmin_score=torch.from_numpy(starts), tmax_score=torch.from_numpy(ends))
    sample.set_metainfo({"video_name": label.video_name, "duration_second": label.duration_second,
                         "duration_frame": label.duration_frame})
    with torch.no_grad():
        their_list = theirs([features[0]], [sample], mode="predict")[0]["proposal_list"]
        zeros = np.zeros(600)
        table = ProposalTable(tmin=tmin, tmax=tmax, tmin_score=starts, tmax_score=ends, score=starts * ends,
                              match_iou=zeros, match_ioa=zeros)
        base = {name: getattr(label, name) for name in ("video_name", "duration_second", "duration_frame",
                                                        "feature_frame", "fps", "segments", "labels")}
        ours_rows = ours.proposals(our_out[None], [ProposalAnnotation(**base, proposals=table)])[0]
    their_rows = np.asarray([[p["segment"][0], p["segment"][1], p["score"]] for p in their_list])
    same_count = their_rows.shape == ours_rows.shape
    return {"pem_output_max_abs_diff": (their_out - our_out).abs().max().item(),
            "pem_proposals": [len(their_rows), len(ours_rows)],
            "pem_proposals_max_abs_diff": float(np.abs(their_rows - ours_rows).max()) if same_count else float("inf")}


def smooth_curve(rng: np.random.Generator, steps: int) -> np.ndarray:
    noise = rng.uniform(0, 1, steps + 8)
    return np.convolve(noise, np.ones(9) / 9, mode="valid")[:steps].astype(np.float32)


def pgm_parity(tmp: Path, rng: np.random.Generator) -> dict[str, float]:
    from mmaction.models.localizers.utils import generate_bsp_feature, generate_candidate_proposals

    task = actioncore.load_config(PGM_EXAMPLE).task.params
    sampling = BSPSampling(**{k: task[k] for k in ("num_sample_start", "num_sample_end", "num_sample_action",
                                                   "num_sample_interp", "bsp_boundary_ratio")})
    steps = 100
    tem_dir, proposal_dir = tmp / "tem", tmp / "proposals"
    tem_dir.mkdir()
    proposal_dir.mkdir()
    labels = [video("v_p0", [[5.0, 30.0], [60.0, 100.0]]), video("v_p1", [[0.0, 119.0]]),
              video("v_p2", [[40.0, 41.5], [80.0, 95.0], [96.0, 110.0]])]
    infos = []
    for label in labels:
        columns = [smooth_curve(rng, steps) for _ in range(3)]
        anchors = np.arange(steps) / steps
        np.savetxt(tem_dir / f"{label.video_name}.csv", np.stack([*columns, anchors, anchors + 1 / steps], axis=1),
                   header=",".join(TEM_COLUMNS), delimiter=",", comments="")
        infos.append({"video_name": label.video_name, "duration_frame": label.duration_frame,
                      "duration_second": label.duration_second, "feature_frame": label.feature_frame,
                      "annotations": [{"segment": list(s), "label": "action"} for s in label.segments]})
    their_props = generate_candidate_proposals(range(len(infos)), infos, str(tem_dir), steps, task["peak_threshold"])
    header = "tmin,tmax,tmin_score,tmax_score,score,match_iou,match_ioa"
    for name, props in their_props.items():
        np.savetxt(proposal_dir / f"{name}.csv", props, header=header, delimiter=",", comments="")
    their_features = generate_bsp_feature(range(len(infos)), infos, str(tem_dir), str(proposal_dir),
                                          top_k=task["top_k"], **{k: getattr(sampling, k) for k in (
                                              "bsp_boundary_ratio", "num_sample_start", "num_sample_end",
                                              "num_sample_action", "num_sample_interp")})
    proposal_diff = feature_diff = 0.0
    counts = []
    for label in labels:
        tem = read_tem_result(tem_dir / f"{label.video_name}.csv")
        table, features = video_proposals(tem.action, tem.start, tem.end, label, peak_threshold=task["peak_threshold"],
                                          top_k=task["top_k"], sampling=sampling)
        theirs = their_props[label.video_name]
        ours = table.as_array()
        counts.append([len(theirs), len(ours)])
        if len(theirs) != len(ours):
            return {"pgm_proposals": counts, "pgm_proposals_max_abs_diff": float("inf")}
        key = lambda rows: np.lexsort((rows[:, 1], rows[:, 0]))  # noqa: E731 (order ties alike)
        proposal_diff = max(proposal_diff, float(np.abs(theirs[key(theirs)] - ours[key(ours)]).max()))
        # features follow each side's proposal order: compare them matched by (tmin, tmax)
        saved = np.loadtxt(proposal_dir / f"{label.video_name}.csv", delimiter=",", skiprows=1, dtype=np.float32)
        their_feat = their_features[label.video_name]
        theirs_by_span = {(round(float(a), 5), round(float(b), 5)): f for a, b, f in zip(saved[:, 0], saved[:, 1], their_feat)}
        for a, b, f in zip(table.tmin, table.tmax, features):
            feature_diff = max(feature_diff, float(np.abs(theirs_by_span[(round(a, 5), round(b, 5))] - f).max()))
    return {"pgm_proposals": counts, "pgm_proposals_max_abs_diff": proposal_diff,
            "bsp_features_max_abs_diff": feature_diff}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        tmp = Path(tmp)
        their_tem, their_pem = build_mmaction2("bsn_tem.py").eval(), build_mmaction2("bsn_pem.py").eval()
        our_tem, our_pem = convert(their_tem, TEM_EXAMPLE, tmp), convert(their_pem, PEM_EXAMPLE, tmp)
        report = {
            "parameters": {"tem": {"mmaction2": count(their_tem), "actioncore": count(our_tem)},
                           "pem": {"mmaction2": count(their_pem), "actioncore": count(our_pem)}},
            **tem_parity(their_tem, our_tem, args),
            **pem_parity(their_pem, our_pem, rng),
            **pgm_parity(tmp, rng),
            "torch": torch.__version__,
        }
    print(json.dumps(report, indent=2))
    counts_equal = all(p["mmaction2"] == p["actioncore"] for p in report["parameters"].values())
    diffs = [v for k, v in report.items() if k.endswith("max_abs_diff")]
    return 0 if counts_equal and all(d <= args.atol for d in diffs) else 1


if __name__ == "__main__":
    sys.exit(main())
