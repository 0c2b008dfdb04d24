"""``runtime.compile``: training and evaluation through torch.compile, checkpoints unchanged."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from actioncore.config import load_config
from actioncore.engine.checkpoint import load_checkpoint
from actioncore.engine.compile import compile_model, cpp_compiler, frozen_weights
from actioncore.errors import ConfigError


def train_losses(work_dir: Path) -> list[float]:
    events = [json.loads(line) for line in (work_dir / "log.jsonl").read_text().splitlines()]
    return [e["loss"] for e in events if e["event"] == "train"]


needs_compiler = pytest.mark.skipif(cpp_compiler() is None,
                                    reason="torch.compile builds C++ kernels on the CPU: no compiler here")


@needs_compiler
def test_compiled_training_matches_eager_and_saves_the_plain_model(actioncore, experiment_file, tmp_path):
    runs = {}
    for name, extra in (("eager", ""), ("compiled", "[runtime]\ncompile = true\n")):
        exp = experiment_file(tmp_path / name, epochs=1, test=True)
        # no dropout: compiled code draws its random numbers differently, the rest is the same arithmetic
        text = exp.read_text().replace("dropout = 0.3", "dropout = 0.0")
        exp.write_text(text.replace("[runtime]\n", extra or "[runtime]\n", 1))
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / name / "inductor")}
        runs[name] = json.loads(actioncore("run", str(exp), "--json", env=env).stdout)
    assert load_config(tmp_path / "compiled/exp.toml").runtime.compile
    # Inductor generated and built kernels for the compiled run only
    assert any((tmp_path / "compiled/inductor").rglob("*.so")) and not any((tmp_path / "eager").rglob("*.so"))
    eager, compiled = (train_losses(tmp_path / f"{n}/wd") for n in ("eager", "compiled"))
    assert len(eager) == len(compiled) > 0
    assert all(abs(a - b) <= 1e-3 * max(1.0, abs(a)) for a, b in zip(eager, compiled)), (eager, compiled)
    assert abs(runs["eager"]["top1"] - runs["compiled"]["top1"]) <= 1 / 6  # within one of the tiny val clips
    keys = {n: set(load_checkpoint(tmp_path / f"{n}/wd/checkpoints/latest.pth")["model"]) for n in runs}
    assert keys["compiled"] == keys["eager"] and not any("_orig_mod" in k for k in keys["compiled"])

    # `actioncore test` of one checkpoint: compiled with frozen weights, the eager model's scores
    checkpoint = str(tmp_path / "compiled/wd/checkpoints/latest.pth")
    scores = {}
    for name in runs:
        out = tmp_path / f"{name}.json"
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / name / "inductor-test")}
        actioncore("test", str(tmp_path / f"{name}/exp.toml"), "--checkpoint", checkpoint, "--out", str(out), env=env)
        rows = sorted(json.loads(out.read_text())["samples"], key=lambda row: row["index"])
        scores[name] = torch.tensor([row["scores"] for row in rows])
    assert scores["eager"].shape[0] > 0
    torch.testing.assert_close(scores["compiled"], scores["eager"], atol=1e-4, rtol=1e-4)

    def frozen_code(cache: Path) -> bool:  # Inductor names the weights it froze into a graph _frozen_param<N>
        return any("_frozen_param" in f.read_text(errors="replace") for f in cache.rglob("*.py"))

    assert frozen_code(tmp_path / "compiled/inductor-test")
    assert not frozen_code(tmp_path / "compiled/inductor")  # the training run's validation was not frozen


@needs_compiler
def test_frozen_weights_are_baked_into_inference_graphs_and_training_graphs_follow_updates():
    from torch import nn

    torch._dynamo.reset()
    torch.manual_seed(0)

    def conv_bn_relu() -> nn.Module:
        return nn.Sequential(nn.Conv3d(3, 8, 3), nn.BatchNorm3d(8), nn.ReLU()).eval()

    x = torch.randn(1, 3, 4, 8, 8)
    frozen, live = conv_bn_relu(), conv_bn_relu()
    live.load_state_dict(frozen.state_dict())
    with torch.no_grad():
        eager = frozen(x)
    compile_model(frozen), compile_model(live)
    with torch.no_grad():
        with frozen_weights():  # `actioncore test`: the weights are loaded before and never change
            torch.testing.assert_close(frozen(x), eager, atol=1e-5, rtol=1e-5)
            frozen[0].weight.mul_(2)
            torch.testing.assert_close(frozen(x), eager, atol=1e-5, rtol=1e-5)  # the graph kept the first weights
        # a training run's validation compiles without freezing and sees every update
        torch.testing.assert_close(live(x), eager, atol=1e-5, rtol=1e-5)
        live[0].weight.mul_(2)
        assert (live(x) - eager).abs().max() > 0.1


def test_without_a_compiler_the_run_stops_naming_the_key(monkeypatch):
    from torch import nn

    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ConfigError, match=r"runtime\.compile.*no C\+\+ compiler"):
        compile_model(nn.Linear(2, 2))


def test_frozen_weights_sets_freezing_only_when_enabled_and_restores_it():
    import torch._dynamo.config as dynamo_config
    import torch._inductor.config as inductor_config

    before = (inductor_config.freezing, dynamo_config.automatic_dynamic_shapes)
    with frozen_weights(enabled=False):
        assert (inductor_config.freezing, dynamo_config.automatic_dynamic_shapes) == before
    with frozen_weights():
        assert inductor_config.freezing is True and dynamo_config.automatic_dynamic_shapes is False
    assert (inductor_config.freezing, dynamo_config.automatic_dynamic_shapes) == before
