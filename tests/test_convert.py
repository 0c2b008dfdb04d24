"""``actioncore convert mmaction2``: renamed keys, strict fit, weights-only reading."""
from __future__ import annotations

import json

import pytest
import torch

import actioncore
from actioncore.cli import main
from actioncore.engine.checkpoint import load_checkpoint
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[1] / "examples/quickstart.toml"


def mmaction2_checkpoint(path, model, *, drop=None):
    state = {("cls_head." + k[5:] if k.startswith("head.") else k): v for k, v in model.state_dict().items()}
    state["data_preprocessor.mean"] = torch.zeros(3, 1, 1)
    if drop:
        del state[drop]
    import numpy as np

    torch.save({"meta": {"epoch": np.int64(3), "hist": np.arange(3.0)}, "state_dict": state}, path)


def test_converted_checkpoint_gives_the_same_outputs(tmp_path, capsys):
    model = actioncore.build_model(actioncore.load_config(QUICKSTART)).eval()
    mmaction2_checkpoint(tmp_path / "mm.pth", model)
    assert main(["convert", "mmaction2", str(tmp_path / "mm.pth"), str(tmp_path / "ours.pth"),
                 "--config", str(QUICKSTART), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parameters"] == 11_182_668
    fresh = actioncore.build_model(actioncore.load_config(QUICKSTART)).eval()
    fresh.load_state_dict(load_checkpoint(tmp_path / "ours.pth")["model"])
    x = torch.randn(2, 2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(fresh(x), model(x))


def test_a_checkpoint_that_does_not_fit_names_the_file_and_keys(tmp_path, capsys):
    model = actioncore.build_model(actioncore.load_config(QUICKSTART))
    mmaction2_checkpoint(tmp_path / "mm.pth", model, drop="cls_head.fc_cls.bias")
    assert main(["convert", "mmaction2", str(tmp_path / "mm.pth"), str(tmp_path / "o.pth"), "--config", str(QUICKSTART)]) == 2
    err = capsys.readouterr().err
    assert "mm.pth: does not fit the experiment's model: 1 missing (e.g. ['head.fc_cls.bias'])" in err


def test_pickled_code_is_refused(tmp_path, capsys):
    torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": pytest.approx}, tmp_path / "evil.pth")
    assert main(["convert", "mmaction2", str(tmp_path / "evil.pth"), str(tmp_path / "o.pth"), "--config", str(QUICKSTART)]) == 2
    err = capsys.readouterr().err
    assert "evil.pth: refused to load: it holds pickled objects besides tensors and plain data" in err
    assert "weights_only" not in err


def test_default_composition_runs_each_parts_own_conversion():
    from torch import nn

    from actioncore.builtin.models import Sequential
    from actioncore.weights.mmaction2 import convert_state

    class Renaming(nn.Linear):
        @staticmethod
        def from_mmaction2(state):  # a part whose MMAction2 names differ from ours
            return {k.replace("w", "weight"): v for k, v in state.items()}

    model = Sequential(backbone=Renaming(2, 2, bias=False), head=nn.Linear(2, 1))
    state = {"backbone.w": torch.ones(2, 2), "cls_head.weight": torch.zeros(1, 2), "cls_head.bias": torch.zeros(1)}
    assert sorted(convert_state(model, state)) == ["backbone.weight", "head.bias", "head.weight"]


def test_backbone_weights_takes_a_recognizers_backbone_or_a_bare_state_dict():
    from actioncore.weights.files import backbone_weights

    w = torch.zeros(2)
    recognizer = {"backbone.conv.weight": w, "head.fc.weight": w, "data_preprocessor.mean": w}
    assert backbone_weights(recognizer) == {"conv.weight": w}
    assert backbone_weights({"module.backbone.conv.weight": w, "module.head.fc.weight": w}) == {"conv.weight": w}
    assert backbone_weights({"conv.weight": w, "bn.bias": w}) == {"conv.weight": w, "bn.bias": w}
