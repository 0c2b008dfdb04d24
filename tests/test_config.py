"""Experiment files: structure, includes, overrides, errors with file and key path, round trip."""
from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from actioncore.config import dump_experiment, load_config
from actioncore.config.structure import ComponentSpec
from actioncore.errors import ConfigError, PluginError
from actioncore.plugin.host import PluginHost, use_host


@pytest.fixture
def host(echo_host) -> PluginHost:
    return echo_host


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


GOOD = """
    [task]
    type = "echo"
    [model.backbone]
    type = "toy3d"
    width = 4
    [model.head]
    type = "linear_head"
    in_channels = 8
    num_classes = 5
    [data]
    batch_size = 4
    [runtime]
    seed = 7
"""


def test_a_good_experiment_is_structured_with_defaults_filled(host, tmp_path):
    exp = load_config(write(tmp_path, "exp.toml", GOOD))
    assert exp.task == ComponentSpec("task", "echo", {"greeting": "hello"})
    assert exp.model.type == "sequential"
    backbone = exp.model.params["backbone"]
    assert backbone == ComponentSpec("backbone", "toy3d", {"width": 4, "in_channels": 3, "depth": 2,
                                                            "temporal_kernel": 3, "norm_eval": False})
    assert exp.data.batch_size == 4 and exp.data.workers == 4 and exp.runtime.seed == 7
    assert exp.runtime.work_dir == "work_dirs/exp"


def test_resolved_toml_loads_back_to_an_equal_experiment(host, tmp_path):
    exp = load_config(write(tmp_path, "exp.toml", GOOD), ["optim.betas=[0.8, 0.9]"])
    text = dump_experiment(exp)
    again = load_config(write(tmp_path, "again.toml", text))
    assert again == exp
    assert tomllib.loads(text)["optim"]["betas"] == [0.8, 0.9]


def test_includes_merge_in_order_relative_to_the_including_file(host, tmp_path):
    write(tmp_path, "base/runtime.toml", "[runtime]\nseed = 1\nlog_interval = 5\n[data]\nworkers = 1\n")
    write(tmp_path, "base/data.toml", "[data]\nworkers = 2\nbatch_size = 3\n")
    exp = load_config(write(tmp_path, "cfg/exp.toml", """
        include = ["../base/runtime.toml", "../base/data.toml"]
        [task]
        type = "echo"
        [runtime]
        seed = 9
    """))
    assert (exp.runtime.seed, exp.runtime.log_interval) == (9, 5)
    assert (exp.data.workers, exp.data.batch_size) == (2, 3)


def test_overrides_are_toml_typed(host, tmp_path):
    exp = load_config(write(tmp_path, "exp.toml", GOOD), [
        "data.batch_size=2", "model.backbone.depth=3", "runtime.work_dir=out/run 1",
        "runtime.deterministic=true", "schedule.milestones=[3, 6]",
        "model.head={type = 'linear_head', in_channels = 8, num_classes = 3}"])
    assert exp.data.batch_size == 2 and exp.model.params["backbone"].params["depth"] == 3
    assert exp.runtime.work_dir == "out/run 1" and exp.runtime.deterministic is True
    assert exp.schedule.milestones == [3, 6]
    assert exp.model.params["head"].params == {"in_channels": 8, "num_classes": 3, "dropout": 0.0}


def error_of(tmp_path, text, overrides=(), name="exp.toml") -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, name, text), overrides)
    return str(info.value)


def test_unknown_key_names_file_path_and_close_match(host, tmp_path):
    message = error_of(tmp_path, GOOD + "\n[optim]\nmomentun = 0.8\n")
    assert message.startswith(f"{tmp_path / 'exp.toml'}: optim.momentun: unknown key")
    assert "Did you mean 'momentum'?" in message


def test_unknown_key_in_a_component_table(host, tmp_path):
    message = error_of(tmp_path, GOOD.replace("width = 4", "widht = 4"))
    assert "model.backbone.widht: unknown key in backbone 'toy3d'. Did you mean 'width'?" in message


def test_wrong_type_gives_expected_and_got(host, tmp_path):
    message = error_of(tmp_path, GOOD.replace("width = 4", 'width = "fifty"'))
    assert message.endswith("model.backbone.width: expected int, got 'fifty'")
    assert "expected int, got bool True" in error_of(tmp_path, GOOD, ["data.workers=true"])
    assert "expected int, got '4'" in error_of(tmp_path, GOOD, ['data.batch_size="4"'])


def test_wrong_type_in_an_included_file_names_that_file(host, tmp_path):
    write(tmp_path, "base.toml", "[data]\nbatch_size = 'eight'\n")
    message = error_of(tmp_path, 'include = ["base.toml"]\n' + GOOD.replace("batch_size = 4", ""))
    assert message == f"{tmp_path / 'base.toml'}: data.batch_size: expected int, got 'eight'"


def test_unknown_type_lists_available_and_close_match(host, tmp_path):
    message = error_of(tmp_path, GOOD.replace('type = "toy3d"', 'type = "toy3D"'))
    assert "model.backbone.type: unknown backbone 'toy3D'. Did you mean 'toy3d'? Available backbones: " in message
    assert "toy3d" in message.split("Available backbones: ")[1]


def test_missing_required_field(host, tmp_path):
    message = error_of(tmp_path, GOOD.replace("num_classes = 5", ""))
    assert message.endswith("model.head.num_classes: missing required key (int)")


def test_several_problems_are_reported_together(host, tmp_path):
    message = error_of(tmp_path, GOOD.replace("width = 4", "width = 4.5").replace("seed = 7", "seed = 'x'"))
    assert message.splitlines()[0].startswith("2 problems in ")
    assert "model.backbone.width: expected int, got float 4.5" in message
    assert "runtime.seed: expected int, got 'x'" in message


def test_literal_and_list_items_have_paths(host, tmp_path):
    assert "data.on_error: expected one of 'raise', 'skip', got 'ignore'" in error_of(
        tmp_path, GOOD, ["data.on_error=ignore"])
    assert "schedule.milestones[1]: expected int, got 'x'" in error_of(
        tmp_path, GOOD, ["schedule.milestones=[1, 'x']"])
    assert "optim.betas: expected 2 values" in error_of(tmp_path, GOOD, ["optim.betas=[0.9]"])


def test_include_cycle_is_detected(host, tmp_path):
    write(tmp_path, "a.toml", 'include = ["b.toml"]\n')
    write(tmp_path, "b.toml", 'include = ["a.toml"]\n')
    with pytest.raises(ConfigError, match="include cycle: .*a.toml -> .*b.toml -> .*a.toml"):
        load_config(tmp_path / "a.toml")


def test_missing_include_and_malformed_toml(host, tmp_path):
    assert "include: file not found: nope.toml" in error_of(tmp_path, 'include = ["nope.toml"]\n')
    message = error_of(tmp_path, "[task\ntype = 1\n", name="bad.toml")
    assert message.startswith(f"{tmp_path / 'bad.toml'}: not valid TOML")


@pytest.mark.parametrize("override, complaint", [
    ("data.batch_size", "expected KEY=VALUE"),
    ("=4", "expected KEY=VALUE"),
    ("data..batch_size=4", "bad key path"),
    ("data.batch_size=[1,", "value is not valid TOML"),
    ("runtime.seed.x=1", "is not a table"),
])
def test_bad_set_syntax(host, tmp_path, override, complaint):
    message = error_of(tmp_path, GOOD, [override])
    assert message.startswith(f"--set {override}: ") and complaint in message


def test_value_set_by_override_is_blamed_on_the_override(host, tmp_path):
    assert error_of(tmp_path, GOOD, ["model.head.num_classes=many"]) == (
        "--set model.head.num_classes=many: model.head.num_classes: expected int, got 'many'")


def test_required_plugins_are_checked_with_install_hint(host, site_dir, tmp_path):
    with pytest.raises(PluginError, match=r"requires actioncore-nonexistent, which is not installed: "
                                          r"pip install actioncore-nonexistent"):
        load_config(write(tmp_path, "exp.toml", '[plugins]\nrequire = ["actioncore-nonexistent"]\n' + GOOD))
    with pytest.raises(PluginError, match=r"requires actioncore-toy3d>=5, but actioncore-toy3d 0.1.0 is installed"):
        load_config(write(tmp_path, "exp.toml", '[plugins]\nrequire = ["actioncore-toy3d>=5"]\n' + GOOD))
    assert "is not a requirement" in error_of(tmp_path, '[plugins]\nrequire = ["??"]\n' + GOOD)
    exp = load_config(write(tmp_path, "exp.toml", '[plugins]\nrequire = ["actioncore-toy3d>=0.1"]\n' + GOOD))
    assert exp.plugins.require == ["actioncore-toy3d>=0.1"]


def test_required_plugin_that_failed_reports_the_recorded_error(broken_site, tmp_path):
    with use_host(PluginHost()):
        with pytest.raises(PluginError, match="acme-import-error.*no module named acme_native"):
            load_config(write(tmp_path, "exp.toml", '[plugins]\nrequire = ["acme-import-error"]\n' + GOOD))


def test_integer_keyed_tables_read_string_keys(host):
    from actioncore.config.structure import make_converter

    conv = make_converter(host.registry)
    assert conv.structure({"86": 87, "87": 86}, dict[int, int]) == {86: 87, 87: 86}
    with pytest.raises(Exception) as info:
        conv.structure({"left": 1}, dict[int, int])
    from actioncore.config.structure import iter_errors

    assert list(iter_errors(info.value)) == [(("left",), "expected int, got 'left'")]
