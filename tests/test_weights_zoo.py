"""The model zoo: weights entries are validated data, registered by plugins, listed by the CLI."""
from __future__ import annotations

import json
import re
import sys
import textwrap
import types

import pytest

import actioncore
from actioncore.cli import main
from actioncore.errors import ConfigError
from actioncore.plugin.host import PluginHost, current_host
from actioncore.sdk.weights import WeightsEntry, class_names, weights_from_package
from importlib import resources

GOOD = dict(name="toy_k400", architecture="TSN", task="recognition", dataset="kinetics400",
            url="https://example.org/toy_20220906-cd10898e.pth", hash_prefix="cd10898e",
            source_format="mmaction2-1.x", package="actioncore_tsn",
            experiment="examples/tsn_r50_1x1x3_100e_kinetics400_rgb.toml")


def test_a_good_entry_keeps_its_data():
    entry = WeightsEntry(**GOOD, metrics={"top1": 0.7283}, preprocessing={"mean": [1, 2, 3]})
    assert entry.to_dict()["metrics"] == {"top1": 0.7283}
    assert entry.to_dict()["preprocessing"]["mean"] == [1, 2, 3]


@pytest.mark.parametrize("change,message", [
    ({"url": "http://example.org/x.pth"}, "url must be https"),
    ({"hash_prefix": "CD10898E"}, "hash_prefix must be"),
    ({"hash_prefix": "", "sha256": ""}, "needs sha256 or hash_prefix"),
    ({"sha256": "ab" * 32}, "hash_prefix is not a prefix of sha256"),
    ({"sha256": "ab" * 31}, "sha256 must be 64"),
    ({"source_format": "mmaction2"}, "source_format must be one of"),
    ({"task": "segmentation"}, "task must be one of"),
    ({"name": "has space"}, "name must be"),
    ({"experiment": ""}, "'fits' must say why"),
])
def test_bad_entries_are_refused_naming_the_entry(change, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        WeightsEntry(**{**GOOD, **change})
    assert "weights '" in str(caught.value)


def _package(tmp_path, monkeypatch, name, text):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "weights.toml").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


ENTRY = """
[[weights]]
name = "a"
architecture = "TSN"
task = "recognition"
dataset = "ucf101"
url = "https://example.org/a-0123abcd.pth"
hash_prefix = "0123abcd"
source_format = "torchvision"
fits = "no example yet"
[weights.preprocessing]
input_size = 112
"""


def test_weights_from_package_reads_entries(tmp_path, monkeypatch):
    package = _package(tmp_path, monkeypatch, "zoo_ok", ENTRY)
    entries = weights_from_package(package)
    assert list(entries) == ["a"]
    assert entries["a"].package == "zoo_ok" and entries["a"].preprocessing.input_size == 112


@pytest.mark.parametrize("text,message", [
    (ENTRY + ENTRY, "weights 'a' is listed twice"),
    (ENTRY.replace('hash_prefix = "0123abcd"', 'hash_prefix = "xyz"'), "hash_prefix must be"),
    (ENTRY.replace('fits = "no example yet"', 'colour = "red"'), "unexpected keyword argument 'colour'"),
    ("[[weights]\n", "cannot read the weights file"),
])
def test_bad_files_name_the_package_file(tmp_path, monkeypatch, text, message):
    package = _package(tmp_path, monkeypatch, f"zoo_bad_{abs(hash(text)) % 10**6}", text)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        weights_from_package(package)
    assert f"{package}/weights.toml" in str(caught.value)


def test_a_hook_returning_something_else_fails_its_plugin_only():
    plugin = types.ModuleType("bad_zoo")
    plugin.actioncore_weights = actioncore.hookimpl(lambda: {"x": {"url": "https://x"}})
    renamed = types.ModuleType("renamed_zoo")
    renamed.actioncore_weights = actioncore.hookimpl(lambda: {"other": WeightsEntry(**GOOD)})
    host = PluginHost(autoload=False)
    host.register(plugin, distribution="bad-zoo")
    host.register(renamed, distribution="renamed-zoo")
    failures = {f.distribution: f.error for f in host.registry.failures}
    assert "WeightsEntry" in failures["bad-zoo"] and "'x' is a dict" in failures["bad-zoo"]
    assert "'other'" in failures["renamed-zoo"]
    assert host.registry.names("weights") == []


def _registered():
    return [(c.factory, c.distribution) for c in current_host().registry.items("weights")]


def test_every_registered_entry_resolves_to_shipped_files():
    entries = _registered()
    assert len(entries) >= 100
    lists = {}
    for entry, distribution in entries:
        if entry.experiment:
            assert resources.files(entry.package).joinpath(entry.experiment).is_file(), (distribution, entry.name)
        else:
            assert entry.fits, entry.name
        if entry.source_format.startswith("mmaction2"):
            assert entry.url.endswith(f"-{entry.hash_prefix}.pth"), entry.name
        if entry.classes:
            names = lists.setdefault(entry.classes, class_names(entry.classes))
            background = 1 if entry.task == "detection" else 0  # AVA heads have a background class
            assert entry.num_classes in (None, len(names) + background), (entry.name, entry.classes)


def test_each_model_plugin_registers_its_checkpoints():
    by_distribution = {}
    for entry, distribution in _registered():
        by_distribution.setdefault(distribution, []).append(entry)
    counts = {d: len(e) for d, e in by_distribution.items()}
    for distribution in ("actioncore-tsn", "actioncore-tsm", "actioncore-resnet3d", "actioncore-slowfast",
                         "actioncore-x3d", "actioncore-timesformer", "actioncore-stgcn", "actioncore-posec3d",
                         "actioncore-bmn", "actioncore-bsn", "actioncore-ava-detector", "actioncore-torchvision-video",
                         "actioncore-swin", "actioncore-mvit", "actioncore-tpn", "actioncore-audio"):
        assert counts.get(distribution, 0) >= 1, counts
    tsn = {e.name: e for e in by_distribution["actioncore-tsn"]}
    exact = tsn["tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb"]
    assert exact.experiment == "examples/tsn_r50_1x1x3_100e_kinetics400_rgb.toml" and exact.overrides == ()
    assert exact.hash_prefix == "cd10898e" and exact.metrics == {"top1": 0.7283, "top5": 0.9065}
    assert exact.preprocessing.mean == (123.675, 116.28, 103.53) and exact.preprocessing.input_size == 224
    sthv2 = tsn["tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb"]
    assert sthv2.overrides == ("model.head.num_classes=174",) and sthv2.classes == "sthv2"
    assert not any("swin" in name for name in tsn)  # timm's 2D Swin: an architecture we do not build
    assert any("dense161" in name for name in tsn)  # torchvision's DenseNet-161 (torchvision_2d)


def test_weights_list_json_and_task_filter(capsys):
    assert main(["weights", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["cached"] for r in rows} == {"no"}
    tsn = next(r for r in rows if r["name"] == "tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb")
    assert tsn["top1"] == 0.7283 and tsn["dataset"] == "kinetics400" and tsn["architecture"] == "TSN"
    assert tsn["experiment"] == "actioncore_tsn/examples/tsn_r50_1x1x3_100e_kinetics400_rgb.toml"
    assert tsn["overrides"] == []
    assert all(r["experiment"] for r in rows)  # every entry of the zoo has an experiment
    assert main(["weights", "list", "--task", "localization", "--json"]) == 0
    names = sorted(r["name"] for r in json.loads(capsys.readouterr().out))
    assert names == ["bmn_2xb8-400x100-9e_activitynet-feature", "bsn_400x100_1xb16_20e_activitynet_feature_pem",
                     "bsn_400x100_1xb16_20e_activitynet_feature_tem"]
    assert main(["weights", "list", "--task", "segmentation"]) == 2
    assert "recognition, skeleton" in capsys.readouterr().err


def test_weights_list_table(capsys):
    assert main(["weights", "list", "--task", "localization"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "architecture", "dataset", "top1", "size", "cached", "experiment"]
    assert lines[-1] == "3 checkpoint(s)"
    bmn = next(line for line in lines if line.startswith("bmn_"))
    assert bmn.endswith("  bmn_400x100_2x8_9e_activitynet_feature.toml")


def test_weights_show(capsys):
    name = "x3d_m_16x5x1_facebook-kinetics400-rgb"
    assert main(["weights", "show", name, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == name and shown["distribution"] == "actioncore-x3d"
    assert shown["url"].endswith("_20201027-3f42382a.pth") and shown["metrics"] == {"top1": 0.764}
    assert main(["weights", "show", name]) == 0
    assert "hash_prefix:     3f42382a" in capsys.readouterr().out


def test_unknown_weights_exit_2_with_close_matches(capsys):
    assert main(["weights", "show", "tsn_r50_k400"]) == 2
    err = capsys.readouterr().err
    assert "unknown weights 'tsn_r50_k400'" in err and "tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb" in err


def test_components_lists_the_weights_kind(capsys):
    assert main(["components", "weights", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert any(row["name"] == "bmn_2xb8-400x100-9e_activitynet-feature" and row["distribution"] == "actioncore-bmn"
               for row in table["weights"])
