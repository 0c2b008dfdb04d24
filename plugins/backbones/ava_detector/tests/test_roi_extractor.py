"""RoI feature extraction on hand-made feature maps."""
import pytest
import torch

from actioncore_ava_detector import RoIExtractorConfig, SingleRoIExtractor3D


def constant_region_map() -> torch.Tensor:
    """``[1, 2, 3, 8, 8]``: channel 0 is 5 on cells 2..5 x 2..5 and 0 elsewhere at every time
    step; channel 1 is the time step (0, 1, 2) everywhere."""
    features = torch.zeros(1, 2, 3, 8, 8)
    features[:, 0, :, 2:6, 2:6] = 5.0
    features[:, 1] = torch.arange(3.0)[:, None, None]
    return features


def test_a_box_inside_a_constant_region_gives_the_constant():
    extractor = SingleRoIExtractor3D(RoIExtractorConfig(output_size=4, featmap_stride=16))
    # cells 2..5 are pixels 32..96 at stride 16; stay half a cell inside so bilinear samples do
    rois = torch.tensor([[0, 40.0, 40, 88, 88]])
    roi_feats, context = extractor(constant_region_map(), rois)
    assert roi_feats.shape == (1, 2, 1, 4, 4)
    assert torch.allclose(roi_feats[0, 0], torch.full((1, 4, 4), 5.0))
    assert torch.allclose(roi_feats[0, 1], torch.full((1, 4, 4), 1.0))  # mean over time of 0, 1, 2
    assert context.shape == (1, 2, 1, 8, 8)


def test_a_box_outside_the_region_gives_zero_and_time_can_be_kept():
    extractor = SingleRoIExtractor3D(RoIExtractorConfig(output_size=2, with_temporal_pool=False))
    roi_feats, _ = extractor(constant_region_map(), torch.tensor([[0, 104.0, 104, 124, 124]]))
    assert roi_feats.shape == (1, 2, 3, 2, 2)
    assert torch.equal(roi_feats[0, 0], torch.zeros(3, 2, 2))
    assert torch.allclose(roi_feats[0, 1], torch.arange(3.0)[:, None, None].expand(3, 2, 2))


def test_temporal_max_pooling_and_the_global_context():
    extractor = SingleRoIExtractor3D(RoIExtractorConfig(output_size=2, temporal_pool_mode="max",
                                                        with_global=True))
    roi_feats, _ = extractor(constant_region_map(), torch.tensor([[0, 40.0, 40, 88, 88]]))
    assert roi_feats.shape == (1, 4, 1, 2, 2)  # RoI channels, then the whole frame's
    assert torch.allclose(roi_feats[0, 1], torch.full((1, 2, 2), 2.0))  # max over time
    # the whole frame pooled to 2x2: each quarter holds 4 of its 16 cells at 5
    assert torch.allclose(roi_feats[0, 2], torch.full((1, 2, 2), 5.0 * 4 / 16))


def test_each_roi_reads_its_own_clip():
    features = torch.stack([torch.full((2, 1, 4, 4), 1.0), torch.full((2, 1, 4, 4), 7.0)])
    rois = torch.tensor([[1, 0.0, 0, 64, 64], [0, 0, 0, 32, 32], [1, 16, 16, 48, 48]])
    roi_feats, _ = SingleRoIExtractor3D(RoIExtractorConfig(output_size=2))(features, rois)
    assert roi_feats[:, 0].flatten(1).mean(1).tolist() == pytest.approx([7.0, 1.0, 7.0])


def test_pathways_of_different_lengths_are_stretched_in_time_then_concatenated():
    slow = torch.arange(2.0).view(1, 1, 2, 1, 1).expand(1, 1, 2, 4, 4)  # time steps 0, 1
    fast = torch.arange(8.0).view(1, 1, 8, 1, 1).expand(1, 1, 8, 4, 4)  # time steps 0..7
    extractor = SingleRoIExtractor3D(RoIExtractorConfig(output_size=1, with_temporal_pool=False))
    roi_feats, context = extractor((slow, fast), torch.tensor([[0, 0.0, 0, 64, 64]]))
    assert context.shape == (1, 2, 8, 4, 4)
    assert roi_feats[0, 0].flatten().tolist() == [0, 0, 0, 0, 1, 1, 1, 1]  # nearest in time
    assert roi_feats[0, 1].flatten().tolist() == list(range(8))


def test_roi_pool_takes_the_maximum():
    features = torch.zeros(1, 1, 1, 4, 4)
    features[0, 0, 0, 1, 1] = 3.0
    extractor = SingleRoIExtractor3D(RoIExtractorConfig(roi_layer_type="RoIPool", output_size=1))
    roi_feats, _ = extractor(features, torch.tensor([[0, 0.0, 0, 63, 63]]))
    assert roi_feats.flatten().tolist() == [3.0]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="output_size"):
        SingleRoIExtractor3D(RoIExtractorConfig(output_size=0))
