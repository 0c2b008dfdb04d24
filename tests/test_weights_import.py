"""``actioncore weights download / list / show / import``: the cache as the commands show it, and a
user's own checkpoints as zoo entries."""
from __future__ import annotations

import hashlib
import json
import types

import pytest
import torch

import actioncore
from actioncore.cli import main
from actioncore.engine.checkpoint import save_checkpoint
from actioncore.errors import ConfigError
from actioncore.plugin.host import PluginHost, use_host
from actioncore.testing import tiny_recognizer_toml
from actioncore.weights.cache import converted_file
from actioncore.weights.catalog import find_weights, registered_weights
from actioncore.weights.files import load_into, read_weights
from actioncore.weights.download import fetch
from actioncore.weights.imported import catalog_file
from actioncore.weights.zoo import ImportedWeightsEntry, WeightsEntry, experiment_file

FILE = "served_20240101-0123abcd.pth"


@pytest.fixture
def served(weights_server, tmp_path):
    """The installed plugins plus a test plugin whose entry ``served`` is a tiny checkpoint on the
    loopback server."""
    torch.manual_seed(0)
    torch.save({"w": torch.randn(64, 64)}, weights_server.root / FILE)
    data = (weights_server.root / FILE).read_bytes()
    entry = WeightsEntry(name="served", architecture="toy3d", task="recognition", dataset="ucf101",
                         url=weights_server.url(FILE), sha256=hashlib.sha256(data).hexdigest(), file_size=len(data),
                         source_format="actioncore", fits="a test checkpoint")
    plugin = types.ModuleType("served_zoo")
    plugin.actioncore_weights = actioncore.hookimpl(lambda: {"served": entry})
    host = PluginHost()
    host.register(plugin, distribution="served-zoo")
    with use_host(host):
        yield entry


@pytest.fixture
def experiment(tmp_path):
    path = tmp_path / "exp" / "tiny.toml"
    path.parent.mkdir()
    path.write_text(tiny_recognizer_toml())
    return path


def tiny_model(experiment, seed: int = 1):
    torch.manual_seed(seed)
    return actioncore.build_model(actioncore.load_config(experiment))


def mmaction2_file(path, model):
    """``model``'s weights as MMAction2 1.x saves them (mmengine: ``state_dict`` + ``meta``, ``cls_head.``)."""
    state = {k.replace("head.", "cls_head.", 1) if k.startswith("head.") else k: v
             for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "meta": {"mmengine_version": "0.10.4", "epoch": 3}}, path)
    return path


def rows(capsys):
    assert main(["weights", "list", "--json"]) == 0
    return {r["name"]: r for r in json.loads(capsys.readouterr().out)}


def test_download_prints_the_path_and_list_and_show_say_cached(served, capsys, weights_server):
    assert rows(capsys)["served"]["cached"] == "no"
    assert main(["weights", "download", "served"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith(FILE) and "100%" in err
    listed = rows(capsys)
    assert listed["served"]["cached"] == "yes" and listed["served"]["distribution"] == "served-zoo"
    assert {r["cached"] for name, r in listed.items() if name != "served"} == {"no"}
    assert main(["weights", "download", "served", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith(FILE) and err == ""
    assert main(["weights", "show", "served", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["cached"] == "yes" and shown["file"] == out.strip()
    assert weights_server.count(FILE) == 1


def test_download_offline_exits_2_naming_url_and_path(served, capsys, monkeypatch, weights_server):
    monkeypatch.setenv("ACTIONCORE_OFFLINE", "1")
    assert main(["weights", "download", "served", "--json"]) == 2
    err = capsys.readouterr().err
    assert served.url in err and "put it at" in err and weights_server.requests == []


def test_import_an_mmaction2_checkpoint_and_find_it_by_name(served, experiment, tmp_path, capsys):
    model = tiny_model(experiment)
    source = mmaction2_file(tmp_path / "mine.pth", model)
    assert main(["weights", "import", str(source), "--name", "my_toy", "--config", str(experiment), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source_format"] == "mmaction2-1.x" and report["converted"] == str(converted_file(
        find_weights("my_toy")[0]))
    entry, distribution = find_weights("my_toy")
    assert distribution == "imported" and isinstance(entry, ImportedWeightsEntry)
    assert entry.experiment == str(experiment.resolve()) and entry.url == source.resolve().as_uri()
    assert entry.sha256 == hashlib.sha256(source.read_bytes()).hexdigest() and entry.file_size == source.stat().st_size
    assert entry.num_classes == 12 and entry.architecture == "toy3d" and entry.task == "recognition"
    fresh = tiny_model(experiment, seed=2)
    load_into(fresh, read_weights(converted_file(entry)), converted_file(entry))
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    assert experiment_file(entry) == experiment.resolve()
    listed = rows(capsys)
    assert listed["my_toy"]["cached"] == "yes" and listed["my_toy"]["distribution"] == "imported"
    assert fetch(entry, progress=False).read_bytes() == source.read_bytes()  # its source: the file:// URL
    assert [e.name for e, d in registered_weights() if d == "imported"] == ["my_toy"]


def test_import_our_checkpoint_and_a_second_name_keeps_the_first(served, experiment, tmp_path, capsys):
    model = tiny_model(experiment)
    ours = save_checkpoint(tmp_path / "ours.pth", {"model": model.state_dict()})
    mmaction2_file(tmp_path / "mm.pth", model)
    assert main(["weights", "import", str(ours), "--name", "ours", "--config", str(experiment)]) == 0
    assert "imported" in capsys.readouterr().out and find_weights("ours")[0].source_format == "actioncore"
    assert main(["weights", "import", str(tmp_path / "mm.pth"), "--name", "mm", "--config", str(experiment)]) == 0
    assert sorted(e.name for e, d in registered_weights() if d == "imported") == ["mm", "ours"]
    assert "[[weights]]" in catalog_file().read_text()


def test_importing_a_taken_name_needs_replace(served, experiment, tmp_path, capsys):
    model = tiny_model(experiment)
    source = mmaction2_file(tmp_path / "mine.pth", model)
    args = ["weights", "import", str(source), "--name", "mine", "--config", str(experiment)]
    assert main(args) == 0
    assert main(args) == 2
    assert "weights 'mine' were imported already: pass --replace" in capsys.readouterr().err
    mmaction2_file(source, tiny_model(experiment, seed=5))
    assert main(args + ["--replace"]) == 0
    assert find_weights("mine")[0].sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert main(["weights", "import", str(source), "--name", "served", "--config", str(experiment)]) == 2
    assert "weights 'served' are served-zoo's: choose another --name" in capsys.readouterr().err


@pytest.mark.parametrize("write,message", [
    (lambda p, m: p.write_bytes(b"not a checkpoint at all" * 10), "not a checkpoint"),
    (lambda p, m: torch.save({"fc.weight": torch.zeros(3, 3)}, p), "does not fit the experiment's model"),
    (lambda p, m: torch.save([torch.zeros(1)], p), "not a checkpoint: found a list"),
])
def test_a_corrupt_or_unknown_file_is_a_clear_error(served, experiment, tmp_path, capsys, write, message):
    source = tmp_path / "bad.pth"
    write(source, tiny_model(experiment))
    assert main(["weights", "import", str(source), "--name", "bad", "--config", str(experiment)]) == 2
    err = capsys.readouterr().err
    assert str(source) in err and message in err
    assert not catalog_file().exists()


def test_import_checks_the_class_list_against_the_head(served, experiment, tmp_path, capsys):
    source = mmaction2_file(tmp_path / "mine.pth", tiny_model(experiment))
    assert main(["weights", "import", str(source), "--name", "x", "--config", str(experiment),
                 "--classes", "ucf101"]) == 2
    assert "--classes ucf101: 101 classes, but the model's head has 12" in capsys.readouterr().err


def test_imported_entries_have_their_own_strict_rules():
    fields = dict(name="x", architecture="toy3d", task="recognition", dataset="custom", source_format="actioncore",
                  sha256="ab" * 32, experiment="/abs/exp.toml")
    ImportedWeightsEntry(url="file:///abs/x.pth", **fields)
    with pytest.raises(ConfigError, match="file:///"):
        ImportedWeightsEntry(url="https://example.org/x.pth", **fields)
    with pytest.raises(ConfigError, match="whole file's sha256"):
        ImportedWeightsEntry(url="file:///abs/x.pth", **{**fields, "sha256": "", "hash_prefix": "abababab"})
    with pytest.raises(ConfigError, match="absolute path"):
        ImportedWeightsEntry(url="file:///abs/x.pth", **{**fields, "experiment": "exp.toml"})
    with pytest.raises(ConfigError, match="url must be https"):  # plugin entries: no file:// URLs
        WeightsEntry(url="file:///abs/x.pth", **{**fields, "experiment": "", "fits": "none"})


def test_a_plugin_cannot_register_an_imported_entry():
    entry = ImportedWeightsEntry(name="x", architecture="toy3d", task="recognition", dataset="custom",
                                 source_format="actioncore", sha256="ab" * 32, experiment="/abs/exp.toml",
                                 url="file:///abs/x.pth")
    plugin = types.ModuleType("sneaky_zoo")
    plugin.actioncore_weights = actioncore.hookimpl(lambda: {"x": entry})
    host = PluginHost(autoload=False)
    host.register(plugin, distribution="sneaky-zoo")
    assert "only the user catalog holds those" in host.registry.failures[0].error
