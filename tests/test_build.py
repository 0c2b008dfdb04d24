"""Building components and models from tables, specs, and Python objects."""
from __future__ import annotations

import pytest
import torch

import actioncore
from actioncore.config.structure import ComponentSpec
from actioncore.errors import ConfigError, PluginError
from actioncore.plugin.host import PluginHost, use_host


@pytest.fixture(autouse=True)
def toy_host():
    host = PluginHost(autoload=False)
    host.register("actioncore_toy3d.hooks")
    with use_host(host):
        yield host


def test_build_checks_parameters_like_a_toml_table():
    backbone = actioncore.build("backbone", "toy3d", width=4, depth=3)
    assert backbone.out_channels == 16
    with pytest.raises(ConfigError, match=r"backbone.width: expected int, got 'four'"):
        actioncore.build("backbone", "toy3d", width="four")
    with pytest.raises(ConfigError, match=r"backbone.widht: unknown key .*Did you mean 'width'"):
        actioncore.build("backbone", "toy3d", widht=4)
    with pytest.raises(ConfigError, match=r"backbone.type: unknown backbone 'toy2d'"):
        actioncore.build("backbone", "toy2d")


def test_factory_value_errors_name_the_component():
    with pytest.raises(ConfigError, match=r"backbone: building backbone 'toy3d' \(from actioncore-toy3d\) "
                                          r"failed: ValueError: depth must be at least 1, got 0"):
        actioncore.build("backbone", "toy3d", depth=0)


def test_build_model_from_a_table_composes_backbone_and_head():
    model = actioncore.build_model({"backbone": {"type": "toy3d", "width": 4},
                                    "head": {"type": "linear_head", "in_channels": 8, "num_classes": 3}})
    assert type(model).__name__ == "Sequential"
    assert model(torch.zeros(2, 3, 4, 16, 16)).shape == (2, 3)
    with pytest.raises(ConfigError, match="model.head.num_classes: missing required key"):
        actioncore.build_model({"backbone": "toy3d", "head": {"type": "linear_head", "in_channels": 8}})


def test_build_model_from_python_objects():
    backbone = actioncore.build("backbone", "toy3d", width=2, depth=1)
    head = actioncore.build("head", "linear_head", in_channels=2, num_classes=4)
    model = actioncore.build("model", "sequential", backbone=backbone, head=head)
    assert model.backbone is backbone and model.head is head
    assert model(torch.zeros(1, 3, 2, 8, 8)).shape == (1, 4)


def test_build_model_from_spec_and_experiment(tmp_path, toy_host):
    spec = ComponentSpec("model", "sequential", {
        "backbone": ComponentSpec("backbone", "toy3d", {"width": 2, "depth": 1}),
        "head": ComponentSpec("head", "linear_head", {"in_channels": 2, "num_classes": 2})})
    assert actioncore.build_model(spec).head.fc.out_features == 2


def test_components_and_plugins_describe_sources():
    kinds = {(c.kind, c.name): c.distribution for c in actioncore.components()}
    assert {k: d for k, d in kinds.items() if d != "actioncore"} == {
        ("backbone", "toy3d"): "actioncore-toy3d", ("head", "linear_head"): "actioncore-toy3d"}
    assert kinds[("model", "sequential")] == kinds[("decoder", "pyav")] == kinds[("transform", "decode")] == "actioncore"
    assert [c.name for c in actioncore.components("head")] == ["linear_head"]
    assert [p["name"] for p in actioncore.plugins()["plugins"]] == [
        "actioncore.builtin.hooks", "actioncore.builtin.loggers", "actioncore_toy3d.hooks"]
    with pytest.raises(PluginError):
        actioncore.components("heads")
