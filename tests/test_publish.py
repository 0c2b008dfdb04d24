"""``actioncore publish``: a weights-only checkpoint named after its own sha256, which ``test``
and ``infer`` use as they use the training checkpoint."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import torch

from actioncore.cli import main
from actioncore.engine.checkpoint import load_checkpoint


def test_published_checkpoint_is_smaller_named_by_its_hash_and_tests_the_same(experiment_file, tmp_path, capsys):
    exp = experiment_file(tmp_path, epochs=1, test=True)
    assert main(["run", str(exp)]) == 0
    trained = tmp_path / "wd/checkpoints/latest.pth"
    capsys.readouterr()

    assert main(["publish", str(trained), str(tmp_path / "release/tiny_toy3d.pth"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    published = Path(report["path"])
    data = published.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    assert report["sha256"] == sha256 and report["size_bytes"] == len(data)
    assert published.parent == tmp_path / "release" and published.name == f"tiny_toy3d-{sha256[:8]}.pth"
    assert sorted(p.name for p in published.parent.iterdir()) == [published.name]  # nothing partial left

    source = load_checkpoint(trained)
    state = load_checkpoint(published)
    assert len(data) < trained.stat().st_size and report["source_size_bytes"] == trained.stat().st_size
    assert not {"optimizer", "scaler", "rng", "epoch_iteration", "world_size"} & set(state)
    assert report["dropped"] == ["epoch_iteration", "optimizer", "rng", "scaler", "world_size"]
    assert state["experiment"] == source["experiment"] and state["plugins"] == source["plugins"]
    assert state["published_from"] == {"file": "latest.pth", "epoch": 1, "iteration": source["iteration"],
                                       "best": source["best"]}
    assert state["model"].keys() == source["model"].keys()
    assert all(torch.equal(state["model"][k], v) for k, v in source["model"].items())

    metrics = {}
    for checkpoint in (trained, published):
        assert main(["test", str(exp), "--checkpoint", str(checkpoint), "--json"]) == 0
        metrics[checkpoint] = json.loads(capsys.readouterr().out)
    assert metrics[published] == metrics[trained] and "top1" in metrics[published]


def test_out_without_suffix_and_the_text_report(tmp_path, capsys):
    """A bare state dict publishes too; OUT needs no ``.pth``; the report prints path and sha256."""
    source = tmp_path / "weights.pth"
    torch.save({"fc.weight": torch.ones(2, 3)}, source)
    assert main(["publish", str(source), str(tmp_path / "model")]) == 0
    out = capsys.readouterr().out
    match = re.search(r"wrote (\S+-([0-9a-f]{8})\.pth) ", out)
    assert match and Path(match[1]).name == f"model-{match[2]}.pth"
    sha256 = hashlib.sha256(Path(match[1]).read_bytes()).hexdigest()
    assert f"sha256 {sha256}" in out and sha256.startswith(match[2])
    assert torch.equal(load_checkpoint(match[1])["model"]["fc.weight"], torch.ones(2, 3))


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, capsys):
    (tmp_path / "notes.pth").write_text("not a checkpoint")
    assert main(["publish", str(tmp_path / "notes.pth"), str(tmp_path / "out")]) == 2
    assert str(tmp_path / "notes.pth") in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.pth"]
