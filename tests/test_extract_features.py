"""``actioncore extract``: per-clip recognizer features of untrimmed videos, rescaled to 100 steps as
MMAction2's ActivityNet post-processing, read back by the localization plugin's dataset."""
from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch

import actioncore
from actioncore.cli import main
from actioncore.data.dataset import ClipDataset
from actioncore.data.prep.rescale import pool_feature
from actioncore.io import read_frames
from actioncore_localization import ActivityNetDataset, LocalizationFeatureDecoder

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "examples/quickstart.toml"
TINY = ["model.backbone.num_stages=1", "model.backbone.strides=[1]", "model.backbone.dilations=[1]",
        "model.backbone.out_indices=[0]", "model.head.in_channels=64"]
TEST_PIPELINE = ('data.test.pipeline=[{type = "sample_frames", clip_len = 1, num_clips = 4, test_mode = true}, '
                 '{type = "decode"}, {type = "resize", scale = [32, 32], keep_ratio = false}, '
                 '{type = "normalize", mean = [123.675, 116.28, 103.53], std = [58.395, 57.12, 57.375]}, '
                 '{type = "format_shape", input_format = "NCHW"}]')
MEAN, STD = torch.tensor([123.675, 116.28, 103.53]), torch.tensor([58.395, 57.12, 57.375])


def write_video(path: Path, frames: int) -> Path:
    rng = np.random.default_rng(frames)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for k in range(frames):
            picture = np.clip(rng.normal(128, 60, (4, 4, 3)), 0, 255).astype(np.uint8).repeat(8, 0).repeat(8, 1)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("extract")
    videos = [write_video(root / "v_first.mp4", 40), write_video(root / "v_second.mp4", 52)]
    (root / "v_broken.mp4").write_bytes(b"not a video")
    torch.manual_seed(0)
    model = actioncore.build_model(actioncore.load_config(EXPERIMENT, TINY)).eval()
    checkpoint = root / "tsn.pth"
    torch.save(model.state_dict(), checkpoint)
    return root, videos, checkpoint, model


def test_pool_feature_is_mmaction2s_anchor_mean():
    # linear rows: each step is the mean of 3 points from its anchor's start, eps = 1e-4 inside the ends
    anchor = (2 - 2e-4) / 2
    expected = [[1e-4 + anchor / 3], [1e-4 + anchor + anchor / 3]]
    assert np.allclose(pool_feature(np.arange(3.0)[:, None], num_steps=2), expected, atol=1e-12)
    assert pool_feature(np.ones((1, 4)), num_steps=100).shape == (100, 4)  # one row is repeated
    last = 1e-4 + 2 / 3 * (149 - 2e-4) / 100  # max: the anchor's last sample point, rows 2t and 2t + 1
    assert np.allclose(pool_feature(np.arange(300.0).reshape(150, 2), pool_type="max")[0], [2 * last, 2 * last + 1])


def test_features_of_two_videos_load_in_the_localization_dataset(setup, tmp_path, capsys):
    root, videos, checkpoint, model = setup
    out = tmp_path / "features"
    status = main(["extract", str(EXPERIMENT), "--checkpoint", str(checkpoint), *map(str, videos),
                   str(root / "v_broken.mp4"), "--out", str(out), "--stride", "8", "--batch-clips", "4",
                   *[a for o in [*TINY, TEST_PIPELINE] for a in ("--set", o)], "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1 and list(report["failed"]) == ["v_broken"]  # reported by name, the others written
    assert report["done"]["v_first"] == {"clips": 5, "dim": 64, "frames": 40, "feature_frame": 40}
    assert report["done"]["v_second"]["clips"] == 6  # centres 4, 12, ..., 44 (below 52)

    # clip i is frame 4 + 8 i through the backbone, averaged over space
    raw = np.load(out / "raw" / "v_first.npy")
    frames = read_frames(videos[0], [4, 12, 20, 28, 36]).float()
    inputs = ((frames - MEAN) / STD).permute(0, 3, 1, 2)
    with torch.no_grad():
        expected = model.backbone(inputs).mean(dim=(2, 3)).numpy()
    assert np.allclose(raw, expected, atol=1e-5)

    csv = (out / "v_first.csv").read_text().splitlines()
    assert csv[0] == ",".join(f"f{i}" for i in range(64)) and len(csv) == 101
    assert np.allclose(np.loadtxt(csv[1:], delimiter=","), pool_feature(raw), atol=5e-5)
    assert (out / "video_info.csv").read_text().splitlines()[1:] == [
        "v_first,40,1.600,25.0,25.0,,40", "v_second,52,2.080,25.0,25.0,,48"]  # featureFrame: 6 clips x 8 frames

    annotation = {name: {"duration_second": frames / 25, "duration_frame": frames, "feature_frame": frames,
                         "fps": 25.0, "annotations": [{"segment": [0.2, 1.0], "label": "x"}]}
                  for name, frames in (("v_first", 40), ("v_second", 52))}
    (tmp_path / "anno.json").write_text(json.dumps(annotation))
    dataset = actioncore.build("dataset", "activitynet", ann_file=str(tmp_path / "anno.json"), root=str(out),
                               pipeline=[{"type": "load_localization_feature", "temporal_dim": 100, "feat_dim": 64}])
    assert isinstance(dataset, ActivityNetDataset)
    samples = ClipDataset(dataset, decoder=LocalizationFeatureDecoder())
    first = samples.load(0).frames
    assert first.shape == (64, 100)
    assert np.allclose(first.numpy().T, pool_feature(raw), atol=5e-5)
    assert samples.load(1).frames.shape == (64, 100)


def test_a_task_without_features_is_refused(tmp_path, capsys):
    bmn = ROOT / "plugins/backbones/bmn/actioncore_bmn/examples/bmn_tiny_synth.toml"
    status = main(["extract", str(bmn), "--checkpoint", str(tmp_path / "c.pth"), str(tmp_path), "--out",
                   str(tmp_path / "o")])
    assert status == 2
    err = capsys.readouterr().err
    assert "task 'localization' (from actioncore-localization) does not say what its features are" in err
