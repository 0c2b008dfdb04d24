"""The shipped examples load, report MMAction2's parameter counts, and compose from Python."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from actioncore.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted([*(REPO / "examples").glob("*.toml"), *REPO.glob("plugins/*/*/actioncore_*/examples/*.toml")])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_example_resolves(path, capsys):
    assert main(["config", str(path)]) == 0
    resolved = tomllib.loads(capsys.readouterr().out)
    assert resolved["task"]["type"]  # a model may be absent: BSN's proposal-generation step has none


def test_tsn_r50_has_mmaction2_parameter_count(capsys):
    assert main(["info", str(REPO / "plugins/backbones/tsn/actioncore_tsn/examples/tsn_r50_1x1x3_100e_kinetics400_rgb.toml"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["parameters"] == 24_327_632
    assert info["input_shape"] == [1, 3, 3, 224, 224]
    assert 24e9 < info["flops"] < 25e9  # 3 frames of ResNet-50 at 224 px: 2 x 4.09 G multiply-adds each


def test_compose_example_runs():
    result = subprocess.run([sys.executable, str(REPO / "examples/compose.py")], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "parameters: 11182668" in result.stdout and "(2, 12)" in result.stdout


def test_info_on_a_model_free_step_reports_zero_parameters(capsys):
    # BSN's proposal-generation step is a task without a model
    assert main(["info", str(REPO / "plugins/tasks/bsn_pgm/actioncore_bsn_pgm/examples/bsn_pgm_tiny_synth.toml"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["parameters"], info["flops"], info["note"]) == (0, 0, "the experiment has no [model]")
