"""Every scaffolded kind runs inside a real experiment: one training epoch on the tiny embedded set.

A component that only passes its own unit test can still fail the way the kernel calls it (a
transform gets a VideoSample, a head ``num_segs``, a metric NumPy arrays); these runs catch that.
"""
from __future__ import annotations

import importlib
import json
import textwrap

import pytest
from torch import nn

import actioncore

from actioncore.cli import main
from actioncore.plugin.host import PluginHost, use_host
from actioncore.plugin.scaffold import SUPPORTED_KINDS
from actioncore.testing import assert_component_contract, tiny_run_toml

PIPELINE = """[
  {{type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 1, test_mode = {test}}},{reverse}
  {{type = "decode"}},
  {{type = "resize", scale = [16, 16], keep_ratio = false}},
  {{type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]}},
  {{type = "format_shape", input_format = "{layout}"}},
]"""


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """A host with the in-repo plugins and one scaffolded plugin of every kind (``run-KIND``,
    dashes in the name), registered as their entry points would be."""
    parent = tmp_path_factory.mktemp("scaffolds")
    host = PluginHost()
    with pytest.MonkeyPatch.context() as patch:
        for kind in SUPPORTED_KINDS:
            assert main(["plugin", "new", f"run-{kind}", "--kind", kind, "--out", str(parent)]) == 0
            root = parent / f"actioncore-run-{kind}"
            patch.syspath_prepend(str(root))
            host.register(importlib.import_module(f"actioncore_run_{kind}.hooks"),
                          distribution=f"actioncore-run-{kind}")
        host.register(FrameConvPlugin(), distribution="frame-conv-test")
        with use_host(host):
            yield host


class FrameConv(nn.Sequential):
    """The smallest 2D backbone: frames ``[N, 3, H, W]`` -> ``[N, width, H, W]``."""

    def __init__(self, *, width: int = 8):
        super().__init__(nn.Conv2d(3, width, kernel_size=3, padding=1), nn.ReLU())


class FrameConvPlugin:
    @staticmethod
    @actioncore.hookimpl
    def actioncore_backbones():
        return {"frame_conv": FrameConv}


def experiment(folder, data, *, model: str, layout: str) -> str:
    def split(name: str, train: bool) -> str:
        pipeline = PIPELINE.format(test="false" if train else "true", layout=layout,
                                   reverse='\n  {type = "run_transform", ratio = 1.0},' if train else "")
        return f'[data.{name}]\ntype = "video_list"\nann_file = "{data / f"{name}.txt"}"\n' \
               f'root = "{data / "videos"}"\npipeline = {pipeline}\n'

    path = folder / "exp.toml"
    path.write_text(textwrap.dedent("""
        [task]
        type = "recognition"
        [[task.metrics]]
        type = "top_k_accuracy"
        topk = [1]
        [[task.metrics]]
        type = "run_metric"
    """) + textwrap.dedent(model) + tiny_run_toml(folder / "wd") + split("train", True) + split("val", False))
    return str(path)


# 3D: every scaffolded kind in one run (head called per view); 2D: the head gets num_segs
MODELS = {
    "3d": ("NCTHW", "recognizer3d", 'type = "run_backbone"\nwidth = 8\n[model.neck]\ntype = "run_neck"'),
    "2d": ("NCHW", "recognizer2d", 'type = "frame_conv"'),
}


@pytest.mark.parametrize("dims", MODELS)
def test_scaffolded_components_train_inside_a_real_experiment(scaffolded, tiny_data, tmp_path, capsys, dims):
    layout, model, backbone = MODELS[dims]
    path = experiment(tmp_path, tiny_data, layout=layout, model=f"""
[model]
type = "{model}"
[model.backbone]
{backbone}
[model.head]
type = "run_head"
in_channels = 8
num_classes = 12
""")
    assert main(["run", path, "--json"]) == 0, capsys.readouterr().err[-2000:]
    metrics = json.loads(capsys.readouterr().out)
    # the scaffolded metric is top-1 accuracy, computed from the same NumPy arrays
    assert 0.0 <= metrics["run_metric_accuracy"] <= 1.0
    assert metrics["run_metric_accuracy"] == pytest.approx(metrics["top1"])
    events = [json.loads(line) for line in (tmp_path / "wd" / "log.jsonl").read_text().splitlines()]
    assert [e["status"] for e in events if e["event"] == "run_end"] == ["finished"]
    assert sum(e["event"] == "train" for e in events) == 6  # 48 clips, batches of 8, logged every iteration


def test_a_parameter_without_annotation_fails_the_scaffold_contract(tmp_path, monkeypatch):
    assert main(["plugin", "new", "loose", "--kind", "metric", "--out", str(tmp_path)]) == 0
    component = tmp_path / "actioncore-loose" / "actioncore_loose" / "component.py"
    component.write_text(component.read_text().replace('name: str = "loose_accuracy"',
                                                       'name: str = "loose_accuracy", digits=3'))
    monkeypatch.syspath_prepend(str(component.parents[1]))
    host = PluginHost(autoload=False)
    host.register(importlib.import_module("actioncore_loose.hooks"), distribution="actioncore-loose")
    with use_host(host), pytest.raises(AssertionError, match=r"without a type annotation: \['digits'\]"):
        assert_component_contract(host, "metric", "loose", {})
