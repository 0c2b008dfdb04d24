"""BMN: MMAction2's parameter count, the boundary-matching layer on hand cases, proposals, loss."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from actioncore.cli import main
from actioncore.sdk.weights import convert_state
from actioncore.testing import assert_component_contract
from actioncore_bmn import BMN, sample_mask
from actioncore_bmn.bm_layer import valid_proposals
from actioncore_bmn.proposals import boundary_candidates, candidate_proposals
from actioncore_localization import VideoAnnotation

pytestmark = pytest.mark.actioncore_plugins("actioncore_localization.hooks", "actioncore_bmn.hooks")

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_bmn" / "examples"
TINY = dict(temporal_dim=8, num_samples=4, feat_dim=8, hidden_dim_1d=8, hidden_dim_2d=4, hidden_dim_3d=8)
VIDEO = VideoAnnotation(video_name="v_a", duration_second=16.0, duration_frame=480, feature_frame=480, fps=30.0,
                        segments=[[4.0, 10.0]], labels=("a",))


def test_default_config_has_mmaction2_parameter_count():
    with torch.device("meta"):
        model = BMN()
    assert sum(p.numel() for p in model.parameters()) == 36_978_564
    # of which the fixed sampling weights of the boundary-matching layer: T x (N x T x T)
    assert model.bm_layer.sample_mask.numel() == 100 * 32 * 100 * 100
    assert not model.bm_layer.sample_mask.requires_grad


def test_example_info_reports_the_parameter_count(capsys):
    assert main(["info", str(EXAMPLES / "bmn_400x100_2x8_9e_activitynet_feature.toml"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["parameters"] == 36_978_564 and info["trainable_parameters"] == 4_978_564
    assert info["input_shape"] == [1, 400, 100]


def test_sample_mask_hand_cases():
    # no widening, one sub-sample per point: the proposal from step 1 to step 2 reads steps 1, 2
    mask = sample_mask(4, num_samples=2, num_samples_per_bin=1, boundary_ratio=0.0)
    assert mask.shape == (4, 2, 4, 4)  # [step, sample, duration, start]
    assert mask[:, 0, 1, 1].tolist() == [0, 1, 0, 0] and mask[:, 1, 1, 1].tolist() == [0, 0, 1, 0]
    # widened by half its length: the one-step proposal at 0 samples -0.5 (read as step 0) and 0.5
    mask = sample_mask(4, num_samples=2, num_samples_per_bin=1, boundary_ratio=0.5)
    assert mask[:, 0, 0, 0].tolist() == [1, 0, 0, 0] and mask[:, 1, 0, 0].tolist() == [0.5, 0.5, 0, 0]
    # proposals running past the end read nothing
    assert not mask[:, :, 3, 1].any() and not mask[:, :, 1, 3].any()
    # two sub-samples per point are averaged: 3-step proposal from 0, no widening, positions 0, 2/3, 4/3, 2
    mask = sample_mask(4, num_samples=2, num_samples_per_bin=2, boundary_ratio=0.0)
    np.testing.assert_allclose(mask[:, 0, 2, 0], [(1 + 1 / 3) / 2, (2 / 3) / 2, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(mask[:, 1, 2, 0], [0, (2 / 3) / 2, (1 / 3 + 1) / 2, 0], rtol=1e-6)


def test_bm_layer_gathers_proposal_features():
    model = BMN(**TINY)
    features = torch.arange(8, dtype=torch.float32).view(1, 1, 8).expand(1, 8, 8)  # feature = step index
    out = model.bm_layer(features)
    assert out.shape == (1, 8, 4, 8, 8)
    # the 2-step proposal from step 2, widened by half its length each side, spans [1, 4]: 12 evenly
    # spaced sub-samples 1 + 3i/11, averaged in bins of 3, read the interpolated step index itself
    expected = [1 + 3 * (3 * k + 1) / 11 for k in range(4)]
    np.testing.assert_allclose(out[0, 0, :, 1, 2].numpy(), expected, rtol=1e-5)
    assert float(out[0, 0, :, 7, 1].abs().sum()) == 0.0  # ends past the video: nothing sampled
    assert valid_proposals(3).tolist() == [[1, 1, 1], [1, 1, 0], [1, 0, 0]]


def test_forward_loss_and_proposals(actioncore_host):
    torch.manual_seed(0)
    model = assert_component_contract(actioncore_host, "model", "bmn", TINY)
    confidence, start, end = outputs = model(torch.randn(2, 8, 8))
    assert confidence.shape == (2, 2, 8, 8) and start.shape == end.shape == (2, 8)
    losses = model.loss(outputs, [VIDEO, VIDEO])
    assert set(losses) == {"loss", "tem_loss", "pem_reg_loss", "pem_cls_loss"}
    assert torch.isfinite(losses["loss"])
    losses["loss"].backward()
    assert model.x_2d_p[0].weight.grad is not None and model.bm_layer.sample_mask.grad is None
    proposals = model.proposals(outputs, [VIDEO, VIDEO])
    assert len(proposals) == 2 and proposals[0].shape[1] == 3
    assert (proposals[0][:, 0] >= 0).all() and (proposals[0][:, 1] <= 16.0).all()
    assert (np.diff(proposals[0][:, 2]) <= 0).all()
    with pytest.raises(ValueError, match=r"expects \[B, 8, 8\]"):
        model(torch.randn(2, 8, 9))


def test_candidates_pair_boundary_steps():
    start = np.array([0.1, 0.9, 0.2, 0.1], dtype=np.float32)   # step 1 is a peak; step 0 always starts
    end = np.array([0.1, 0.1, 0.3, 0.2], dtype=np.float32)     # step 2 is a peak; step 3 always ends
    assert boundary_candidates(start).tolist() == [False, True, False, False]
    cls_map = np.full((4, 4), 0.5, dtype=np.float32)
    reg_map = np.full((4, 4), 0.5, dtype=np.float32)
    rows = candidate_proposals(start, end, reg_map, cls_map)
    # pairs (start, end) with end > start: (0,2) (1,2) [duration 2, 1], (0,3) (1,3) [3, 2], by duration then start
    np.testing.assert_allclose(rows[:, :2], [[0.25, 0.5], [0.0, 0.5], [0.25, 0.75], [0.0, 0.75]])
    np.testing.assert_allclose(rows[:, 6], rows[:, 2] * rows[:, 3] * 0.25, rtol=1e-6)


def test_mmaction2_checkpoint_keys_convert():
    model = BMN(**TINY)
    theirs = {("sample_mask" if k == "bm_layer.sample_mask" else k): v for k, v in model.state_dict().items()}
    theirs["data_preprocessor.mean"] = torch.zeros(1)
    converted = convert_state(model, theirs)
    assert set(converted) == set(model.state_dict())
