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


def test_info_on_a_model_free_step_reports_zero_parameters_and_bench_says_there_is_nothing_to_time(capsys):
    # BSN's proposal-generation step is a task without a model
    assert main(["info", str(REPO / "plugins/tasks/bsn_pgm/actioncore_bsn_pgm/examples/bsn_pgm_tiny_synth.toml"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["parameters"], info["flops"], info["note"]) == (0, 0, "the experiment has no [model]")
    assert main(["bench", "model", str(REPO / "plugins/tasks/bsn_pgm/actioncore_bsn_pgm/examples/bsn_pgm_tiny_synth.toml")]) == 2
    assert "the experiment has no [model] to time" in capsys.readouterr().err


def test_info_takes_the_frame_size_from_the_data_when_the_pipeline_does_not_resize(tmp_path, monkeypatch, capsys):
    # the quickstart TSM reads the embedded set's clips as they are (no resize): its model sees their size
    from actioncore.builtin.synth import synthesize

    monkeypatch.chdir(tmp_path)  # the example's data paths are relative: data/synth/...
    example = str(REPO / "examples/quickstart_tsm.toml")
    assert main(["info", example, "--json"]) == 0
    without = json.loads(capsys.readouterr().out)
    assert without["input_shape"] == [1, 8, 3, 256, 340]
    assert without["input_from"].startswith("a blank 340x256 video") and "data.train not read" in without["input_from"]
    synthesize("recognition", tmp_path / "data/synth", seed=0, size="tiny")
    assert main(["info", example]) == 0
    out = capsys.readouterr().out
    assert "input:      [1, 8, 3, 32, 32] (train pipeline on " in out and "(32x32, " in out
    assert main(["info", example, "--json"]) == 0
    with_data = json.loads(capsys.readouterr().out)
    assert with_data["input_shape"] == [1, 8, 3, 32, 32] and with_data["input_from"].startswith("data/synth/videos/")
    assert with_data["flops"] < without["flops"] / 50  # 32x32 against 340x256 frames
