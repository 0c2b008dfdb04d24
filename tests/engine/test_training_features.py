"""EMA, precise BN, early stopping and a composed, class-balanced training set in one run; its
resume from an epoch checkpoint repeats the rest exactly; a lifecycle plugin can stop a run."""
from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from actioncore.cli import main
from actioncore.engine.checkpoint import load_checkpoint

FEATURES = """
    [hooks.ema]
    momentum = 0.1
    interval = 2
    [hooks.precise_bn]
    num_iters = 3
    [hooks.early_stopping]
    monitor = "top1"
    min_delta = 2.0   # top1 can never improve by 2: the second evaluation stops the run
    patience = 1
    [[data.train.sources]]
    ann_file = "{val}"
"""


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory, tiny_data):
    """A 4-epoch run that early stopping ends after epoch 2, and its log."""
    from tests.conftest import write_experiment

    folder = tmp_path_factory.mktemp("features")
    exp = write_experiment(tiny_data, folder, epochs=4, test=True,
                           extra=FEATURES.format(val=tiny_data / "val.txt"))
    text = exp.read_text().replace('[data.train]\n', '[data.train]\nsample_by_class = true\npower = 0.5\n', 1)
    exp.write_text(text)
    return exp, folder / "wd"


def test_early_stopping_ends_a_run_as_finished_with_checkpoints_and_a_test(stopped_run, tiny_data, capsys):
    exp, wd = stopped_run
    assert main(["run", str(exp), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert "top1" in metrics  # the test split was evaluated
    names = sorted(p.name for p in (wd / "checkpoints").iterdir())
    assert names == ["best.pth", "epoch_1.pth", "epoch_2.pth", "latest.pth"]
    state = load_checkpoint(wd / "checkpoints/latest.pth")
    train = len((tiny_data / "train.txt").read_text().splitlines())
    val = len((tiny_data / "val.txt").read_text().splitlines())
    per_epoch = -(-(train + val) // 8)  # both lists, batches of 8
    assert state["epoch"] == 2 and state["iteration"] == 2 * per_epoch
    assert state["stop_reason"].startswith("early stopping: top1 did not improve by 2.0 in the last 1 evaluations")
    assert state["early_stopping"]["wait"] == 1
    # the checkpoint's model is the average; the trained weights travel beside it
    assert state["ema"]["steps"] == 2 * per_epoch
    assert any(not torch.equal(v, state["ema"]["source"][k]) for k, v in state["model"].items()
               if v.dtype.is_floating_point)
    events = [json.loads(line) for line in (wd / "log.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "run_end" and events[-1]["status"] == "finished"
    log = (wd / "run.log").read_text()
    assert "stopping after epoch 2 of 4: early stopping" in log
    assert log.count("precise BN: statistics recomputed over 3 batch(es)") == 2


def test_resume_repeats_ema_precise_bn_and_stopping_exactly(stopped_run, capsys):
    exp, wd = stopped_run
    checkpoints = wd / "checkpoints"
    if not (checkpoints / "epoch_2.pth").is_file():
        pytest.skip("needs the stopped run")
    first = load_checkpoint(checkpoints / "epoch_2.pth")
    shutil.copy(checkpoints / "epoch_2.pth", wd / "first_epoch_2.pth")
    (checkpoints / "epoch_2.pth").unlink()
    (checkpoints / "latest.pth").unlink()
    shutil.copy(checkpoints / "epoch_1.pth", checkpoints / "latest.pth")
    assert main(["run", str(exp), "--resume", "--json"]) == 0
    again = load_checkpoint(checkpoints / "epoch_2.pth")
    assert again["stop_reason"] == first["stop_reason"] and again["iteration"] == first["iteration"]
    for part in ("model",):
        for key, value in first[part].items():
            assert torch.equal(value, again[part][key]), key  # EMA weights and precise BN statistics
    for key, value in first["ema"]["source"].items():
        assert torch.equal(value, again["ema"]["source"][key]), key
    capsys.readouterr()
    # a stopped run resumed does not train further
    assert main(["run", str(exp), "--resume", "--json"]) == 0
    assert "not training further: the run stopped early at epoch 2" in (wd / "run.log").read_text()


STOPPER = """
import actioncore

@actioncore.hookimpl
def actioncore_after_iteration(run, outputs):
    if run.iteration == 3:
        run.request_stop("enough")
"""


def test_a_lifecycle_plugin_stops_a_run_after_the_epoch(site_dir, experiment_file, tmp_path, capsys, monkeypatch):
    from actioncore.plugin.host import PluginHost, use_host

    site_dir.add("acme-stopper", {"acme_stopper": STOPPER}, {"stopper": "acme_stopper"})
    exp = experiment_file(tmp_path, epochs=3)
    with use_host(PluginHost()):
        assert main(["run", str(exp), "--json"]) == 0
    state = load_checkpoint(tmp_path / "wd/checkpoints/latest.pth")
    assert state["epoch"] == 1 and state["stop_reason"] == "enough"
