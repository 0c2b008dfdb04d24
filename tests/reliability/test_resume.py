"""Resume after kill -9 and under a changed experiment, and a run that stops on a NaN loss."""
from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import torch

from actioncore.engine.checkpoint import load_checkpoint


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


@pytest.mark.slow
def test_resume_after_kill_9_mid_epoch_ends_bitwise_equal(actioncore, experiment_file, chaos_env, tmp_path):
    reference = experiment_file(tmp_path / "reference", extra="")
    actioncore("run", str(reference), env=chaos_env())
    killed = experiment_file(tmp_path / "killed", extra="")
    options = ["--set", "runtime.checkpoint_every_iters=2"]
    result = actioncore("run", str(killed), *options, env=chaos_env(CHAOS_KILL_AT="9"), check=False)
    assert result.returncode == -signal.SIGKILL
    latest = load_checkpoint(tmp_path / "killed/wd/checkpoints/latest.pth")
    assert (latest["epoch"], latest["epoch_iteration"], latest["iteration"]) == (1, 2, 8)
    actioncore("run", str(killed), *options, "--resume", env=chaos_env())
    final, expected = weights(tmp_path / "killed/wd/checkpoints/epoch_2.pth"), weights(tmp_path / "reference/wd/checkpoints/epoch_2.pth")
    assert final.keys() == expected.keys()
    assert all(torch.equal(final[k], expected[k]) for k in final)


@pytest.mark.slow
def test_a_kill_right_after_an_epoch_checkpoint_keeps_the_best_model(actioncore, experiment_file, chaos_env, tmp_path):
    # the epoch is evaluated before its checkpoint is written, so the checkpoint holds this epoch's
    # best; killed before best.pth was linked, the resumed run links it and ends as the reference
    reference = experiment_file(tmp_path / "reference")
    actioncore("run", str(reference), env=chaos_env())
    killed = experiment_file(tmp_path / "killed")
    result = actioncore("run", str(killed), env=chaos_env(CHAOS_KILL_AFTER_SAVING="epoch_1"), check=False)
    assert result.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed/wd/checkpoints/best.pth").exists()
    stored = load_checkpoint(tmp_path / "killed/wd/checkpoints/latest.pth")
    assert stored["epoch"] == 1 and stored["best"]["epoch"] == 1  # evaluated before the save
    actioncore("run", str(killed), "--resume", env=chaos_env())
    ours, theirs = (load_checkpoint(tmp_path / f"{run}/wd/checkpoints/latest.pth") for run in ("killed", "reference"))
    assert ours["best"] == theirs["best"]
    best, expected = weights(tmp_path / "killed/wd/checkpoints/best.pth"), weights(tmp_path / "reference/wd/checkpoints/best.pth")
    assert best.keys() == expected.keys() and all(torch.equal(best[k], expected[k]) for k in best)
    evaluations = [json.loads(line) for line in (tmp_path / "killed/wd/log.jsonl").read_text().splitlines()]
    assert [e.get("epoch") for e in evaluations if e.get("event") == "evaluation" and e.get("split") == "val"] == [1, 2]


def test_nan_loss_stops_with_the_iteration_and_keeps_the_checkpoint(actioncore, experiment_file, chaos_env, tmp_path):
    exp = experiment_file(tmp_path)
    result = actioncore("run", str(exp), env=chaos_env(CHAOS_NAN_AT="8"), check=False)
    assert result.returncode == 2
    assert "non-finite loss" in result.stderr and "at iteration 9 (epoch 2)" in result.stderr
    assert "Traceback" not in result.stderr
    state = load_checkpoint(tmp_path / "wd/checkpoints/latest.pth")
    assert state["epoch"] == 1 and all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


@pytest.mark.slow
def test_resume_with_a_changed_experiment_is_refused_or_applied_when_allowed(actioncore, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    actioncore("run", str(exp))
    # two more epochs under a new learning rate and batch size
    changed = ["--set", "schedule.epochs=2", "--set", "optim.lr=0.02", "--set", "data.batch_size=4"]
    refused = actioncore("run", str(exp), *changed, "--resume", check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    message = refused.stderr.strip().splitlines()[-1]
    assert "--resume: the experiment differs from the one" in message and "latest.pth was trained with" in message
    assert "optim.lr: 0.05 -> 0.02" in message and "schedule.epochs: 1 -> 2" in message
    assert "data.batch_size: 8 -> 4" in message and "--allow-changes" in message
    assert load_checkpoint(tmp_path / "wd/checkpoints/latest.pth")["epoch"] == 1  # nothing was written
    allowed = actioncore("run", str(exp), *changed, "--resume", "--allow-changes")
    assert allowed.returncode == 0
    log = (tmp_path / "wd/run.log").read_text()
    assert "resuming under a changed experiment: optim.lr: 0.05 -> 0.02" in log
    assert "resuming under a changed experiment: data.batch_size: 8 -> 4" in log
    state = load_checkpoint(tmp_path / "wd/checkpoints/latest.pth")
    # the schedule's base rate is the new one (before the fix the stored 0.05 went on silently)
    groups = state["optimizer"]["param_groups"]
    assert state["epoch"] == 2 and [g["initial_lr"] / g["lr_mult"] for g in groups] == pytest.approx([0.02] * len(groups))
    assert actioncore("run", str(exp), "--allow-changes", check=False).returncode == 2
