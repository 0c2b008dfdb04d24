"""``actioncore plot``: curves from log.jsonl as an image of the stated size; bad logs named."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from actioncore.cli import main
from actioncore.curves import series


def write_log(work_dir, *, epochs=3, per_epoch=4):
    """A log as the run loggers write it: train events every 2 iterations, val after each epoch, test at the end."""
    work_dir.mkdir(parents=True, exist_ok=True)
    events = [{"event": "run_start", "time": 0.0, "epoch": 0, "iteration": 0, "world_size": 1}]
    for epoch in range(1, epochs + 1):
        for it in range((epoch - 1) * per_epoch + 2, epoch * per_epoch + 1, 2):
            events.append({"event": "train", "time": 1.0, "epoch": epoch, "iteration": it, "loss": 3.0 / it,
                           "lr": 0.1 * (1 - it / (epochs * per_epoch)), "clips_per_s": 10.0, "top1": 0.1})
        events.append({"event": "evaluation", "split": "val", "time": 2.0, "epoch": epoch,
                       "iteration": epoch * per_epoch, "top1": 0.2 * epoch, "mean_class_accuracy": 0.1 * epoch})
        events.append({"event": "checkpoint", "path": "x.pth", "tags": ["latest"], "epoch": epoch,
                       "iteration": epoch * per_epoch})
    events.append({"event": "evaluation", "split": "test", "time": 3.0, "epoch": epochs,
                   "iteration": epochs * per_epoch, "top1": 0.5, "mean_class_accuracy": 0.4,
                   "skipped_samples": ["a.mp4: broken"]})
    events.append({"event": "run_end", "time": 4.0, "status": "finished", "error": None})
    (work_dir / "log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return events


def test_plot_draws_loss_lr_and_each_metric_in_a_panel(tmp_path, capsys):
    events = write_log(tmp_path / "wd")
    out = tmp_path / "curves.png"
    assert main(["plot", str(tmp_path / "wd"), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # the training top-1 is a train-only number: no panel unless asked for
    assert report["panels"] == ["loss", "lr", "top1", "mean_class_accuracy"]
    assert report["points"] == {"loss": 6, "lr": 6, "top1": 6 + 3 + 1, "mean_class_accuracy": 3 + 1}
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (800, 4 * 250) == tuple(report["size"])
        pixels = np.asarray(image.convert("RGB"))
    assert (pixels != 255).any(axis=2).mean() > 0.02  # something was drawn, not a blank canvas
    assert series(events)["top1"]["val"] == [(4, 0.2), (8, 0.4), (12, pytest.approx(0.6))]


def test_plot_picks_metrics_and_epochs(tmp_path, capsys):
    write_log(tmp_path / "wd")
    out = tmp_path / "top1.png"
    assert main(["plot", str(tmp_path / "wd"), "--out", str(out), "--metrics", "top1,loss", "--x", "epoch",
                 "--dpi", "50"]) == 0
    assert "top1, loss by epoch" in capsys.readouterr().out
    with Image.open(out) as image:
        assert image.size == (400, 2 * 125)
    assert main(["plot", str(tmp_path / "wd"), "--out", str(out), "--metrics", "top2"]) == 2
    assert "top2 not in" in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    (None, "log.jsonl: no such log"),
    ("", "log.jsonl: no training or evaluation events"),
    ('{"event": "run_start", "epoch": 0}\n', "log.jsonl: no training or evaluation events"),
    ('{"event": "train", "iteration": 2, "loss": 1.0}\n{broken\n', "log.jsonl:2: not a JSON object"),
])
def test_a_missing_empty_or_broken_log_is_an_error_naming_the_file(tmp_path, capsys, content, message):
    work_dir = tmp_path / "wd"
    work_dir.mkdir()
    if content is not None:
        (work_dir / "log.jsonl").write_text(content)
    assert main(["plot", str(work_dir), "--out", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert f"{work_dir / 'log.jsonl'}" in err and message in err
    assert not (tmp_path / "c.png").exists()
