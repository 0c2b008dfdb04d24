"""The issue-17 proof: on the embedded set with 10% of the train list labeled, FixMatch with strong
augmentation beats the same recognizer and schedule trained on the labeled clips alone.

Both variants come from ``benchmarks/semi_vs_supervised.py`` (``variants`` builds (a) and (b) from
one experiment, ``train`` runs each as an ``actioncore run`` process), so the test and the
benchmark script measure the same thing. The cheap test checks that (a) and (b) really share model,
optimizer and schedule; the proof itself trains four models and asserts the margin.
"""
from __future__ import annotations

import concurrent.futures
import importlib.util
import statistics
from pathlib import Path

import pytest

from actioncore.cli import main as cli
from actioncore.sdk.data import synthesize

pytestmark = pytest.mark.actioncore_plugins("actioncore_semi.hooks", "actioncore_recognition.hooks",
                                            "actioncore_lists.hooks", "actioncore_tsm.hooks", "actioncore_tsn.hooks",
                                            "actioncore_cls_heads.hooks", "actioncore_augment.hooks")

REPO = Path(__file__).resolve().parents[4]
EXAMPLE = Path(__file__).resolve().parents[1] / "actioncore_semi/examples/quickstart_semi.toml"
SEEDS = (0, 1)
MARGIN = 0.10
"""Mean test top-1 of (b) minus (a) over SEEDS that counts as a clear margin (issue 17)."""


def benchmark():
    """``benchmarks/semi_vs_supervised.py`` as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("semi_vs_supervised", REPO / "benchmarks/semi_vs_supervised.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def embedded_split(tmp_path, monkeypatch):
    """``data/synth`` (default size) and its 10% split (seed 3, whole scene keys) under a fresh working
    directory, where the example's relative paths resolve, as its header's commands make them."""
    monkeypatch.chdir(tmp_path)
    synthesize("recognition", tmp_path / "data/synth", seed=0, size="default")
    assert cli(["data", "split", "data/synth/train.txt", "--labeled", "0.1", "--seed", "3", "--group", r"train_\d+",
                "--out", "data/synth/split10"]) == 0
    return tmp_path


def test_supervised_and_semi_variants_share_model_optimizer_and_schedule(actioncore_host, tmp_path, monkeypatch):
    # the variants scale (a)'s epochs by the lists' lengths: the embedded set's 480 train lines, 48 labeled
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/synth/split10").mkdir(parents=True)
    (tmp_path / "data/synth/train.txt").write_text("".join(f"v{i}.mp4 {i % 12}\n" for i in range(480)))
    (tmp_path / "data/synth/split10/labeled.txt").write_text("".join(f"v{i}.mp4 {i % 12}\n" for i in range(48)))
    bench = benchmark()
    supervised, semi = bench.variants(EXAMPLE, [])
    assert semi["task"]["type"] == "semi_recognition" and "unlabeled" in semi["data"]
    assert supervised["task"]["type"] == "recognition" and "unlabeled" not in supervised["data"]
    for key in ("model", "optim"):
        assert supervised[key] == semi[key]
    for split in ("train", "val", "test"):
        assert supervised["data"][split] == semi["data"][split]
    # (b) steps once per unlabeled batch: 480 clips / (8 x mu 1) = 60 per epoch; (a) once per labeled
    # batch: 48 / 8 = 6 per epoch, so (a) runs 10x the epochs (and warm-up, evaluation interval).
    factor = supervised["schedule"]["epochs"] // semi["schedule"]["epochs"]
    assert factor == 10 and supervised["schedule"]["epochs"] == semi["schedule"]["epochs"] * factor
    assert supervised["schedule"]["warmup_epochs"] == semi["schedule"]["warmup_epochs"] * factor
    assert supervised["runtime"]["eval_interval"] == semi["runtime"]["eval_interval"] * factor
    assert not any(r.startswith("actioncore-semi") for r in supervised["plugins"]["require"])


@pytest.mark.slow(seconds=700)  # four trainings; handed out first (tests/conftest.py)
def test_fixmatch_beats_labeled_only_by_a_clear_margin(actioncore_host, embedded_split, monkeypatch):
    # measured (1 thread each, 2 at a time): (a) 0.392 / 0.350, (b) 0.500 / 0.558 for seeds 0 / 1: +0.158
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # one core each, as measured; two trainings with 2 threads would spin
    bench = benchmark()
    supervised, semi = bench.variants(EXAMPLE, [])
    runs = [(name, table, seed) for seed in SEEDS for name, table in (("a", supervised), ("b", semi))]
    # two trainings at a time: the four take ~14 CPU minutes, and the suite's other long tests run beside them
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        done = {(name, seed): pool.submit(bench.train, table, embedded_split / f"{name}_seed{seed}", seed)
                for name, table, seed in runs}
        top1 = {name: {seed: done[name, seed].result()["top1"] for seed in SEEDS} for name in ("a", "b")}
    print(f"test top-1 (a) labeled only {top1['a']}, (b) FixMatch {top1['b']}")
    for seed in SEEDS:
        assert top1["b"][seed] > top1["a"][seed], (seed, top1)
    margin = statistics.mean(top1["b"].values()) - statistics.mean(top1["a"].values())
    assert margin >= MARGIN, top1
