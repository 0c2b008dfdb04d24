"""LFB: the feature bank's file and window, the feature-bank operators, the LFB detector."""
import pytest
import torch

from actioncore.sdk import DataError
from actioncore_ava_detector import FBOConfig, FBOHead, FeatureBank, LFBConfig

META = [{"video_id": "v1", "timestamp": 10}]


def hand_bank() -> FeatureBank:
    """Channels 2; second 9 holds three features, 10 one, 12 two; v2 one at 100."""
    bank = FeatureBank()
    bank.add(torch.tensor([[1.0, 1], [2, 2], [3, 3]]), [{"video_id": "v1", "timestamp": 9}] * 3)
    bank.add(torch.tensor([[4.0, 4], [5, 5], [6, 6]]),
             [{"video_id": "v1", "timestamp": 10}, {"video_id": "v1", "timestamp": 12},
              {"video_id": "v1", "timestamp": 12}])
    bank.add(torch.tensor([[7.0, 7]]), [{"video_id": "v2", "timestamp": 100}])
    return bank


def test_window_reads_the_seconds_around_the_timestamp_by_hand():
    # window 4 around 10: seconds 8, 9, 10, 11; two features a second at most
    window = hand_bank().window("v1", 10, window_size=4, max_per_second=2)
    assert window[:, 0].tolist() == [0, 0,   # 8: nothing stored
                                     1, 2,   # 9: the first two of three
                                     4, 0,   # 10: one, then a zero slot
                                     0, 0]   # 11: nothing
    assert window.shape == (8, 2) and window.dtype == torch.float32
    # window 3 around 11: seconds 10, 11, 12
    assert hand_bank().window("v1", 11, window_size=3, max_per_second=2)[:, 0].tolist() == [4, 0, 0, 0, 5, 6]


def test_random_window_draws_from_all_features_of_a_second():
    bank = hand_bank()
    torch.manual_seed(0)
    drawn = {tuple(bank.window("v1", 9, window_size=1, max_per_second=2, random=True)[:, 0].tolist())
             for _ in range(30)}
    assert len(drawn) > 1 and all(len(set(d)) == 2 and set(d) <= {1, 2, 3} for d in drawn)


def test_bank_file_round_trip_is_weights_only_and_reads_mmaction2_layout(tmp_path):
    hand_bank().save(tmp_path / "lfb_train.pt")
    data = torch.load(tmp_path / "lfb_train.pt", weights_only=True)
    assert data["format"] == "actioncore-lfb-1"
    assert data["video_id"] == ["v1", "v1", "v1", "v2"] and data["timestamp"].tolist() == [9, 10, 12, 100]
    again = FeatureBank.load(tmp_path / "lfb_train.pt")
    assert again.videos["v1"][12].tolist() == [[5, 5], [6, 6]] and len(again) == 4
    # MMAction2's lfb_<split>.pkl: {video: {second: list of [C] tensors}}
    torch.save({"v3": {5: [torch.ones(2).half(), torch.zeros(2).half()]}}, tmp_path / "lfb_val.pkl")
    theirs = FeatureBank.load(tmp_path / "lfb_val.pkl")
    assert theirs.videos["v3"][5].tolist() == [[1, 1], [0, 0]]


def test_bad_banks_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        FeatureBank.load(tmp_path / "missing.pt")
    torch.save({"format": "actioncore-lfb-1", "video_id": ["a"], "timestamp": torch.tensor([1, 2]),
                "features": [torch.ones(1, 2)]}, tmp_path / "short.pt")
    with pytest.raises(DataError, match="short.pt.*differ in length"):
        FeatureBank.load(tmp_path / "short.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(DataError, match="text.pt"):
        FeatureBank.load(tmp_path / "text.pt")
    with pytest.raises(DataError, match="no video 'v9'"):
        hand_bank().window("v9", 1, window_size=2, max_per_second=1)


@pytest.mark.parametrize(("kind", "channels"), [("non_local", 8 + 4), ("avg", 8 + 2), ("max", 8 + 2)])
def test_operator_shapes(kind, channels):
    head = FBOHead(lfb=LFBConfig(files=(), window_size=4, max_num_sampled_feat=2, lfb_channels=2),
                   fbo=FBOConfig(type=kind, st_feat_channels=8, latent_channels=4)).eval()
    head.set_bank(hand_bank())
    roi_feats = torch.randn(1, 8, 1, 3, 3)
    out = head(roi_feats, context=torch.zeros(1, 8, 1, 4, 4), rois=torch.zeros(1, 5), meta=META)
    assert out.shape == (1, channels, 1, 1, 1) == (1, head.out_channels, 1, 1, 1)
    # the first channels are the short-term feature itself: mean over time, max over the grid
    assert torch.allclose(out[0, :8].flatten(), roi_feats.amax((3, 4)).flatten())
    if kind != "non_local":  # window around 10 (seconds 8..11), two slots a second
        slots = torch.tensor([0.0, 0, 1, 2, 4, 0, 0, 0])
        expected = slots.mean() if kind == "avg" else slots.max()
        assert out[0, 8:].flatten().tolist() == pytest.approx([expected.item()] * 2)


def test_fbo_needs_meta_for_each_roi_and_a_bank_of_the_right_width(tmp_path):
    head = FBOHead(lfb=LFBConfig(files=(str(tmp_path / "nope.pt"),), lfb_channels=2),
                   fbo=FBOConfig(type="avg", st_feat_channels=8))
    with pytest.raises(ValueError, match="meta"):
        head(torch.zeros(2, 8, 1, 2, 2), context=torch.zeros(1), rois=torch.zeros(2, 5), meta=META)
    with pytest.warns(UserWarning, match="zeros"):  # what actioncore info runs: no meta at all
        out = head(torch.ones(1, 8, 1, 2, 2), context=torch.zeros(1), rois=torch.zeros(1, 5))
    assert out.flatten().tolist() == [1.0] * 8 + [0.0] * 2
    with pytest.raises(DataError, match="nope.pt"):
        head(torch.zeros(1, 8, 1, 2, 2), context=torch.zeros(1), rois=torch.zeros(1, 5), meta=META)
    with pytest.raises(DataError, match="channels"):
        FBOHead(lfb=LFBConfig(lfb_channels=3), fbo=FBOConfig(type="max")).set_bank(hand_bank())
