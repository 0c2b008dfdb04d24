import pytest
import torch

from actioncore.testing import assert_component_contract

pytestmark = pytest.mark.actioncore_plugins("actioncore_toy3d.hooks")


def test_the_fixture_registers_exactly_this_plugin(actioncore_host):
    assert list(actioncore_host.distributions()) == ["actioncore", "actioncore-toy3d"]


def test_backbone_contract_and_shapes(actioncore_host):
    backbone = assert_component_contract(actioncore_host, "backbone", "toy3d", "width = 4\ndepth = 3")
    out = backbone(torch.zeros(2, 3, 4, 32, 32))
    assert out.shape == (2, 16, 4, 8, 8)
    assert backbone.out_channels == 16


def test_head_contract_and_shapes(actioncore_host):
    head = assert_component_contract(actioncore_host, "head", "linear_head",
                                     {"in_channels": 16, "num_classes": 7, "dropout": 0.5})
    assert head(torch.zeros(2, 16, 4, 8, 8)).shape == (2, 7)


def test_norm_eval_keeps_batchnorm_statistics_frozen(actioncore_host):
    backbone = assert_component_contract(actioncore_host, "backbone", "toy3d", {"width": 2, "norm_eval": True})
    backbone.train()
    norms = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm3d)]
    assert norms and not any(m.training for m in norms)
    before = norms[0].running_mean.clone()
    backbone(torch.randn(2, 3, 2, 8, 8) + 5)
    assert torch.equal(norms[0].running_mean, before)


def test_bad_parameters_are_rejected(actioncore_host):
    with pytest.raises(AssertionError, match="depth"):
        assert_component_contract(actioncore_host, "backbone", "toy3d", {"depth": "two"})
