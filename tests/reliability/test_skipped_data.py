"""``data.on_error = "skip"``: every split says how many samples it left out and which."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest


@pytest.fixture
def broken_data(tiny_data, tmp_path) -> Path:
    """The tiny set with one truncated video in each of val and test and one bad train label."""
    root = tmp_path / "data"
    shutil.copytree(tiny_data, root)
    for split in ("val", "test"):
        video = root / "videos" / "disc" / f"{split}_0000.mp4"
        video.write_bytes(video.read_bytes()[:2000])
    train = root / "train.txt"
    lines = train.read_text().splitlines()
    lines[3] = lines[3].rsplit(" ", 1)[0] + " 40"  # label outside [0, 12)
    train.write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.slow
def test_run_and_test_report_the_skipped_samples_of_every_split(actioncore, experiment_file, broken_data, tmp_path):
    exp = experiment_file(tmp_path, root=broken_data, epochs=1, test=True, data='on_error = "skip"')
    stderr = actioncore("run", str(exp)).stderr
    assert "train: 1 annotation line(s) left out" in stderr and "train.txt:4: label 40 is outside [0, 12)" in stderr
    assert "val: 1 bad sample(s) skipped" in stderr and "test: 1 bad sample(s) skipped" in stderr
    assert f"{broken_data / 'val.txt'}:2: {broken_data / 'videos/disc/val_0000.mp4'}: cannot open" in stderr
    log = (tmp_path / "wd/run.log").read_text()
    assert "val: 1 bad sample(s) skipped" in log and "test: 1 bad sample(s) skipped" in log
    events = [json.loads(line) for line in (tmp_path / "wd/log.jsonl").read_text().splitlines()]
    evaluations = {e["split"]: e for e in events if e["event"] == "evaluation"}
    assert evaluations["val"]["skipped"] == 1 and evaluations["test"]["skipped"] == 1
    assert [s.split(": ")[0] for s in evaluations["test"]["skipped_samples"]] == [f"{broken_data / 'test.txt'}:2"]
    # the test command: the count among the metrics, the files next to them
    tested = json.loads(actioncore("test", str(exp), "--checkpoint", str(tmp_path / "wd/checkpoints/best.pth"),
                                   "--json").stdout)
    assert tested["skipped"] == 1 and 0 <= tested["top1"] <= 1
    assert tested["skipped_samples"] == evaluations["test"]["skipped_samples"]
    assert "cannot open the file as a video" in tested["skipped_samples"][0]


def test_a_clean_split_reports_zero_skipped_and_raise_reports_nothing(actioncore, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1, test=True)
    metrics = json.loads(actioncore("run", str(exp), "--json").stdout)
    assert "skipped" not in metrics and "top1" in metrics  # on_error = "raise": nothing is ever skipped
    tested = json.loads(actioncore("test", str(exp), "--checkpoint", str(tmp_path / "wd/checkpoints/best.pth"),
                                   "--json", "--set", 'data.on_error="skip"').stdout)
    assert tested["skipped"] == 0 and "skipped_samples" not in tested


def test_the_bad_in_a_row_limit_is_a_key(actioncore, experiment_file, broken_data, tmp_path):
    exp = experiment_file(tmp_path, root=broken_data, epochs=1, data='on_error = "skip"\nmax_consecutive_bad = 1')
    result = actioncore("run", str(exp), check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert "1 bad samples in a row" in message and "(data.max_consecutive_bad)" in message
    assert "disc/val_0000.mp4" in message
    zero = actioncore("config", str(exp), "--set", "data.max_consecutive_bad=0", check=False)
    assert zero.returncode == 2 and "data.max_consecutive_bad: must be at least 1, got 0" in zero.stderr
