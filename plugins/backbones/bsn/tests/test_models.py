"""TEM and PEM: MMAction2's parameter counts, conversion, outputs, training on a fixed batch."""
import numpy as np
import pytest
import torch

import actioncore
from actioncore import load_config
from actioncore.sdk.weights import convert_state
from actioncore.sdk import ConfigError
from actioncore.testing import assert_component_contract, count_parameters
from actioncore_bsn import PEM, TEM
from actioncore_bsn_pgm import ProposalTable

pytestmark = pytest.mark.actioncore_plugins("actioncore_bsn.hooks", "actioncore_localization.hooks")

FULL_SIZE = {  # MMAction2 1.2.0's counts for _base_/models/bsn_tem.py and bsn_pem.py
    "bsn_tem_400x100_1x16_20e_activitynet_feature.toml": 1_403_395,
    "bsn_pem_400x100_1x16_20e_activitynet_feature.toml": 8_705,
}



@pytest.mark.parametrize("name", FULL_SIZE)
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, examples, name):
    experiment = load_config(examples / name)
    with torch.device("meta"):
        model = actioncore.build_model(experiment.model)
    assert count_parameters(model) == FULL_SIZE[name]


def test_components_honour_the_contract(actioncore_host):
    tem = assert_component_contract(actioncore_host, "model", "bsn_tem", {"tem_feat_dim": 8, "tem_hidden_dim": 4})
    assert isinstance(tem, TEM)
    pem = assert_component_contract(actioncore_host, "model", "bsn_pem", {"pem_hidden_dim": 4})
    assert isinstance(pem, PEM)
    assert_component_contract(actioncore_host, "transform", "load_bsn_proposals", {"top_k": 10})
    assert_component_contract(actioncore_host, "decoder", "bsn_proposals")


def test_mmaction2_state_dicts_load_unchanged():
    torch.manual_seed(0)
    tem = TEM(tem_feat_dim=6, tem_hidden_dim=5, temporal_dim=7)
    theirs = {f"module.{k}": v.clone() + 1.0 for k, v in tem.state_dict().items()}
    tem.load_state_dict(convert_state(tem, theirs), strict=True)
    assert torch.equal(tem.conv3.bias, theirs["module.conv3.bias"])
    pem = PEM(pem_feat_dim=4, pem_hidden_dim=3)
    theirs = {**{k: v + 1.0 for k, v in pem.state_dict().items()}, "data_preprocessor.mean": torch.zeros(1)}
    pem.load_state_dict(convert_state(pem, theirs), strict=True)
    assert torch.equal(pem.fc2.weight, theirs["fc2.weight"])


def test_tem_outputs_probabilities_and_mmaction2s_result_columns(make_video):
    tem = TEM(temporal_dim=5, tem_feat_dim=3, tem_hidden_dim=4).eval()
    with torch.no_grad():
        out = tem(torch.randn(2, 3, 5))
    assert out.shape == (2, 3, 5) and bool(((out > 0) & (out < 1)).all())
    # conv3_ratio 0.01 starts every probability near one half, as in MMAction2
    assert float((out - 0.5).abs().max()) < 0.05
    columns = tem.video_outputs(out, [make_video("a", []), make_video("b", [])])
    assert list(columns[1]) == ["action", "start", "end", "tmin", "tmax"]
    np.testing.assert_allclose(columns[1]["start"], out[1, 1].numpy())
    np.testing.assert_allclose(columns[0]["tmin"], [0, 0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(columns[0]["tmax"], [0.2, 0.4, 0.6, 0.8, 1.0])
    with pytest.raises(ValueError, match=r"\[B, 3, 5\]"):
        tem(torch.randn(1, 3, 6))


def fixed_batch_steps(model, inputs, labels, *, steps: int, lr: float, reseed: int | None = None) -> list[float]:
    """The model's own loss after each of ``steps`` Adam steps on one batch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        if reseed is not None:
            torch.manual_seed(reseed)
        loss = model.loss(model(inputs), labels)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


def test_tem_learns_a_fixed_batch(make_video):
    torch.manual_seed(0)
    tem = TEM(temporal_dim=16, tem_feat_dim=8, tem_hidden_dim=16)
    inputs = torch.randn(3, 8, 16)
    labels = [make_video("a", [[20.0, 60.0]]), make_video("b", [[5.0, 15.0], [70.0, 95.0]]),
              make_video("c", [[40.0, 100.0]])]
    # conv3_ratio 0.01 damps the last layer's gradient a hundredfold: a high rate to see it move
    losses = fixed_batch_steps(tem, inputs, labels, steps=20, lr=0.1)
    assert losses[-1] < 0.7 * losses[0], losses


def test_pem_learns_a_fixed_batch(make_video, with_proposals):
    torch.manual_seed(0)
    pem = PEM(pem_feat_dim=6, pem_hidden_dim=16, fc1_ratio=1.0, fc2_ratio=1.0)
    features = torch.randn(2, 30, 6)
    rng = np.random.default_rng(0)
    labels = []
    for _ in range(2):
        iou = rng.uniform(0, 1, 30)
        table = ProposalTable(iou, iou, iou, iou, iou, iou, iou)
        labels.append(with_proposals(make_video("v", [[1.0, 2.0]]), table))
    losses = fixed_batch_steps(pem, features, labels, steps=30, lr=1e-2, reseed=1)  # the same draw each step
    assert losses[-1] < 0.75 * losses[0], losses


def test_pem_proposals_score_confidence_times_boundaries_in_seconds(make_video, with_proposals):
    pem = PEM(pem_feat_dim=2, pem_hidden_dim=2, post_process_top_k=5)
    # 100 s, 1000 frames: whole 16-frame windows cover 992 frames = 99.2 s
    video = make_video("v", [[10.0, 20.0]], seconds=100.0, frames=1000, feature_frame=992)
    table = ProposalTable(tmin=np.array([0.1, 0.5]), tmax=np.array([0.2, 0.9]), tmin_score=np.array([0.5, 0.8]),
                          tmax_score=np.array([0.4, 0.5]), score=np.zeros(2), match_iou=np.zeros(2),
                          match_ioa=np.zeros(2))
    confidences = torch.tensor([[0.5, 0.25, 0.99]])  # the third row is padding
    rows = pem.proposals(confidences, [with_proposals(video, table)])[0]
    # scores .5 x .5 x .4 = .1 and .25 x .8 x .5 = .1: no overlap, so soft-NMS keeps both as they are
    assert rows.shape == (2, 3)
    np.testing.assert_allclose(sorted(rows[:, 2]), [0.1, 0.1])
    spans = sorted(map(tuple, rows[:, :2].round(6)))
    assert spans == [pytest.approx((9.92, 19.84)), pytest.approx((49.6, 89.28))]


def test_pem_on_data_without_proposals_says_which_data_it_needs(make_video):
    pem = PEM(pem_feat_dim=2, pem_hidden_dim=2)
    with pytest.raises(ConfigError, match="bsn_proposals"):
        pem.loss(torch.zeros(1, 3), [make_video("v", [[1.0, 2.0]])])
