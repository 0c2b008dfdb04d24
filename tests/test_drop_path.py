"""Stochastic depth (sdk.layers.DropPath): whole samples dropped, the kept ones rescaled."""
import pytest
import torch

from actioncore.sdk.layers import DropPath, linear_drop_path_rates


def test_drop_path_zeroes_whole_samples_and_keeps_the_expectation():
    torch.manual_seed(0)
    layer = DropPath(0.25).train()
    out = layer(torch.ones(4000, 3, 5))
    per_sample = out.flatten(1)
    values = per_sample.unique()
    assert len(values) == 2 and values[0] == 0 and values[1].item() == pytest.approx(1 / 0.75)
    assert torch.all(per_sample.min(1).values == per_sample.max(1).values)  # a sample is all kept or all dropped
    assert (per_sample[:, 0] == 0).float().mean().item() == pytest.approx(0.25, abs=0.03)
    assert out.mean().item() == pytest.approx(1.0, abs=0.05)


def test_drop_path_is_the_identity_in_eval_and_at_zero():
    x = torch.randn(3, 4)
    assert DropPath(0.5).eval()(x) is x
    assert DropPath(0.0).train()(x) is x
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        DropPath(1.0)


def test_linear_rates_rise_from_zero_to_the_rate():
    assert linear_drop_path_rates(0.3, 4) == pytest.approx([0.0, 0.1, 0.2, 0.3])
    with torch.device("meta"):  # full-size models are built on the meta device
        assert linear_drop_path_rates(0.2, 3) == pytest.approx([0.0, 0.1, 0.2])
