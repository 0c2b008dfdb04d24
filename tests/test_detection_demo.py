"""``actioncore demo`` and ``infer`` of a detection experiment draw with the kernel's ``draw_boxes``:
box borders and action labels on every frame of each keyframe's clip (random-weight tiny detector
on the tiny embedded detection set), the written video decodes with the input's frame count."""
from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch

import actioncore
from actioncore.cli import main
from actioncore.sdk.data import synthesize
from actioncore.vis.draw import PALETTE
from actioncore_detection.demo import draw_detections, keyframe_of

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "plugins/backbones/ava_detector/actioncore_ava_detector/examples/tiny_ava_embedded.toml"

pytestmark = pytest.mark.actioncore_plugins("actioncore_detection.hooks", "actioncore_ava_detector.hooks",
                                            "actioncore_toy3d.hooks")


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_draw_detections_is_draw_boxes_on_the_scaled_frame():
    frame = np.full((32, 48, 3), 100, np.uint8)
    detections = [{"box": [0.25, 0.5, 0.75, 1.0], "actions": [{"label": 2, "name": "walk", "score": 0.9}]},
                  {"box": [0.0, 0.0, 0.1, 0.1], "actions": []}]  # no action above the threshold: not drawn
    out = draw_detections(frame, detections, size=64)
    assert out.shape == (64, 96, 3)  # short side 64, aspect kept
    red = np.array([int(PALETTE[0][i:i + 2], 16) for i in (1, 3, 5)])
    assert (out[40, 24] == red).all() and (out[50, 72] == red).all()  # left and right borders (x 24, 72)
    assert (out[50, 40] == 100).all()  # inside the box the frame is untouched
    assert (out[0:6, 0:6] == 100).all()  # the second box has no action: no border
    assert np.abs(out[14:32, 24:60].astype(int) - 100).sum() > 0  # the label panel above the box
    assert keyframe_of(5, [(1, 0, 3), (9, 5, 11)]) == 1 and keyframe_of(4, [(1, 0, 3), (9, 5, 11)]) is None
    assert keyframe_of(6, [(1, 0, 7), (9, 5, 11)]) == 1  # overlapping clips: the nearest keyframe


@pytest.fixture(scope="module")
def tiny_detector(tmp_path_factory):
    base = tmp_path_factory.mktemp("det")
    synthesize("detection", base / "data" / "synth_det", seed=0, size="tiny")
    overrides = ["task.infer_score_thr=0.0", f'runtime.work_dir="{base / "run"}"']
    experiment = actioncore.load_config(EXAMPLE, overrides=overrides)
    torch.manual_seed(0)
    checkpoint = base / "weights.pth"
    torch.save(actioncore.build_model(experiment).state_dict(), checkpoint)
    return base, overrides, checkpoint


def test_detection_demo_draws_boxes_and_labels_on_the_covered_frames(actioncore_host, tiny_detector, monkeypatch,
                                                                     capsys):
    base, overrides, checkpoint = tiny_detector
    monkeypatch.chdir(base)
    video, out = base / "data/synth_det/videos/val_000.mp4", base / "demo.mp4"
    args = ["demo", str(EXAMPLE), "--checkpoint", str(checkpoint), str(video), "--out", str(out), "--topk", "1",
            "--json"] + [f"--set={o}" for o in overrides]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    source, written = decode(video), decode(out)
    assert len(written) == len(source) == report["frames"] and written.shape[1:] == (256, 256, 3)
    # fps 8, timestamp_start 900, start_index 1: keyframe t is frame c = 8 (t - 900) + 1, its clip (4 frames,
    # 2 apart, 2 of them before the centre) frames c - 4 .. c + 2
    assert [k["timestamp"] for k in report["keyframes"]] == list(range(900, 900 + (len(source) - 2) // 8 + 1))
    keyframe = report["keyframes"][1]
    assert keyframe["detections"] and all(len(d["actions"]) == 1 for d in keyframe["detections"])
    scaled = source.repeat(4, axis=1).repeat(4, axis=2).astype(int)
    x1, y1, x2, y2 = (np.asarray(keyframe["detections"][0]["box"]) * 256).astype(int)
    def change(f: int, x: int) -> float:
        return float(np.abs(written[f, y1 + 4:y2 - 4, x] - scaled[f, y1 + 4:y2 - 4, x]).mean())

    for f in (5, 9, 11):  # frames of keyframe 901's clip (5 .. 11)
        assert change(f, x1) > 3 * change(f, (x1 + x2) // 2) + 10, f
    assert change(12, x1) < 8  # frame 12 is in no keyframe's clip (901's ends at 11, 902's starts at 13)
    # the box's label: a dark panel with text above it, inside the frame
    top = max(0, y1 - 20)
    assert np.abs(written[9, top:y1 - 2, x1 + 2:x1 + 20] - scaled[9, top:y1 - 2, x1 + 2:x1 + 20]).mean() > 20
    assert report["predictions"] and report["predictions"][0]["timestamp"] in range(900, 910)


def test_detection_infer_draws_the_same_way(actioncore_host, tiny_detector, monkeypatch):
    base, overrides, checkpoint = tiny_detector
    monkeypatch.chdir(base)
    experiment = actioncore.load_config(EXAMPLE, overrides=overrides)
    video = base / "data/synth_det/videos/val_000.mp4"
    result = actioncore.infer(experiment, checkpoint, [str(video)])[0]
    document = json.loads(Path(result["json"]).read_text())
    written, source = decode(Path(result["video"])), decode(video)
    assert len(written) == len(source) and written.shape[1:] == (256, 256, 3)
    box = np.asarray(document["keyframes"][1]["detections"][0]["box"]) * 256
    x1, y1, _, y2 = box.astype(int)
    scaled = source[9].repeat(4, axis=0).repeat(4, axis=1).astype(int)
    assert np.abs(written[9, y1 + 4:y2 - 4, x1] - scaled[y1 + 4:y2 - 4, x1]).mean() > 20
