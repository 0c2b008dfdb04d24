"""``actioncore demo`` of a skeleton experiment: a pose record drawn frame by frame with its labels
(random-weight tiny ST-GCN), cut at --max-seconds; 3D records projected; bad records named."""
from __future__ import annotations

import json

import av
import numpy as np
import pytest
import torch
from PIL import Image

import actioncore
from actioncore.cli import main
from actioncore_pose import NTU_RGBD, PoseRecord, write_store
from actioncore_skeleton.demo import DRAW_SIZE, render_record

pytestmark = pytest.mark.actioncore_plugins("actioncore_skeleton.hooks", "actioncore_stgcn.hooks",
                                            "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
                                            "actioncore_pose.hooks")

EXPERIMENT = """
[task]
type = "skeleton"
[model]
type = "recognizer_gcn"
[model.backbone]
type = "stgcn"
graph_cfg = {{ layout = "coco", mode = "stgcn_spatial" }}
base_channels = 8
num_stages = 2
inflate_stages = [2]
down_stages = [2]
[model.head]
type = "gcn"
num_classes = 3
in_channels = 16
[data]
batch_size = 1
workers = 0
[data.test]
type = "pose_records"
ann_file = "{store}/index.json"
pipeline = [
    {{ type = "pre_normalize_2d" }},
    {{ type = "gen_ske_feat", layout = "coco", feats = ["j"] }},
    {{ type = "uniform_sample_frames", clip_len = 4, test_mode = true }},
    {{ type = "pose_decode" }},
    {{ type = "format_gcn_input", num_person = 2 }},
]
[runtime]
device = "cpu"
"""


def walking_pair(frames: int = 6) -> np.ndarray:
    """Two COCO-17 people in a 64 x 64 frame, below the label panel, moving right 1 px a frame."""
    rng = np.random.default_rng(0)
    base = np.stack([rng.uniform([4, 36], [28, 60], size=(17, 2)), rng.uniform([36, 36], [60, 60], size=(17, 2))])
    return np.stack([base + [t, 0] for t in range(frames)], axis=1).astype(np.float32)  # [M, T, V, 2]


@pytest.fixture
def pose_demo(actioncore_host, tmp_path):
    keypoint = walking_pair()
    score = np.ones(keypoint.shape[:3], np.float32)
    score[1, :, 5] = 0  # a joint the estimator missed: not drawn
    empty = np.zeros_like(keypoint)
    write_store(tmp_path / "poses", [PoseRecord("walk", 0, (64, 64), keypoint, score),
                                     PoseRecord("nobody", 1, (64, 64), empty, np.zeros_like(score))], layout="coco")
    experiment = tmp_path / "exp.toml"
    experiment.write_text(EXPERIMENT.format(store=tmp_path / "poses"))
    torch.manual_seed(0)
    checkpoint = tmp_path / "weights.pth"
    torch.save(actioncore.build_model(actioncore.load_config(experiment)).state_dict(), checkpoint)
    return experiment, checkpoint, tmp_path / "poses" / "index.json", keypoint


def test_skeleton_demo_draws_every_frame_of_the_record(pose_demo, tmp_path, capsys):
    experiment, checkpoint, index, keypoint = pose_demo
    out = tmp_path / "walk.gif"
    assert main(["demo", str(experiment), "--checkpoint", str(checkpoint), f"{index}#walk", "--out", str(out),
                 "--topk", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 6 and report["persons"] == 2 and len(report["predictions"]) == 2
    scale = DRAW_SIZE / 64
    with Image.open(out) as gif:
        assert (gif.n_frames, gif.size) == (6, (DRAW_SIZE, DRAW_SIZE))
        for t in (0, 5):
            gif.seek(t)
            frame = np.asarray(gif.convert("RGB")).astype(int)
            for m, v in ((0, 0), (0, 16), (1, 3)):
                x, y = np.round(keypoint[m, t, v] * scale).astype(int)
                assert frame[y, x].min() > 200, (t, m, v)  # a white joint dot on the black canvas
            x, y = np.round(keypoint[1, t, 5] * scale).astype(int)
            assert frame[y, x].min() < 200  # the joint the estimator missed has no dot
            assert frame[DRAW_SIZE - 4:, :4].sum() == 0  # the background stays blank
            assert frame[:8, :40].mean() > 5  # the label panel's text in the corner


def test_skeleton_demo_cut_at_max_seconds_and_bad_records(pose_demo, tmp_path, capsys):
    experiment, checkpoint, index, _ = pose_demo
    out = tmp_path / "cut.mp4"
    assert main(["demo", str(experiment), "--checkpoint", str(checkpoint), f"{index}#walk", "--out", str(out),
                 "--max-seconds", "0.1", "--json"]) == 0  # 30 fps: 3 frames
    assert json.loads(capsys.readouterr().out)["frames"] == 3
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 3

    assert main(["demo", str(experiment), "--checkpoint", str(checkpoint), f"{index}#nobody", "--out",
                 str(tmp_path / "nobody.mp4")]) != 0
    err = capsys.readouterr().err
    assert f"{index}#nobody" in err and "no keypoints to draw" in err
    assert not (tmp_path / "nobody.mp4").exists()
    assert main(["demo", str(experiment), "--checkpoint", str(checkpoint), str(index.parent), "--out",
                 str(tmp_path / "two.mp4")]) != 0
    assert "holds 2 records" in capsys.readouterr().err


def test_3d_records_are_projected_to_x_y_with_the_ntu_edges():
    rng = np.random.default_rng(1)
    keypoint = rng.uniform(-0.8, 0.8, size=(1, 2, 25, 3)).astype(np.float32)  # metres
    frames = list(render_record(keypoint, None, img_shape=(1080, 1920), layout=NTU_RGBD, lines=["a 0.50"],
                                where="x#y"))
    assert len(frames) == 2 and frames[0].shape == (DRAW_SIZE, DRAW_SIZE, 3)
    everywhere = keypoint[0, :, :, :2].reshape(-1, 2) * [1, -1]
    lo, hi = everywhere.min(axis=0), everywhere.max(axis=0)
    # the record's joints fill 80 % of the canvas (one fit for all frames: the camera stays), centred, y up
    scale = 0.8 * DRAW_SIZE / (hi - lo).max()
    pixels = (keypoint[0, 0, :, :2] * [1, -1] - lo) * scale + (DRAW_SIZE - scale * (hi - lo)) / 2
    top = int(np.argmax(keypoint[0, 0, :, 1]))
    assert pixels[top, 1] == pytest.approx(pixels[:, 1].min())
    for x, y in np.round(pixels).astype(int)[[top, 0, 24]]:
        assert frames[0][y, x].min() > 200
