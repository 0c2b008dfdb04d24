"""``actioncore demo`` and ``actioncore explain`` on tiny models: the videos they write decode back
with the right frames and sizes and carry the drawing; the timeline's windows and seconds; a
stream read with a frame limit; Grad-CAM against a hand computation; bad inputs name the file."""
from __future__ import annotations

import json
import wave
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import actioncore
from actioncore.cli import main
from actioncore.vis.draw import colormap
from actioncore.vis.explain import grad_cam, spatial_layer
from actioncore.vis.windows import slide

ROOT = Path(__file__).resolve().parents[1]
TSN_ONE_STAGE = ["model.backbone.num_stages=1", "model.backbone.strides=[1]", "model.backbone.dilations=[1]",
                 "model.backbone.out_indices=[0]", "model.head.in_channels=64"]


@pytest.fixture
def tiny3d(experiment_file, tiny_data, tmp_path):
    """The tiny 3D recognizer's experiment on the tiny set (32 px, 8 frames at 8 fps) and random
    weights (a few milliseconds to make: nothing is trained)."""
    folder = tmp_path / "demo"
    experiment = experiment_file(folder, test=True)
    torch.manual_seed(0)
    checkpoint = folder / "weights.pth"
    torch.save(actioncore.build_model(actioncore.load_config(experiment)).state_dict(), checkpoint)
    return experiment, checkpoint, tiny_data / "videos" / "square" / "test_0000.mp4"


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_demo_writes_a_labelled_mp4(tiny3d, tmp_path, capsys):
    experiment, checkpoint, video = tiny3d
    out = tmp_path / "out.mp4"
    assert main(["demo", str(experiment), "--checkpoint", str(checkpoint), str(video), "--out", str(out),
                 "--topk", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    source, written = decode(video), decode(out)
    assert written.shape == source.shape == (8, 32, 32, 3)
    assert report["frames"] == 8 and len(report["predictions"]) == 2
    assert report["predictions"][0]["score"] >= report["predictions"][1]["score"]
    # the label panel (2 lines of 9 px text: rows 0-24) darkens the top of the frame; below it the
    # frame is the source's, up to the encoder's loss
    panel = np.abs(written[:, :10, :16].astype(int) - source[:, :10, :16].astype(int)).mean()
    rest = np.abs(written[:, 27:].astype(int) - source[:, 27:].astype(int)).mean()
    assert panel > 20 and rest < 8


def test_demo_gif_and_long_timeline(tiny3d, tmp_path):
    experiment, checkpoint, video = tiny3d
    out = tmp_path / "long.gif"
    assert main(["demo", str(experiment), "--checkpoint", str(checkpoint), str(video), "--out", str(out),
                 "--long", "--window", "0.5", "--stride", "0.25"]) == 0
    with Image.open(out) as gif:
        assert (gif.n_frames, gif.size) == (8, (32, 32))
    timeline = json.loads(out.with_suffix(".json").read_text())
    # 8 frames at 8 fps, windows of 4 frames every 2: [0, 4), [2, 6), [4, 8)
    assert [(w["start"], w["end"]) for w in timeline["windows"]] == [(0.0, 0.5), (0.25, 0.75), (0.5, 1.0)]
    assert all(len(w["predictions"]) == 5 for w in timeline["windows"])


def test_demo_reads_a_stream_up_to_a_limit(tiny3d, tmp_path, capsys):
    experiment, checkpoint, video = tiny3d
    out = tmp_path / "stream.mp4"
    assert main(["demo", str(experiment), "--checkpoint", str(checkpoint), f"file:{video}", "--out", str(out),
                 "--max-seconds", "0.5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 4 and len(decode(out)) == 4
    # a live source is scored in windows: one (shorter than --window) for half a second
    windows = json.loads(out.with_suffix(".json").read_text())["windows"]
    assert [(w["start"], w["end"]) for w in windows] == [(0.0, 0.5)]


def test_sliding_window_labels_each_frame_with_its_current_window():
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(7)]
    shown: list[tuple[int, int]] = []
    timeline = slide(frames, fps=2.0, window=1.5, stride=1.0,
                     score=lambda clip: [{"label": int(clip[0, 0, 0, 0]), "score": float(len(clip))}],
                     emit=lambda frame, p: shown.append((int(frame[0, 0, 0]), p[0]["label"])))
    # windows of 3 frames every 2: [0, 3), [2, 5), [4, 7); frame 6 is covered by the last
    assert [(w["start"], w["end"]) for w in timeline] == [(0.0, 1.5), (1.0, 2.5), (2.0, 3.5)]
    assert shown == [(0, 0), (1, 0), (2, 2), (3, 2), (4, 4), (5, 4), (6, 4)]
    short = slide(frames[:2], fps=2.0, window=1.5, stride=1.0, score=lambda c: [{"n": len(c)}], emit=lambda f, p: None)
    assert short == [{"start": 0.0, "end": 1.0, "predictions": [{"n": 2}]}]


def test_demo_bad_inputs_name_the_file(tiny3d, tmp_path, capsys):
    experiment, checkpoint, video = tiny3d
    base = ["demo", str(experiment), "--checkpoint", str(checkpoint)]
    missing = tmp_path / "nowhere.mp4"
    assert main(base + [str(missing), "--out", str(tmp_path / "a.mp4")]) == 2
    assert f"{missing}: no such video file" in capsys.readouterr().err
    sound = tmp_path / "sound.wav"
    with wave.open(str(sound), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(b"\0\0" * 800)
    assert main(base + [str(sound), "--out", str(tmp_path / "b.mp4")]) == 2
    assert f"{sound}: has no video stream" in capsys.readouterr().err
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    assert main(base + [str(text), "--out", str(tmp_path / "t.mp4")]) == 2
    err = capsys.readouterr().err  # FFmpeg's reason, without PyAV's errno and repeated path
    assert f"{text}: cannot open it as a video: Invalid data found when processing input\n" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(base + [str(video), "--out", str(blocker / "c.mp4")]) == 1
    assert f"{blocker / 'c.mp4'}: cannot write" in capsys.readouterr().err
    assert main(base + [str(video), "--out", str(tmp_path / "d.avi")]) == 2
    assert "d.avi: write a .mp4 or .gif file" in capsys.readouterr().err


class TinyRecognizer2D(nn.Module):
    """TSN's shape: segments through a conv (the explained layer, stride 2), average-pooled, a
    linear layer, averaged over segments."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, stride=2, padding=1)
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        b, t = x.shape[:2]
        act = self.conv(x.flatten(0, 1))
        return self.fc(act.mean(dim=(2, 3))).view(b, t, -1).mean(dim=1)


# bilinear upsampling 2 -> 4 with align_corners=False: sources at -0.25 (clamped), 0.25, 0.75, 1.25
UP = torch.tensor([[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]])


def normalised(x: torch.Tensor) -> torch.Tensor:
    return (x - x.min()) / (x.max() - x.min())


def test_grad_cam_2d_equals_the_hand_computation():
    torch.manual_seed(0)
    model = TinyRecognizer2D()
    x = torch.randn(1, 2, 3, 4, 4)  # one sample, 2 segments
    for target in (0, 2):
        maps, _ = grad_cam(model, x, layer=model.conv, layout="NCHW", target=target)
        act = model.conv(x[0]).detach()  # [2 segments, 2 channels, 2, 2]
        # d score / d act[t, c, i, j] = fc.weight[target, c] / (2 segments * 4 positions): the channel weights
        weights = model.fc.weight[target].detach() / 8
        cam = torch.relu((weights.view(1, 2, 1, 1) * act).sum(dim=1))  # [2, 2, 2]
        expected = normalised(torch.stack([UP @ m @ UP.T for m in cam]))
        assert maps.shape == (1, 2, 4, 4)
        assert torch.allclose(maps[0], expected, atol=1e-6)
    other, _ = grad_cam(model, x, layer=model.conv, layout="NCHW", target=0)
    assert not torch.allclose(other, maps, atol=1e-3)  # the target class changes the map


class TinyRecognizer3D(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 2, (1, 1, 1), stride=(2, 1, 1))
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        b, v = x.shape[:2]
        return self.fc(self.conv(x.flatten(0, 1)).mean(dim=(2, 3, 4))).view(b, v, -1).mean(dim=1)


def test_grad_cam_3d_upsamples_in_time():
    torch.manual_seed(1)
    model = TinyRecognizer3D()
    with torch.no_grad():  # channel 0 counts for every class, channel 1 against: some positive evidence
        model.conv.weight.abs_()
        model.fc.weight.copy_(torch.tensor([[1.0, -0.5], [0.8, -0.2], [0.5, -0.9]]))
    x = torch.rand(1, 1, 3, 4, 2, 2)  # one view of 4 frames; the layer halves time
    maps, scores = grad_cam(model, x, layer=model.conv, layout="NCTHW")
    target = int(scores.argmax())
    act = model.conv(x[0]).detach()[0]  # [2 channels, 2 time steps, 2, 2]
    cam = torch.relu((model.fc.weight[target].detach().view(2, 1, 1, 1) / 8 * act).sum(dim=0))  # [2, 2, 2]
    expected = normalised(torch.einsum("ts,shw->thw", UP, cam))
    assert cam.max() > 0 and maps.shape == (1, 4, 2, 2)
    assert torch.allclose(maps[0], expected, atol=1e-6)


def test_explain_writes_one_heat_frame_per_segment(tmp_path, tiny_data, capsys):
    experiment = ROOT / "examples" / "quickstart.toml"
    torch.manual_seed(0)
    checkpoint = tmp_path / "tsn.pth"
    torch.save(actioncore.build_model(actioncore.load_config(experiment, TSN_ONE_STAGE)).state_dict(), checkpoint)
    video = tiny_data / "videos" / "disc" / "test_0000.mp4"
    sets = [arg for o in TSN_ONE_STAGE for arg in ("--set", o)]
    outs = []
    for target in ("0", "5"):
        out = tmp_path / f"cam{target}.gif"
        assert main(["explain", str(experiment), "--checkpoint", str(checkpoint), str(video), "--out", str(out),
                     "--target-class", target, "--json", *sets]) == 0
        report = json.loads(capsys.readouterr().out)
        assert (report["layer"], report["target"]) == ("backbone.layer1", int(target))
        with Image.open(out) as gif:  # 4 test segments of 96 x 96
            assert (gif.n_frames, gif.size) == (4, (96, 96))
            outs.append(np.asarray(gif.convert("RGB")))
    assert np.abs(outs[0].astype(int) - outs[1].astype(int)).mean() > 1
    assert main(["explain", str(experiment), "--checkpoint", str(checkpoint), str(video), "--out",
                 str(tmp_path / "x.gif"), "--layer", "backbone.nothing", *sets]) == 2
    assert "--layer backbone.nothing: the model has no such module" in capsys.readouterr().err


def test_explain_3d_and_colormap(tiny3d, tmp_path, capsys):
    experiment, checkpoint, video = tiny3d
    out = tmp_path / "cam.gif"
    assert main(["explain", str(experiment), "--checkpoint", str(checkpoint), str(video), "--out", str(out),
                 "--json"]) == 0
    with Image.open(out) as gif:  # clip_len 4 at 16 px
        assert (gif.n_frames, gif.size) == (4, (16, 16))
    assert colormap(np.array([0.0, 0.5, 1.0])).tolist() == [[0, 0, 128], [128, 255, 128], [128, 0, 0]]


class PoolingBackbone(nn.Module):
    """A backbone that pools its last stage itself, as torchvision's video ResNets do."""

    def __init__(self):
        super().__init__()
        self.stage = nn.Sequential(nn.Conv3d(3, 2, 1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool3d(1)  # a 1 x 1 x 1 map: no place to point at

    def forward(self, x):
        return self.pool(self.stage(x)).flatten(1)


def test_the_default_layer_of_a_pooling_backbone_is_its_last_feature_map():
    model = nn.Module()
    model.backbone, model.fc = PoolingBackbone(), nn.Linear(2, 3)
    model.forward = lambda x: model.fc(model.backbone(x.flatten(0, 1)))
    x = torch.rand(1, 1, 3, 4, 8, 8)
    assert spatial_layer(model, x, "backbone", "NCTHW") == "backbone.stage"
    assert spatial_layer(model, x, "backbone.stage.0", "NCTHW") == "backbone.stage.0"  # a map already
    assert spatial_layer(model, x, "fc", "NCTHW") == "fc"  # nothing to fall back to: grad_cam names the shape
    maps, _ = grad_cam(model, x, layer=model.backbone.stage, layout="NCTHW")
    assert maps.shape == (1, 4, 8, 8)
