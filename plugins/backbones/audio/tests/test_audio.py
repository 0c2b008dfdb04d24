"""Audio recognition: PyAV decoding, the 0.24 log-mel features, the feature pipeline and ResNetAudio."""
import hashlib
import json

import numpy as np
import pytest
import torch

from actioncore.cli import main
from actioncore.sdk import DataError
from actioncore.sdk.data import VideoSample
from actioncore.testing import write_tone_video
from actioncore_audio import (AudioFeatureDecoder, AudioFeatureSelector, FormatAudioShape, ResNetAudio)
from actioncore_cls_heads import TSNHead
from actioncore_tsn import ResNet

# MMAction2 1.2.0's builder (benchmarks/parity/audio.py, meta device)
PARAMS_AUDIOONLY_R50 = 6_315_728  # backbone 5,905,728 + head 410,000
PARAMS_TSN_R18_AUDIO = 11_375_440  # backbone 11,170,240 + head 205,200
TONES = {"low": 440.0, "high": 3000.0}

pytestmark = pytest.mark.usefixtures("torch_one_thread")  # tiny models: one intra-op thread, no OpenMP spinning


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio_videos")
    for name, hz in TONES.items():
        (root / name).mkdir()
        write_tone_video(root / name / f"{name}.mp4", tone_hz=hz)
    return root


def test_selector_maps_video_frames_onto_feature_rows(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(200 * 80, dtype=np.float32).reshape(200, 80))
    reader = AudioFeatureDecoder().open(tmp_path / "a.npy")
    sample = VideoSample(source=str(tmp_path / "a.npy"), num_frames=100, reader=reader)
    sample.frame_indices = np.arange(10, 74)[None]  # one clip of 64 video frames of 100
    sample = FormatAudioShape()(AudioFeatureSelector()(sample))
    clip = sample.frames.numpy()
    assert clip.shape == (1, 1, 128, 80) and sample.meta["input_format"] == "NCTF"
    # rows round(11 / 100 * 200) = 22 to round(74 / 100 * 200) = 148: 126 rows, then 2 rows of zero padding
    np.testing.assert_array_equal(clip[0, 0, :126], np.arange(22 * 80, 148 * 80).reshape(126, 80))
    assert (clip[0, 0, 126:] == 0).all()
    with pytest.raises(DataError, match=r"missing\.npy: no audio feature file"):
        AudioFeatureDecoder().open(tmp_path / "missing.npy")
    assert AudioFeatureDecoder(missing="zero").open(tmp_path / "missing.npy").features.shape == (640, 80)


def test_full_size_parameter_counts_are_mmaction2s():
    with torch.device("meta"):
        r50 = ResNetAudio(depth=50), TSNHead(num_classes=400, in_channels=1024)
        r18 = ResNet(depth=18, in_channels=1), TSNHead(num_classes=400, in_channels=512)
    count = lambda modules: sum(p.numel() for m in modules for p in m.parameters())  # noqa: E731
    assert count(r50) == PARAMS_AUDIOONLY_R50  # MMAction2 1.2.0 audioonly_r50_8xb160-64x1x1-100e
    assert count(r18) == PARAMS_TSN_R18_AUDIO  # MMAction2 1.2.0 tsn_r18_8xb320-64x1x1-100e


def test_tiny_resnet_audio_trains_on_tone_features(videos, tmp_path):
    torch.manual_seed(0)
    assert main(["data", "audio-features", str(videos), "--out", str(tmp_path)]) == 0
    decoder, select, shape = AudioFeatureDecoder(), AudioFeatureSelector(fixed_length=32), FormatAudioShape()
    clips = []
    for name in sorted(TONES):  # 4 clips of 8 frames of a 16-frame "video" per tone, as the pipeline cuts them
        for first in (0, 2, 4, 6):
            sample = VideoSample(source=name, num_frames=16, reader=decoder.open(tmp_path / name / f"{name}.npy"))
            sample.frame_indices = np.arange(first, first + 8)[None]
            clips.append(shape(select(sample)).frames)
    clips = torch.cat(clips)
    labels = torch.tensor([0] * 4 + [1] * 4)
    assert clips.shape == (8, 1, 32, 80)
    backbone = ResNetAudio(depth=50, base_channels=4, num_stages=1, strides=(1,), conv1_stride=2)
    head = TSNHead(num_classes=2, in_channels=16, dropout_ratio=0.0)
    assert backbone(clips).shape == (8, 16, 16, 40)
    params = [*backbone.parameters(), *head.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.2, momentum=0.9)
    losses = []
    for _ in range(15):
        loss = torch.nn.functional.cross_entropy(head(backbone(clips), num_segs=1), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(p.grad is not None for p in params if p.requires_grad)
    assert losses[-1] < 0.5 * losses[0]


EXPERIMENT = """
[plugins]
require = ["actioncore-audio", "actioncore-cls-heads", "actioncore-lists", "actioncore-recognition"]
[task]
type = "recognition"
[model]
type = "recognizer2d"
[model.backbone]
type = "resnet_audio"
base_channels = 4
num_stages = 1
strides = [1]
conv1_stride = 2
[model.head]
type = "tsn"
num_classes = 2
in_channels = 16
dropout_ratio = 0.0
[data]
batch_size = 4
workers = 0
[data.train]
type = "audio_feature_list"
ann_file = "{root}/list.txt"
root = "{root}/features"
pipeline = [
    {{ type = "sample_frames", clip_len = 4, frame_interval = 1, num_clips = 1 }},
    {{ type = "audio_feature_selector", fixed_length = 32 }},
    {{ type = "format_audio_shape" }},
]
[data.test]
type = "audio_feature_list"
ann_file = "{root}/list.txt"
root = "{root}/features"
pipeline = [
    {{ type = "sample_frames", clip_len = 4, frame_interval = 1, num_clips = 1, test_mode = true }},
    {{ type = "audio_feature_selector", fixed_length = 32 }},
    {{ type = "format_audio_shape" }},
]
[optim]
lr = 0.1
[schedule]
epochs = 2
[runtime]
work_dir = "{root}/work"
deterministic = true
"""


def test_audio_experiment_trains_and_writes_a_score_file_for_fusion(videos, tmp_path):
    """``audio_feature_list`` + the ``audio_feature`` decoder + the two steps through ``run`` and
    ``test --out``: the per-sample score file ``actioncore fuse`` takes (one line per video: 8 frames)."""
    assert main(["data", "audio-features", str(videos), "--out", str(tmp_path / "features")]) == 0
    (tmp_path / "list.txt").write_text("low/low.npy 8 0\nhigh/high.npy 8 1\n" * 2)
    (tmp_path / "exp.toml").write_text(EXPERIMENT.format(root=tmp_path))
    assert main(["data", "check", str(tmp_path / "exp.toml")]) == 0  # every line's .npy opens and reads
    assert main(["run", str(tmp_path / "exp.toml"), "--no-progress"]) == 0
    checkpoint = sorted((tmp_path / "work" / "checkpoints").glob("epoch_*.pth"))[-1]
    assert main(["test", str(tmp_path / "exp.toml"), "--checkpoint", str(checkpoint),
                 "--out", str(tmp_path / "scores.json")]) == 0
    samples = json.loads((tmp_path / "scores.json").read_text())["samples"]
    assert [s["label"] for s in samples] == [0, 1, 0, 1]
    for s in samples:
        assert sorted(p["label"] for p in s["predictions"]) == [0, 1]
        assert sum(p["score"] for p in s["predictions"]) == pytest.approx(1.0, abs=1e-5)


def test_resnet_audio_state_dict_is_mmaction2s_key_for_key():
    """The sha256 prefix of MMAction2 1.2.0's ResNetAudio-50 state dict ("key shape" lines, sorted),
    computed from its builder on the meta device; a few keys spelled out."""
    with torch.device("meta"):
        state = ResNetAudio(depth=50).state_dict()
    layout = "\n".join(f"{k} {tuple(v.shape)}" for k, v in sorted(state.items()))
    assert hashlib.sha256(layout.encode()).hexdigest()[:16] == "ba8756ea2ceeeb43"
    assert state["conv1.conv.conv_1.conv.weight"].shape == (32, 1, 9, 1)  # the stem's 9x1 time kernel
    assert state["layer1.0.conv3.conv.weight"].shape == (128, 64, 1, 1)  # factorized: 2 x 32 channels in
    assert state["layer3.0.conv2.conv.weight"].shape == (128, 128, 3, 3)  # stage 3: a plain 3x3


def test_frozen_stages_and_norm_eval():
    model = ResNetAudio(depth=50, base_channels=4, num_stages=2, strides=(1, 2), frozen_stages=1).train()
    assert not any(p.requires_grad for m in (model.conv1, model.layer1) for p in m.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not model.layer1[0].conv1.bn.training and model.layer2[0].conv1.bn.training
    model = ResNetAudio(depth=50, base_channels=4, num_stages=1, strides=(1,), norm_eval=True).train()
    assert not any(m.training for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
