"""Audio recognition: PyAV decoding, the 0.24 log-mel features, the feature pipeline and ResNetAudio."""
import math
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from actioncore.cli import main
from actioncore.data.prep.audio import (FMAX, FMIN, HOP_SIZE, SAMPLE_RATE, decode_audio, hz_to_mel, log_mel_features,
                                        lws_window, mel_filters, mel_to_hz)
from actioncore.sdk import DataError
from actioncore.sdk.data import VideoSample
from actioncore_audio import (AudioFeatureDecoder, AudioFeatureSelector, FormatAudioShape, ResNetAudio)
from actioncore_cls_heads import TSNHead
from actioncore_tsn import ResNet

PARAMS_AUDIOONLY_R50 = 6_315_728  # MMAction2 1.2.0 builder (benchmarks/parity/audio.py): backbone 5,905,728 + head 410,000
PARAMS_TSN_R18_AUDIO = 11_375_440  # MMAction2 1.2.0 builder: backbone 11,170,240 + head 205,200
TONES = {"low": 440.0, "high": 3000.0}


def write_video(path, *, tone_hz=None, seconds=1.0, rate=44100):
    """A tiny mp4: 8 gray frames at 8 fps, and a sine tone (AAC, stereo, ``rate`` Hz) when ``tone_hz`` is set."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=8)
        video.width = video.height = 32
        video.pix_fmt = "yuv420p"
        audio = None
        if tone_hz is not None:
            audio = out.add_stream("aac", rate=rate)
            audio.layout = "stereo"
        for i in range(int(8 * seconds)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 16 * i, np.uint8), format="rgb24")
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if audio is not None:
            t = np.arange(int(rate * seconds)) / rate
            wave = (0.5 * np.sin(2 * math.pi * tone_hz * t)).astype(np.float32)
            for start in range(0, wave.size, 1024):
                chunk = np.repeat(wave[start:start + 1024], 2)[None]  # packed stereo: L R L R ...
                frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="stereo")
                frame.sample_rate = rate
                frame.pts, frame.time_base = start, Fraction(1, rate)
                out.mux(audio.encode(frame))
            out.mux(audio.encode())


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio_videos")
    for name, hz in TONES.items():
        (root / name).mkdir()
        write_video(root / name / f"{name}.mp4", tone_hz=hz)
    (root / "silent").mkdir()
    write_video(root / "silent" / "mute.mp4")
    return root


def expected_mel_bin(hz: float) -> int:
    """The filter whose centre (closed form: equal mel steps from FMIN to FMAX) is nearest ``hz``."""
    centres = mel_to_hz(np.linspace(hz_to_mel(FMIN), hz_to_mel(FMAX), 82))[1:-1]
    return int(np.argmin(np.abs(centres - hz)))


def test_mel_scale_and_filters_match_the_closed_form():
    assert hz_to_mel(1000.0) == pytest.approx(15.0) and hz_to_mel(200.0) == pytest.approx(3.0)
    assert mel_to_hz(15.0 + 27.0) == pytest.approx(6400.0)  # log step: 27 mels per factor 6.4
    weights = mel_filters().numpy()
    assert weights.shape == (80, 257)
    edges = mel_to_hz(np.linspace(hz_to_mel(FMIN), hz_to_mel(FMAX), 82))
    bins = np.linspace(0, SAMPLE_RATE / 2, 257)
    i = 60  # a filter several FFT bins wide
    f = bins[(bins > edges[i]) & (bins < edges[i + 2])]
    closed = np.minimum((f - edges[i]) / (edges[i + 1] - edges[i]), (edges[i + 2] - f) / (edges[i + 2] - edges[i + 1]))
    np.testing.assert_allclose(weights[i][(bins > edges[i]) & (bins < edges[i + 2])],
                               closed * 2 / (edges[i + 2] - edges[i]), rtol=1e-12)
    # Slaney norm: every triangle has unit area in Hz (Riemann sum over 31.25 Hz bins, wide filters)
    np.testing.assert_allclose(weights[40:].sum(1) * (SAMPLE_RATE / 512), 1.0, atol=0.03)
    assert (weights[:, bins < FMIN] == 0).all() and (weights[:, bins > FMAX] == 0).all()
    # lws's analysis window: its squares overlap-add to exactly 1 at hop 256 (perfect reconstruction)
    window = lws_window(512, HOP_SIZE)
    torch.testing.assert_close(window[:256] ** 2 + window[256:] ** 2, torch.ones(256, dtype=torch.float64))


@pytest.mark.parametrize("name", sorted(TONES))
def test_a_pure_tone_peaks_in_its_mel_bin(videos, name):
    samples = decode_audio(videos / name / f"{name}.mp4")
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - SAMPLE_RATE) < 2048  # 1 s resampled from 44.1 kHz stereo to 16 kHz mono
    features = log_mel_features(samples)
    padded = samples.size + 2 * 256
    assert features.shape == ((padded - 512) // 256 + (1 if padded % 256 == 0 else 2), 80)
    assert features.dtype == np.float32 and 0 <= features.min() and features.max() <= 1
    middle = features[10:-10]
    assert (middle.argmax(1) == expected_mel_bin(TONES[name])).all()
    # RMS 0.1 -> amplitude 0.141; |STFT| at the tone ~ 0.0707 * sum(window) = 0.0707 * 326 = 23; times a
    # Slaney filter's height (2 / its width in Hz: ~0.015 at 440 Hz, ~0.008 at 3 kHz) over the ~1.5 bins of the
    # main lobe: 0.3-0.5, i.e. -6 to -10 dB, -26 to -30 after ref_level_db: 0.70-0.74 once normalised
    assert 0.65 < middle.max() < 0.8
    far = np.abs(np.arange(80) - expected_mel_bin(TONES[name])) > 10
    assert middle[:, far].max() < middle.max() - 0.3  # the 100 dB range: other bands far below the tone


def test_a_video_without_sound_is_a_data_error_naming_it(videos):
    mute = videos / "silent" / "mute.mp4"
    with pytest.raises(DataError, match=r"mute\.mp4: no audio stream"):
        decode_audio(mute)


def test_audio_features_command_writes_npy_per_video_and_reports_the_silent_one(videos, tmp_path, capsys):
    out = tmp_path / "features"
    assert main(["data", "audio-features", str(videos), "--out", str(out), "--workers", "1"]) == 1
    printed = capsys.readouterr().out
    assert "failed: silent/mute: DataError" in printed and "no audio stream" in printed
    for name in TONES:
        features = np.load(out / name / f"{name}.npy")
        assert features.dtype == np.float32 and features.shape[1] == 80 and 60 <= features.shape[0] <= 70
    assert not (out / "silent").exists()
    assert main(["data", "audio-features", str(videos / "low"), "--out", str(out / "low")]) == 0  # kept, not redone
    assert "1 already there" in capsys.readouterr().out


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


def test_tiny_resnet_audio_trains_on_tone_features(videos):
    torch.manual_seed(0)
    feats = {name: torch.from_numpy(log_mel_features(decode_audio(videos / name / f"{name}.mp4")))
             for name in TONES}
    clips = torch.stack([feats[name][i:i + 32] for name in sorted(TONES) for i in (0, 8, 16, 24)])[:, None]
    labels = torch.tensor([0] * 4 + [1] * 4)
    backbone = ResNetAudio(depth=50, base_channels=4, num_stages=2, strides=(1, 2))
    head = TSNHead(num_classes=2, in_channels=32, dropout_ratio=0.0)
    assert backbone(clips).shape == (8, 32, 16, 40)
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
