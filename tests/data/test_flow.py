"""Optical flow as a data source: flow folders, their clips, RAFT extraction and score fusion."""
from __future__ import annotations

import dataclasses
import json
import re
import types

import numpy as np
import pytest
import torch
from PIL import Image

from actioncore.builtin.decode import Decode
from actioncore.builtin.decoders import FrameFolderDecoder
from actioncore.builtin.samplers import SampleFrames
from actioncore.builtin.transforms import Flip, FormatShape
from actioncore.cli import main
from actioncore.data.dataset import ClipDataset, ClipRecord
from actioncore.data.pipeline import Pipeline
from actioncore.data.prep.flow import quantize_flow
from actioncore.errors import DataError

from .conftest import VIDEO_CASES, encode_video

TMPL = "flow_{}_{:05d}.png"  # PNG: the values survive exactly


def write_flow(folder, count, *, skip=()):
    """Pair k (1-based): x is 10 * k, y is 10 * k + 5, so every channel says where it came from."""
    folder.mkdir(parents=True)
    for k in range(1, count + 1):
        for direction, value in (("x", 10 * k), ("y", 10 * k + 5)):
            if (direction, k) not in skip:
                Image.fromarray(np.full((6, 8), value, np.uint8)).save(folder / TMPL.format(direction, k))
    return folder


def dataset(records, steps):
    annotations = types.SimpleNamespace(records=records, pipeline=Pipeline(steps))
    return ClipDataset(annotations, decoder=FrameFolderDecoder(filename_tmpl=TMPL))


def test_clip_of_stacked_flow_pairs_is_time_major_x_then_y(tmp_path):
    folder = write_flow(tmp_path / "v", 12)
    steps = [SampleFrames(clip_len=2, frame_interval=1, num_clips=3, test_mode=True), Decode(),
             FormatShape(input_format="NCHW_Flow")]
    sample = dataset([ClipRecord(str(folder), 0, num_frames=12)], steps)[0]
    assert sample.modality == "Flow"
    assert tuple(sample.frames.shape) == (3, 4, 6, 8)  # num_clips x (2 * clip_len) channels
    starts = sample.frame_indices[:, 0] + 1  # pair numbers of each clip's first frame
    expected = [[10 * k, 10 * k + 5, 10 * k + 10, 10 * k + 15] for k in starts.tolist()]
    assert sample.frames[:, :, 0, 0].tolist() == expected


def test_flip_in_a_flow_dataset_mirrors_x_only(tmp_path):
    folder = write_flow(tmp_path / "v", 4)
    steps = [SampleFrames(clip_len=1, frame_interval=1, num_clips=1, test_mode=True), Decode(),
             Flip(flip_ratio=1.0), FormatShape(input_format="NCHW_Flow")]
    frames = dataset([ClipRecord(str(folder), 0)], steps)[0].frames
    k = int(frames[0, 1, 0, 0] - 5) // 10
    assert frames[0, :, 0, 0].tolist() == [255 - 10 * k, 10 * k + 5]


def test_missing_flow_files_are_named(tmp_path):
    folder = write_flow(tmp_path / "gap", 6, skip={("y", 3)})
    with pytest.raises(DataError, match=r"gap: missing frame file flow_y_00003\.png"):
        FrameFolderDecoder(filename_tmpl=TMPL).open(folder)
    short = write_flow(tmp_path / "short", 4)
    steps = [SampleFrames(clip_len=1, frame_interval=1, num_clips=1, test_mode=True), Decode()]
    with pytest.raises(DataError, match=r"short: the list says 9 frames but flow_x_00005\.png is missing"):
        dataset([ClipRecord(str(short), 0, num_frames=9)], steps)[0]


def test_quantization_is_denseflows():
    flow = torch.tensor([-25.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0])
    assert quantize_flow(flow).tolist() == [0, 0, 64, 128, 191, 255, 255]
    assert quantize_flow(flow, bound=10.0).tolist() == [0, 0, 0, 128, 255, 255, 255]


@pytest.fixture(scope="module")
def raft_file(tmp_path_factory):
    from torchvision.models.optical_flow import raft_small

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("raft") / "raft_small_random.pth"
    torch.save(raft_small(weights=None, progress=False).state_dict(), path)
    return path


def test_raft_extraction_writes_denseflow_folders(tmp_path, raft_file, capsys):
    (tmp_path / "src").mkdir()
    video = encode_video(tmp_path / "src" / "clip.mp4", dataclasses.replace(VIDEO_CASES["h264_gop12"], frames=4))
    out = tmp_path / "flow"
    args = ["data", "flow", str(video), "--out", str(out),
            "--weights", str(raft_file), "--short-side", "20", "--iterations", "2", "--batch-pairs", "2", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["done"]["clip"]["frames"] == 3 and not report["done"]["clip"]["skipped"]
    names = sorted(p.name for p in (out / "clip").iterdir())
    assert names == [".done"] + [f"flow_{d}_{k:05d}.jpg" for d in "xy" for k in (1, 2, 3)]
    with Image.open(out / "clip" / "flow_x_00001.jpg") as image:
        assert image.mode == "L" and image.size == (26, 20)  # 64x48 frames, short side 20
    reader = FrameFolderDecoder(filename_tmpl="flow_{}_{:05d}.jpg").open(out / "clip")
    assert (reader.num_frames, reader.channels) == (3, 2)
    assert main(args) == 0 and json.loads(capsys.readouterr().out)["done"]["clip"]["skipped"]
    assert main([*args[:5], "--weights", str(video), "--json"]) == 2
    assert "not a readable state dict" in capsys.readouterr().err


def write_scores(path, scores, labels, *, classes=None, indices=None):
    indices = range(len(labels)) if indices is None else indices
    rows = [{"index": i, "source": f"v{i}", "label": y, "predictions": [], "scores": list(s)}
            for i, y, s in zip(indices, labels, scores)]
    document = {"split": "test", "samples": rows, **({"classes": classes} if classes else {})}
    path.write_text(json.dumps(document))
    return str(path)


def test_fuse_weights_scores_and_checks_the_files(tmp_path, capsys):
    labels = [0, 1, 2, 2]
    rgb = write_scores(tmp_path / "rgb.json", [[.6, .3, .1], [.5, .4, .1], [.1, .2, .7], [.5, .1, .4]], labels)
    flow = write_scores(tmp_path / "flow.json", [[.4, .5, .1], [.1, .8, .1], [.3, .3, .4], [.1, .1, .8]], labels)
    out = tmp_path / "fused.json"
    assert main(["fuse", rgb, flow, "--weights", "1", "1.5", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # fused rows: [1.2, 1.05, .25], [.65, 1.6, .25], [.55, .65, 1.3], [.65, .25, 1.6] -> 0, 1, 2, 2
    assert report["metrics"] == pytest.approx({"top1": 1.0, "top5": 1.0, "mean_class_accuracy": 1.0})
    assert report["streams"][rgb] == pytest.approx({"top1": 0.5, "top5": 1.0, "mean_class_accuracy": 0.5})
    assert report["streams"][flow]["top1"] == 0.75
    fused = json.loads(out.read_text())
    assert fused["samples"][2]["scores"] == pytest.approx([.55, .65, 1.3])
    assert [p["label"] for p in fused["samples"][0]["predictions"]] == [0, 1, 2]
    assert fused["fused_from"] == [{"file": rgb, "weight": 1.0}, {"file": flow, "weight": 1.5}]
    assert main(["fuse", rgb, flow, "--weights", "0", "1"]) == 0  # the flow stream alone
    assert "fused (0 + 1, 4 samples): top1 0.7500, top5 1.0000" in capsys.readouterr().out

    other = write_scores(tmp_path / "other.json", [[1, 0, 0]] * 4, [0, 1, 2, 1])
    fewer = write_scores(tmp_path / "fewer.json", [[1, 0]] * 4, labels)
    named = write_scores(tmp_path / "named.json", [[1, 0, 0]] * 4, labels, classes=["a", "b", "c"])
    renamed = write_scores(tmp_path / "renamed.json", [[1, 0, 0]] * 4, labels, classes=["a", "B", "c"])
    top5 = tmp_path / "top5.json"
    top5.write_text(json.dumps({"samples": [{"index": 0, "label": 0, "predictions": []}]}))
    for files, message in (([rgb, other], "other.json: does not match .*rgb.json: sample 3 has label 1"),
                           ([rgb, fewer], "fewer.json: does not match .*: 2 classes against 3"),
                           ([named, renamed], "renamed.json: .*class 1 is 'B' against 'b'"),
                           ([rgb, str(top5)], "top5.json: not a predictions file with full class scores")):
        assert main(["fuse", *files]) == 2
        assert re.search(message, capsys.readouterr().err)
    assert main(["fuse", rgb, flow, "--weights", "1"]) == 2
    assert "1 weights for 2 score files" in capsys.readouterr().err


def test_the_tsn_flow_example_feeds_ten_channels_per_segment():
    """``info``/``export`` probe a flow experiment with blank two-channel frames (its decoder reads
    flow folders), so the model sees 3 segments of 5 stacked x/y pairs."""
    from pathlib import Path

    from actioncore.config import load_config
    from actioncore.sdk.data import example_batch

    example = next(Path(__file__).resolve().parents[2].glob(
        "plugins/backbones/tsn/actioncore_tsn/examples/tsn_r50_5x1x3_110e_kinetics400_flow.toml"))
    batch = example_batch(load_config(example), split="val")
    assert tuple(batch["inputs"].shape) == (1, 3, 10, 224, 224)
