"""The issue's proof: FixMatch + RandAugment beats training on the labeled clips alone.

On the embedded set with 10% of the train list labeled (``actioncore data split --labeled 0.1
--seed 3``, 4 clips per class), ``benchmarks/semi_vs_supervised.py`` trains
``examples/quickstart_semi.toml`` as it is (b) and on its labeled clips only for the same number
of optimizer steps (a), over two seeds, and the mean test top-1 of (b) must exceed (a)'s by
:data:`MARGIN`. The measurements behind the margin are in ``benchmarks/semi_vs_supervised.md``.
"""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from actioncore.cli import main as cli

MARGIN = 0.10
"""Asserted lower bound of mean (b) - mean (a); see benchmarks/semi_vs_supervised.md."""

REPO = Path(__file__).resolve().parents[4]
BENCHMARK = REPO / "benchmarks" / "semi_vs_supervised.py"


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="no configuration with a clear margin found yet: quickstart_semi measured "
                   "mean 0.450 (b) vs 0.442 (a) over seeds 0, 1 (benchmarks/semi_vs_supervised.md)")
@pytest.mark.skipif(not BENCHMARK.exists(), reason="needs the repository's benchmarks/ (an installed plugin has none)")
def test_fixmatch_beats_labeled_only_on_the_embedded_set_with_10_percent_labels(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli(["data", "synth", "recognition", "--out", "data/synth"]) == 0
    assert cli(["data", "split", "data/synth/train.txt", "--labeled", "0.1", "--seed", "3",
                "--out", "data/synth/split10"]) == 0
    assert len(Path("data/synth/split10/labeled.txt").read_text().splitlines()) == 48
    experiment = resources.files("actioncore_semi") / "examples" / "quickstart_semi.toml"
    result = subprocess.run([sys.executable, str(BENCHMARK), str(experiment), "--seeds", "0", "1",
                             "--out", str(tmp_path / "runs"), "--json"],
                            capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    supervised, semi = report["mean_top1"]["supervised"], report["mean_top1"]["semi"]
    assert semi - supervised >= MARGIN, json.dumps(report["runs"], indent=1)
    # the consistency loss took part (measured last-epoch mask ratios 0.35-0.5) with pseudo-labels
    # far above chance (1/12; measured 0.44 over all unlabeled clips, confident or not)
    assert all(run["mask_ratio"] > 0.2 and run["pseudo_label_accuracy"] > 0.25 for run in report["runs"]["semi"].values())
