"""``actioncore data audio-features``: PyAV audio decoding and MMAction2 0.24's log-mel features, in numbers."""
import numpy as np
import pytest
import torch

from actioncore.cli import main
from actioncore.data.prep.audio import (FMAX, FMIN, HOP_SIZE, SAMPLE_RATE, decode_audio, hz_to_mel, log_mel_features,
                                        lws_window, mel_filters, mel_to_hz)
from actioncore.errors import DataError
from actioncore.testing import write_tone_video

TONES = {"low": 440.0, "high": 3000.0}

pytestmark = pytest.mark.usefixtures("torch_one_thread")  # tiny models: one intra-op thread, no OpenMP spinning


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio_videos")
    for name, hz in TONES.items():
        (root / name).mkdir()
        write_tone_video(root / name / f"{name}.mp4", tone_hz=hz)
    (root / "silent").mkdir()
    write_tone_video(root / "silent" / "mute.mp4")
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
