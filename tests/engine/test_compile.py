"""``runtime.compile``: training and evaluation through torch.compile, checkpoints unchanged."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from actioncore.config import load_config
from actioncore.engine.checkpoint import load_checkpoint
from actioncore.engine.compile import compile_model, cpp_compiler
from actioncore.errors import ConfigError


def train_losses(work_dir: Path) -> list[float]:
    events = [json.loads(line) for line in (work_dir / "log.jsonl").read_text().splitlines()]
    return [e["loss"] for e in events if e["event"] == "train"]


@pytest.mark.skipif(cpp_compiler() is None, reason="torch.compile builds C++ kernels on the CPU: no compiler here")
def test_compiled_training_matches_eager_and_saves_the_plain_model(actioncore, experiment_file, tmp_path):
    runs = {}
    for name, extra in (("eager", ""), ("compiled", "[runtime]\ncompile = true\n")):
        exp = experiment_file(tmp_path / name, epochs=1)
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


def test_without_a_compiler_the_run_stops_naming_the_key(monkeypatch):
    from torch import nn

    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ConfigError, match=r"runtime\.compile.*no C\+\+ compiler"):
        compile_model(nn.Linear(2, 2))
