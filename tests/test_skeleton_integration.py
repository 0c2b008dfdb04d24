"""`actioncore run` of the tiny ST-GCN and PoseC3D examples on the embedded skeleton set: >= 90% top-1.

Then the trained ST-GCN goes through `actioncore test --out` (full-score predictions) and
`actioncore infer` on one pose record.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from actioncore.cli import main
from actioncore.sdk.data import synthesize

PLUGINS = Path(__file__).resolve().parents[1] / "plugins" / "backbones"
EXAMPLES = {"tiny_stgcn.toml": PLUGINS / "stgcn/actioncore_stgcn/examples/tiny_stgcn.toml",
            "tiny_posec3d.toml": PLUGINS / "posec3d/actioncore_posec3d/examples/tiny_posec3d.toml"}

pytestmark = [pytest.mark.slow, pytest.mark.actioncore_plugins(
    "actioncore_pose.hooks", "actioncore_skeleton.hooks", "actioncore_recognition.hooks", "actioncore_stgcn.hooks",
    "actioncore_posec3d.hooks", "actioncore_resnet3d.hooks", "actioncore_cls_heads.hooks")]


@pytest.fixture(autouse=True)
def one_thread():
    """These models are small: a second thread buys little, and on a busy machine two spinning
    OpenMP threads can make each step a hundred times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def skeleton_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("skeleton") / "synth"
    synthesize("skeleton", out, seed=0)
    return out


def overrides(data: Path) -> list[str]:
    sets = [f'data.{split}.root="{data / "poses"}"' for split in ("train", "val", "test")]
    sets.append(f'task.classes="{data / "classes.txt"}"')
    return [arg for s in sets for arg in ("--set", s)]


def run(example: str, data: Path, work_dir: Path, capsys) -> dict[str, float]:
    assert main(["run", str(EXAMPLES[example]), *overrides(data), "--work-dir", str(work_dir), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_tiny_stgcn_learns_the_embedded_actions(skeleton_set, tmp_path, capsys, actioncore_host):
    metrics = run("tiny_stgcn.toml", skeleton_set, tmp_path, capsys)
    assert metrics["top1"] >= 0.9, metrics
    checkpoint = tmp_path / "checkpoints" / "best.pth"
    assert main(["test", str(EXAMPLES["tiny_stgcn.toml"]), *overrides(skeleton_set), "--checkpoint", str(checkpoint),
                 "--out", str(tmp_path / "preds.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top1"] == pytest.approx(metrics["top1"])
    predictions = json.loads((tmp_path / "preds.json").read_text())
    assert len(predictions["samples"]) == 64 and len(predictions["samples"][0]["scores"]) == 8
    record = f"{skeleton_set / 'poses' / 'index.json'}#test/jump_0003"
    assert main(["infer", str(EXAMPLES["tiny_stgcn.toml"]), *overrides(skeleton_set), "--checkpoint",
                 str(checkpoint), record, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["input"] == record and result["predictions"][0]["name"] == "jump"


def test_tiny_posec3d_learns_the_embedded_actions(skeleton_set, tmp_path, capsys, actioncore_host):
    metrics = run("tiny_posec3d.toml", skeleton_set, tmp_path, capsys)
    assert metrics["top1"] >= 0.9, metrics
