"""What the machine refuses (work dirs, a full disk, read-only places) is one line, exit status 1,
with the cause in run.log; what a killed write leaves behind is cleaned up on the next start."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from actioncore.engine.checkpoint import load_checkpoint, save_checkpoint


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return lines[-1]


def test_a_work_dir_that_is_a_file_or_lies_under_one_is_one_line(actioncore, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = actioncore("run", str(exp), "--work-dir", str(blocker), check=False)
    assert result.returncode == 1
    assert one_line(result) == f"actioncore run: error: runtime.work_dir {blocker}: exists and is not a directory"
    result = actioncore("run", str(exp), "--work-dir", str(blocker / "wd"), check=False)
    assert result.returncode == 1
    assert one_line(result).endswith(f"runtime.work_dir {blocker / 'wd'}: cannot create it: Not a directory")
    assert blocker.read_text() == "not a folder"


def in_small_tmpfs(size: str, script: str, *, readonly: bool = False) -> subprocess.CompletedProcess:
    """Run ``script`` (sh) with a fresh tmpfs of ``size`` at ``$MNT``, in a user+mount namespace:
    a real full (or read-only) file system, without root on the host."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) for a private tmpfs")
    options = f"size={size}" + (",ro" if readonly else "")
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            f"mount -t tmpfs -o {options} tmpfs /mnt"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {probe.stderr.decode()[-200:]}")
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           f"mount -t tmpfs -o {options} tmpfs /mnt && MNT=/mnt && {script}"],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_full_disk_stops_the_run_in_one_line_with_the_cause_in_run_log(experiment_file, tmp_path):
    # 72 KiB hold the logs and the first checkpoint (32 KiB) but not the second
    exp = experiment_file(tmp_path, epochs=2)
    out = tmp_path / "out"
    out.mkdir()
    result = in_small_tmpfs("72k", f'{sys.executable} -m actioncore run {exp} --work-dir "$MNT/wd"; '
                                   f'echo $? > {out}/rc; cp -r "$MNT/wd" {out}/wd; ls -a "$MNT/wd/checkpoints"')
    assert (out / "rc").read_text().strip() == "1", result.stderr[-3000:]
    message = one_line(result)
    assert message.startswith("actioncore run: error: /mnt/wd/checkpoints/epoch_2.pth: cannot write the checkpoint: ")
    assert "No space left on device" in message and message.endswith("the previous checkpoints are intact")
    assert not [name for name in result.stdout.split() if name.endswith(".tmp")]  # no half-written file left
    log = (out / "wd/run.log").read_text()
    assert "ERROR run stopped: StorageError: /mnt/wd/checkpoints/epoch_2.pth: cannot write the checkpoint" in log
    assert load_checkpoint(out / "wd/checkpoints/latest.pth")["epoch"] == 1
    events = [json.loads(line) for line in (out / "wd/log.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "run_end" and events[-1]["status"] == "failed"


def test_a_read_only_work_dir_is_one_line(experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    result = in_small_tmpfs("1m", f'{sys.executable} -m actioncore run {exp} --work-dir "$MNT/wd"', readonly=True)
    assert result.returncode == 1
    assert one_line(result) == "actioncore run: error: runtime.work_dir /mnt/wd: cannot create it: Read-only file system"


def test_a_half_written_checkpoint_is_removed_on_the_next_start(actioncore, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    actioncore("run", str(exp))
    checkpoints = tmp_path / "wd/checkpoints"
    leftover = checkpoints / ".epoch_2.pth.4242.tmp"  # what kill -9 inside save_checkpoint leaves
    leftover.write_bytes(b"PK\x03\x04 half a zip")
    actioncore("run", str(exp), "--set", "schedule.epochs=2", "--resume", "--allow-changes")
    assert not leftover.exists()
    assert f"removed {leftover}, a checkpoint a stopped run left half-written" in (tmp_path / "wd/run.log").read_text()
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.pth", "epoch_1.pth", "epoch_2.pth", "latest.pth"]


def test_a_checkpoint_write_that_fails_keeps_the_old_file_and_leaves_no_partial(tmp_path, monkeypatch):
    target = tmp_path / "latest.pth"
    save_checkpoint(target, {"model": {"w": torch.ones(2)}})

    def fail(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(Exception) as caught:
        save_checkpoint(target, {"model": {"w": torch.zeros(2)}})
    assert type(caught.value).__name__ == "StorageError" and str(caught.value).startswith(f"{target}: cannot write")
    assert torch.equal(load_checkpoint(target)["model"]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pth"]


def test_resume_with_a_model_that_does_not_fit_is_one_line(actioncore, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    actioncore("run", str(exp))
    result = actioncore("run", str(exp), "--set", "model.backbone.width=6", "--set", "model.head.in_channels=12",
                        "--set", "schedule.epochs=2", "--resume", "--allow-changes", check=False)
    assert result.returncode == 2
    message = one_line(result)
    assert f"{tmp_path / 'wd/checkpoints/latest.pth'}" in message and "shape" in message
