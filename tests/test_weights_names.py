"""Zoo names wherever a checkpoint goes: converted on first use, then --weights, pretrained, init,
actioncore.load_pretrained (actioncore.weights.resolve, .init, .named)."""
from __future__ import annotations

import json
import logging
import textwrap
import types

import attrs
import pytest
import torch

import actioncore
from actioncore.cli import main
from actioncore.errors import CheckpointError, ConfigError
from actioncore.plugin.host import PluginHost, use_host
from actioncore.sdk.weights import PretrainedMixin, WeightsEntry, class_names
from actioncore.weights import cache, resolve
from actioncore.weights.download import file_sha256
from actioncore.weights.resolve import named_weights
from actioncore_toy3d import Toy3D

PIPELINE = """[
  {type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 1, test_mode = true},
  {type = "decode"},
  {type = "resize", scale = [16, 16], keep_ratio = false},
  {type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]},
  {type = "format_shape", input_format = "NCTHW"},
]"""
CLASSES = "diving48"
NUM_CLASSES = 48


class PretrainedToy3D(Toy3D, PretrainedMixin):
    """toy3d that takes a ``pretrained`` file or zoo name, as the real backbones do."""

    def __init__(self, *, width: int = 4, depth: int = 2, pretrained: str | None = None):
        super().__init__(width=width, depth=depth)
        self.pretrained = pretrained


def model_toml(*, num_classes: int = NUM_CLASSES, width: int = 4, backbone: str = "", init: str = "") -> str:
    return textwrap.dedent(f"""
        [task]
        type = "recognition"
        [model]
        type = "recognizer3d"
        {f'init = "{init}"' if init else ""}
        [model.backbone]
        type = "pretrained_toy3d"
        width = {width}
        {backbone}
        [model.head]
        type = "linear_head"
        in_channels = {2 * width}
        num_classes = {num_classes}
        """)


def experiment_toml(root, **model) -> str:
    return model_toml(**model) + textwrap.dedent(f"""
        [data]
        batch_size = 2
        workers = 0
        [data.test]
        type = "video_list"
        ann_file = "{root / 'test.txt'}"
        root = "{root / 'videos'}"
        pipeline = {PIPELINE}
        [runtime]
        device = "cpu"
        """)


def entry(name: str, **fields) -> WeightsEntry:
    defaults = dict(architecture="toy3d", task="recognition", dataset=CLASSES, classes=CLASSES,
                    num_classes=NUM_CLASSES, url=f"http://127.0.0.1:9/zoo/{name}_20240101-0123abcd.pth",
                    hash_prefix="0123abcd", source_format="mmaction2-1.x", package="names_zoo",
                    experiment="examples/tiny.toml")
    return WeightsEntry(name=name, **{**defaults, **fields})


ENTRIES = [entry("toy_mm"), entry("toy_ours", source_format="actioncore"),
           entry("toy_wide", overrides=("model.backbone.width=8", "model.head.in_channels=16")),
           entry("toy_nofit", experiment="", package="", fits="no example builds this model yet")]


@pytest.fixture
def zoo(tmp_path, monkeypatch, tiny_data):
    """A host with the in-repo plugins and a zoo plugin (package ``names_zoo`` with its example
    experiment), an offline cache under tmp, and the source files put into it by hand."""
    package = tmp_path / "pkgs" / "names_zoo"
    (package / "examples").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "examples" / "tiny.toml").write_text(experiment_toml(tiny_data))
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    monkeypatch.setenv("ACTIONCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ACTIONCORE_OFFLINE", "1")
    backbones = types.ModuleType("names_zoo_backbones")
    backbones.actioncore_backbones = actioncore.hookimpl(lambda: {"pretrained_toy3d": PretrainedToy3D})
    with use_host(PluginHost()) as host:
        assert host.register(backbones, distribution="names-zoo", version="1.0") is not None, host.registry.failures
        sources, hashes = {}, {}
        for e in ENTRIES[:3]:
            torch.manual_seed(len(e.name))
            width = 8 if e.name == "toy_wide" else 4
            model = actioncore.build_model(actioncore.load_config(package / "examples" / "tiny.toml",
                                                                  e.overrides)).state_dict()
            state = {k: (torch.rand_like(v) + 0.5 if k.endswith("running_var") else torch.randn_like(v))
                     if v.is_floating_point() else v for k, v in model.items()}
            assert state["head.fc.weight"].shape == (NUM_CLASSES, 2 * width)
            if e.source_format == "actioncore":
                saved = {"format": "actioncore-checkpoint", "format_version": 1, "model": state}
            else:  # MMAction2 1.x: mmengine's state_dict, cls_head, a meta with plain data
                saved = {"meta": {"mmengine_version": "0.10.4"},
                         "state_dict": {k.replace("head.", "cls_head.", 1) if k.startswith("head.") else k: v
                                        for k, v in state.items()}}
            path = cache.cached_file(e)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(saved, path)
            sources[e.name] = state
            hashes[e.name] = file_sha256(path)
        # the entries carry the hand-placed files' own hashes: a cached file is verified on first use
        verified = {e.name: attrs.evolve(e, hash_prefix="", sha256=hashes[e.name]) if e.name in hashes else e
                    for e in ENTRIES}
        weights = types.ModuleType("names_zoo_weights")
        weights.actioncore_weights = actioncore.hookimpl(lambda: verified)
        assert host.register(weights, distribution="names-zoo-weights", version="1.0") is not None, \
            host.registry.failures
        yield types.SimpleNamespace(sources=sources, package=package, data=tiny_data, host=host)


@pytest.fixture
def video(tiny_data):
    return str(sorted((tiny_data / "videos").rglob("*.mp4"))[0])


def conversions(monkeypatch) -> list[str]:
    calls: list[str] = []
    convert = resolve.convert_checkpoint

    def counted(experiment, source, target, **kw):
        calls.append(str(target))
        return convert(experiment, source, target, **kw)

    monkeypatch.setattr(resolve, "convert_checkpoint", counted)
    return calls


def test_conversion_on_first_use_writes_the_converted_file_once(zoo, monkeypatch):
    calls = conversions(monkeypatch)
    path = named_weights("toy_mm")
    assert path == cache.converted_file(ENTRIES[0])
    assert path.parent.name == "converted" and path.name == "toy_mm.pth"
    stamp = path.stat().st_mtime_ns
    assert named_weights("toy_mm") == path and len(calls) == 1 and path.stat().st_mtime_ns == stamp
    saved = torch.load(path, weights_only=True)
    assert saved["format"] == "actioncore-checkpoint" and 'type = "recognizer3d"' in saved["experiment"]
    for key, value in zoo.sources["toy_mm"].items():  # cls_head.* came back as head.*
        torch.testing.assert_close(saved["model"][key], value)
    assert actioncore.load_config(zoo.package / "examples" / "tiny.toml").model.params["head"].params[
        "num_classes"] == NUM_CLASSES
    ours = named_weights("toy_ours")
    torch.testing.assert_close(torch.load(ours, weights_only=True)["model"]["head.fc.weight"],
                               zoo.sources["toy_ours"]["head.fc.weight"])


def test_a_process_that_waited_for_the_lock_finds_the_file_converted(zoo, monkeypatch):
    calls = conversions(monkeypatch)
    target = cache.converted_file(ENTRIES[0])
    fetch = resolve.fetch

    def fetch_while_another_process_converts(e, **kw):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"converted by the other process")
        return fetch(e, **kw)

    monkeypatch.setattr(resolve, "fetch", fetch_while_another_process_converts)
    assert named_weights("toy_mm") == target and calls == []
    assert target.read_bytes() == b"converted by the other process"


def test_infer_weights_name_without_an_experiment_prints_the_entrys_class_names(zoo, video, capsys):
    assert main(["infer", "--weights", "toy_mm", video, "--topk", "3", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    names = class_names(CLASSES)
    assert len(result["predictions"]) == 3
    assert all(p["name"] == names[p["label"]] for p in result["predictions"])
    assert main(["infer", "--weights", "toy_mm", video, "--topk", "1"]) == 0
    top = result["predictions"][0]
    assert capsys.readouterr().out.splitlines()[1].split() == [f"{top['score']:.3f}", str(top["label"]),
                                                               *names[top["label"]].split()]


def test_test_with_weights_name_equals_test_with_the_converted_checkpoint(zoo, tmp_path, capsys):
    exp = tmp_path / "exp.toml"
    exp.write_text(experiment_toml(zoo.data))
    assert main(["test", str(exp), "--weights", "toy_mm", "--json"]) == 0
    by_name = json.loads(capsys.readouterr().out)
    assert main(["test", str(exp), "--checkpoint", str(cache.converted_file(ENTRIES[0])), "--json"]) == 0
    assert by_name == json.loads(capsys.readouterr().out) and "top1" in by_name
    (tmp_path / "twelve.toml").write_text(experiment_toml(zoo.data, num_classes=12))
    assert main(["test", str(tmp_path / "twelve.toml"), "--weights", "toy_mm"]) == 2
    err = capsys.readouterr().err
    assert "weights 'toy_mm'" in err and "does not fit" in err and "head.fc.weight" in err


def test_pretrained_name_loads_the_backbone_tensors_of_the_source(zoo):
    model = actioncore.build_model({"type": "recognizer3d",
                                    "backbone": {"type": "pretrained_toy3d", "pretrained": "toy_mm"},
                                    "head": {"type": "linear_head", "in_channels": 8, "num_classes": 12}})
    source = zoo.sources["toy_mm"]
    own = model.state_dict()
    assert sum(k.startswith("backbone.") for k in own) >= 4
    for key in own:
        if key.startswith("backbone."):
            torch.testing.assert_close(own[key], source[key])
    with pytest.raises(ConfigError, match="^backbone.pretrained = 'toy_m': no such file.*Did you mean 'toy_mm'"):
        actioncore.build_model({"type": "recognizer3d",
                                "backbone": {"type": "pretrained_toy3d", "pretrained": "toy_m"},
                                "head": {"type": "linear_head", "in_channels": 8, "num_classes": 12}})


def test_init_name_fine_tunes_the_whole_model_with_a_fresh_head(zoo, tmp_path, caplog):
    torch.manual_seed(7)
    fresh = actioncore.build_model(actioncore.load_config(_write(tmp_path, "fresh.toml", model_toml(num_classes=12))))
    torch.manual_seed(7)
    with caplog.at_level(logging.INFO, logger="actioncore"):
        model = actioncore.build_model(actioncore.load_config(
            _write(tmp_path, "init.toml", model_toml(num_classes=12, init="toy_mm"))))
    source = zoo.sources["toy_mm"]
    for key, value in model.state_dict().items():
        if key.startswith("head."):
            torch.testing.assert_close(value, fresh.state_dict()[key])  # left at its initialisation
        else:
            torch.testing.assert_close(value, source[key])
    lines = [r.getMessage() for r in caplog.records if "model.init" in r.getMessage()]
    assert len(lines) == 1 and "head is left at its initialisation (48 classes in the weights, 12 in the model)" \
        in lines[0] and lines[0].endswith("head.fc.weight, head.fc.bias")
    # the same class count loads everything; a path works as a name does
    same = actioncore.build_model({"type": "recognizer3d", "init": str(named_weights("toy_mm")),
                                   "backbone": {"type": "pretrained_toy3d"},
                                   "head": {"type": "linear_head", "in_channels": 8, "num_classes": NUM_CLASSES}})
    torch.testing.assert_close(same.state_dict()["head.fc.weight"], source["head.fc.weight"])
    # anything but the head that does not fit is an error
    with pytest.raises(CheckpointError, match=r"init = 'toy_wide' does not fit the model: .*backbone\.layers"):
        actioncore.build_model(actioncore.load_config(_write(tmp_path, "w.toml", model_toml(init="toy_wide"))))


def _write(folder, name: str, text: str):
    (folder / name).write_text(text)
    return folder / name


def test_load_pretrained_gives_the_converted_model_its_transforms_and_classes(zoo, video):
    pretrained = actioncore.load_pretrained("toy_mm")
    assert not pretrained.model.training and pretrained.entry.name == "toy_mm"
    assert pretrained.classes == class_names(CLASSES) and len(pretrained.classes) == NUM_CLASSES
    inputs = pretrained.transforms(video)
    assert inputs.shape == (1, 1, 3, 4, 16, 16) and inputs.dtype == torch.float32
    converted = actioncore.build_model(pretrained.experiment).eval()
    converted.load_state_dict(torch.load(named_weights("toy_mm"), weights_only=True)["model"])
    with torch.no_grad():
        torch.testing.assert_close(pretrained.model(inputs), converted(inputs))
    (result,) = actioncore.infer(pretrained.experiment, pretrained.checkpoint, [video], topk=1)
    assert result["predictions"][0]["label"] == int(pretrained.model(inputs).argmax())


def test_unknown_names_list_close_matches(zoo, video, capsys):
    assert main(["infer", "--weights", "toy_mn", video]) == 2
    assert "unknown weights 'toy_mn'" in (err := capsys.readouterr().err) and "'toy_mm'" in err
    with pytest.raises(ConfigError, match="Did you mean 'toy_ours'"):
        actioncore.load_pretrained("toy_our")


def test_offline_without_a_cached_file_names_the_url_and_where_to_put_it(zoo, video, capsys):
    missing = cache.cached_file(ENTRIES[1])
    missing.unlink()
    assert main(["infer", "--weights", "toy_ours", video]) == 2
    err = capsys.readouterr().err
    assert ENTRIES[1].url in err and str(missing) in err and "ACTIONCORE_OFFLINE" in err
    assert not cache.converted_file(ENTRIES[1]).exists()


def test_an_entry_without_an_experiment_quotes_why(zoo, video, capsys):
    assert main(["infer", "--weights", "toy_nofit", video]) == 2
    assert "no example builds this model yet" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="weights 'toy_nofit' name no experiment"):
        named_weights("toy_nofit")


def test_infer_needs_a_checkpoint_or_weights_and_keeps_the_experiment_first_form(zoo, video, tmp_path, capsys):
    exp = _write(tmp_path, "exp.toml", experiment_toml(zoo.data))
    converted = str(named_weights("toy_mm"))
    assert main(["infer", str(exp), "--checkpoint", converted, video, "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)[0]["predictions"]
    assert "name" not in plain[0]  # this experiment names no classes
    assert main(["infer", str(exp), "--weights", "toy_mm", video, "--json"]) == 0
    named = json.loads(capsys.readouterr().out)[0]["predictions"]
    assert [p["label"] for p in named] == [p["label"] for p in plain] and named[0]["name"]
    with pytest.raises(SystemExit):
        main(["infer", str(exp), video])
    assert "--checkpoint" in capsys.readouterr().err
    assert main(["infer", str(exp), "--checkpoint", converted]) == 2
    assert "no INPUT" in capsys.readouterr().err
