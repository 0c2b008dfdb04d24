"""semi_recognition end to end on the tiny embedded set: loaders, logs, 2D/3D, AMP, accumulation,
kill -9 resume and torchrun DDP."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch


pytestmark = pytest.mark.actioncore_plugins("actioncore_semi.hooks", "actioncore_recognition.hooks",
                                            "actioncore_lists.hooks", "actioncore_toy3d.hooks",
                                            "actioncore_tsn.hooks", "actioncore_cls_heads.hooks")


def actioncore(*args: str, env=None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "actioncore", *args], capture_output=True, text=True,
                            env=env, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def train_events(work_dir: Path) -> list[dict]:
    return [e for e in map(json.loads, (work_dir / "log.jsonl").read_text().splitlines()) if e["event"] == "train"]


class FakeSampler:
    """The kernel EpochSampler's contract: a seeded permutation per epoch, ``skip`` samples dropped."""

    def __init__(self, n: int):
        self.n, self.epoch, self.skip = n, 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def __iter__(self):
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(100 + self.epoch)).tolist()
        return iter([(self.epoch, i) for i in order[self.skip:]])

    def __len__(self):
        return self.n - self.skip


class FakeLoader:
    """A loader of index batches over ``n`` items with the kernel's epoch-seeded sampler."""

    def __init__(self, n: int, batch_size: int):
        self.sampler = FakeSampler(n)
        self.batch_size = batch_size

    def __len__(self):
        return -(-len(self.sampler) // self.batch_size)

    def __iter__(self):
        order = [i for _, i in self.sampler]
        for start in range(0, len(order), self.batch_size):
            yield {"indices": torch.tensor(order[start:start + self.batch_size]),
                   "epoch": self.sampler.epoch}


def test_labeled_position_is_a_function_of_the_iteration():
    from actioncore_semi import SemiLoader

    def run(epoch: int, skip_batches: int = 0) -> list[tuple]:
        loader = SemiLoader(labeled=FakeLoader(5, 2), unlabeled=FakeLoader(14, 4))
        loader.set_epoch(epoch, skip=skip_batches * loader.batch_size)
        return [(b["iteration"], b["labeled"]["epoch"], b["labeled"]["indices"].tolist(),
                 b["unlabeled"]["indices"].tolist()) for b in loader]

    epochs = [run(e) for e in range(3)]
    assert len(SemiLoader(labeled=FakeLoader(5, 2), unlabeled=FakeLoader(14, 4))) == 4
    flat = [row for epoch in epochs for row in epoch]
    assert [row[0] for row in flat] == list(range(12))
    assert [row[1] for row in flat] == [k // 3 for k in range(12)]  # 3 labeled batches an epoch, restarting
    for k in range(0, 12, 3):  # each labeled epoch is a whole permutation of the 5 clips
        assert sorted(i for row in flat[k:k + 3] for i in row[2]) == list(range(5))
    assert run(2, skip_batches=1) == epochs[2][1:]  # a resumed epoch continues exactly
    assert run(1, skip_batches=3) == epochs[1][3:]


def test_run_logs_losses_mask_ratio_and_pseudo_label_accuracy(tiny_data, tmp_path, semi_experiment, label_split):
    labeled, _ = label_split(tiny_data / "train.txt", tmp_path / "split", fraction=0.25, seed=0)
    exp = semi_experiment(tmp_path, labeled=labeled, epochs=1)
    metrics = json.loads(actioncore("run", str(exp), "--json").stdout)
    assert 0 <= metrics["top1"] <= 1
    events = train_events(tmp_path / "wd")
    assert len(events) == 12  # one epoch = the 48 unlabeled clips in batches of 4; 12 labeled clips cycle
    keys = {"loss", "loss_labeled", "loss_unlabeled", "mask_ratio", "pseudo_label_accuracy", "top1", "actor_cutmix"}
    assert all(keys <= set(e) for e in events)
    for e in events:
        assert e["loss"] == pytest.approx(e["loss_labeled"] + e["loss_unlabeled"], rel=1e-5)
        assert e["mask_ratio"] * 4 == pytest.approx(round(e["mask_ratio"] * 4))
        assert (e["loss_unlabeled"] == 0) == (e["mask_ratio"] == 0)
    from tensorboardX.proto import event_pb2  # noqa: F401  (the files are tensorboardX's)
    board = next((tmp_path / "wd/tensorboard").glob("events.out.tfevents.*")).read_bytes()
    assert all(f"train/{k}".encode() in board for k in ("loss_unlabeled", "mask_ratio", "pseudo_label_accuracy"))


def test_cross_dataset_labels_are_checked_against_the_labeled_classes_only(tiny_data, tmp_path, semi_experiment):
    other = tmp_path / "other.txt"  # another data set's list: labels beyond the 12 classes
    other.write_text("".join(f"{line.split()[0]} {40 + i}\n" for i, line in
                             enumerate((tiny_data / "train.txt").read_text().splitlines()[:8])))
    exp = semi_experiment(tmp_path, unlabeled=other, epochs=1,
                     task="threshold = 0.2\npseudo_label_accuracy = false")
    actioncore("run", str(exp))
    assert all("pseudo_label_accuracy" not in e for e in train_events(tmp_path / "wd"))
    bad = tmp_path / "bad.txt"
    bad.write_text((tiny_data / "train.txt").read_text().splitlines()[0].split()[0] + " 12\n")
    result = actioncore("run", str(semi_experiment(tmp_path / "b", labeled=bad)), check=False)
    assert result.returncode != 0 and f"{bad}:1: label 12 is outside [0, 12)" in result.stderr


def test_empty_unlabeled_list_and_missing_strong_pipeline_are_named(tmp_path, semi_experiment):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    result = actioncore("run", str(semi_experiment(tmp_path / "a", unlabeled=empty)), check=False)
    assert result.returncode != 0 and f"{empty}: the annotation file lists no samples" in result.stderr
    no_unlabeled = semi_experiment(tmp_path / "b", with_unlabeled=False)
    result = actioncore("run", str(no_unlabeled), check=False)
    assert "data.unlabeled: method 'fixmatch' needs a [data.unlabeled] table" in result.stderr
    result = actioncore("run", str(semi_experiment(tmp_path / "c", task="threshold = 2.0")), check=False)
    assert result.returncode != 0 and "task.threshold: must be in (0, 1], got 2.0" in result.stderr
    multi = semi_experiment(tmp_path / "d")
    multi.write_text(multi.read_text() + '\n[[data.train.extra_sources]]\ntype = "video_list"\nann_file = "x.txt"\npipeline = []\n')
    result = actioncore("run", str(multi), check=False)
    assert result.returncode == 2 and "data.train.extra_sources: multi-source training is the recognition" in result.stderr


def test_bench_times_the_semi_training_step_on_the_tasks_own_batches(tiny_data, tmp_path, semi_experiment,
                                                                     label_split, actioncore_host, capsys):
    from actioncore.cli import main

    labeled, _ = label_split(tiny_data / "train.txt", tmp_path / "split", fraction=0.25, seed=0)
    exp = str(semi_experiment(tmp_path, labeled=labeled))
    assert main(["bench", "model", exp, "--iterations", "1", "--json"]) == 0
    bench = json.loads(capsys.readouterr().out)
    # a labeled batch of 4 and an unlabeled one of 4 (each in a weak and a strong view): 8 clips a step
    assert bench["train_clips_per_step"] == 8
    assert bench["train_batch_from"] == "the first batch of the semi_recognition task's training loader"
    assert bench["train_clips_per_s"] > 0 and bench["infer_clips_per_s"] > 0 and bench["input_shape"][0] == 4
    assert main(["bench", "data", exp, "--clips", "16", "--workers-sweep", "0", "1", "--with-model", "--json"]) == 0
    sweep = json.loads(capsys.readouterr().out)
    assert sweep["timed"] == "semi_recognition training batches" and [r["workers"] for r in sweep["sweep"]] == [0, 1]
    assert all(r["clips_per_s"] > 0 and r["with_model_step_clips_per_s"] > 0 for r in sweep["sweep"])
    assert main(["bench", "data", exp, "--workers-sweep", "0", "--with-model", "--split", "val"]) == 2
    assert "--with-model: task 'semi_recognition' trains on its own batches, not on data.val's" in capsys.readouterr().err
    missing = tmp_path / "nowhere.txt"
    assert main(["bench", "model", str(semi_experiment(tmp_path / "m", unlabeled=missing))]) == 2
    err = capsys.readouterr().err
    assert "task 'semi_recognition' makes its own training batches" in err and f"{missing}: annotation file not found" in err


TSN = """
    [model]
    type = "recognizer2d"
    [model.backbone]
    type = "resnet"
    depth = 18
    [model.head]
    type = "tsn"
    num_classes = 12
    in_channels = 512
"""


def test_2d_recognizer_with_accumulation(tmp_path, semi_experiment):
    # bf16 autocast is left out here: on CPU it gives a NaN loss after the first step in about one
    # run in three for this TSN-R18 (never in fp32) -- an open problem noted on issue 17
    exp = semi_experiment(tmp_path, model=TSN, layout="NCHW", clip_len=1, epochs=1,
                          task='threshold = 0.1\nmethod = "uda"')
    actioncore("run", str(exp), "--set", "optim.accumulate=2", "--set", "optim.lr=0.005")
    events = train_events(tmp_path / "wd")
    assert len(events) == 12 and all(torch.isfinite(torch.tensor(e["loss"])) for e in events)
    assert "grad_norm" not in events[0]  # accumulation: the first iteration does not step


def test_3d_recognizer_with_bf16_amp(tmp_path, semi_experiment):
    exp = semi_experiment(tmp_path, epochs=1, task='threshold = 0.1\nmethod = "uda"')
    actioncore("run", str(exp), "--set", "runtime.amp=true")
    events = train_events(tmp_path / "wd")
    assert events and all(torch.isfinite(torch.tensor(e["loss"])) for e in events)


CHAOS = """
import os, signal
import actioncore

@actioncore.hookimpl
def actioncore_after_iteration(run, outputs):
    if os.environ.get("CHAOS_KILL_AT") == str(run.iteration):
        os.kill(os.getpid(), signal.SIGKILL)
"""


def chaos_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment whose actioncore loads a plugin that kills the process at an iteration."""
    site = tmp_path / "site"
    if not site.exists():
        (site / "semi_chaos-1.0.dist-info").mkdir(parents=True)
        (site / "semi_chaos.py").write_text(CHAOS)
        (site / "semi_chaos-1.0.dist-info/METADATA").write_text("Metadata-Version: 2.1\nName: semi-chaos\nVersion: 1.0\n")
        (site / "semi_chaos-1.0.dist-info/entry_points.txt").write_text("[actioncore]\nchaos = semi_chaos\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD", None)
    return {**env, **extra}


@pytest.mark.slow
def test_resume_after_kill_9_mid_epoch_ends_bitwise_equal(tiny_data, tmp_path, semi_experiment, label_split):
    labeled, _ = label_split(tiny_data / "train.txt", tmp_path / "split", fraction=0.25, seed=0)
    task = "threshold = 0.15\nunlabeled_ratio = 2"  # 6 iterations an epoch; 3 labeled batches cycle
    reference = semi_experiment(tmp_path / "reference", labeled=labeled, task=task, workers=1)
    actioncore("run", str(reference), env=chaos_env(tmp_path))
    killed = semi_experiment(tmp_path / "killed", labeled=labeled, task=task, workers=1)
    options = ["--set", "runtime.checkpoint_every_iters=2"]
    result = actioncore("run", str(killed), *options, env=chaos_env(tmp_path, CHAOS_KILL_AT="9"), check=False)
    assert result.returncode == -signal.SIGKILL
    latest = load(tmp_path / "killed/wd/checkpoints/latest.pth")
    assert (latest["epoch"], latest["epoch_iteration"], latest["iteration"]) == (1, 2, 8)
    actioncore("run", str(killed), *options, "--resume", env=chaos_env(tmp_path))
    final = load(tmp_path / "killed/wd/checkpoints/epoch_2.pth")["model"]
    expected = load(tmp_path / "reference/wd/checkpoints/epoch_2.pth")["model"]
    assert final.keys() == expected.keys() and all(torch.equal(final[k], expected[k]) for k in final)
    ours, theirs = (train_events(tmp_path / f"{r}/wd") for r in ("killed", "reference"))
    tail = {e["iteration"]: e["mask_ratio"] for e in ours}
    assert [tail[k] for k in range(9, 13)] == [e["mask_ratio"] for e in theirs if e["iteration"] >= 9]
    assert any(e["mask_ratio"] > 0 for e in theirs)  # the consistency loss took part


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ddp_two_processes_train_and_evaluate_like_one(tiny_data, tmp_path, semi_experiment, test_pipeline):
    exp = semi_experiment(tmp_path, epochs=1, extra=f"""
        [data.test]
        type = "video_list"
        ann_file = "{tiny_data / 'test.txt'}"
        root = "{tiny_data / 'videos'}"
        pipeline = {test_pipeline}
    """)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port",
                str(free_port()), "-m", "actioncore"]
    ddp = subprocess.run([*torchrun, "run", str(exp), "--json"], capture_output=True, text=True, timeout=600)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    state = load(tmp_path / "wd/checkpoints/latest.pth")
    assert state["world_size"] == 2 and state["iteration"] == 6  # 48 unlabeled clips / (2 x 4)
    best = str(tmp_path / "wd/checkpoints/best.pth")
    single = json.loads(actioncore("test", str(exp), "--checkpoint", best, "--json").stdout)
    assert json.loads(ddp.stdout) == single
