"""``infer`` on the experiment's device with N clips per video; ``info`` names its FLOP convention."""
from __future__ import annotations

import json

import pytest
import torch

from actioncore.cli import main


def test_infer_scores_n_clips_per_video_on_the_runtime_device(experiment_file, tiny_data, tmp_path, capsys):
    exp = experiment_file(tmp_path, epochs=1, test=True)
    assert main(["run", str(exp), "--no-progress"]) == 0
    checkpoint = str(tmp_path / "wd" / "checkpoints" / "best.pth")
    videos = [str(p) for p in sorted((tiny_data / "videos").rglob("*.mp4"))[:2]]
    capsys.readouterr()

    def infer(*extra: str) -> list[dict]:
        assert main(["infer", str(exp), "--checkpoint", checkpoint, *videos, "--json", *extra]) == 0
        return json.loads(capsys.readouterr().out)

    one, three = infer(), infer("--clips", "3")
    assert [r["clips"] for r in one] == [1, 1] and [r["clips"] for r in three] == [3, 3]
    assert {r["device"] for r in one + three} == {"cpu"}  # runtime.device = "auto" on a machine without a GPU
    for a, b in zip(one, three):  # the average of three clips is not the first clip's score
        assert sum(p["score"] for p in b["predictions"]) <= 1.0 + 1e-6
        assert a["predictions"] != b["predictions"]
    assert main(["infer", str(exp), "--checkpoint", checkpoint, videos[0], "--clips", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{videos[0]}  (3 clip(s), cpu)"
    assert main(["infer", str(exp), "--checkpoint", checkpoint, videos[0], "--clips", "0"]) == 2
    assert "--clips must be an integer >= 1" in capsys.readouterr().err
    if not torch.cuda.is_available():  # the model goes where runtime.device says, not always to the CPU
        assert main(["infer", str(exp), "--checkpoint", checkpoint, videos[0], "--set", 'runtime.device="cuda"']) == 2
        assert "runtime.device = 'cuda', but no CUDA device is available" in capsys.readouterr().err


@pytest.mark.parametrize("convention, first_word", [("flops", "FLOPs:"), ("macs", "MACs:")])
def test_info_states_and_switches_the_flop_convention(experiment_file, tmp_path, capsys, convention, first_word):
    exp = str(experiment_file(tmp_path))
    assert main(["info", exp, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["flops"] > 0 and info["macs"] == info["flops"] // 2
    assert main(["info", exp, "--flops", convention]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith(first_word))
    assert info["flops"] < 1e9  # the tiny model: millions
    assert line.split()[1:3] == [f"{info[convention] / 1e6:.2f}", "M"]
    assert f"{info['macs' if convention == 'flops' else 'flops'] / 1e6:.2f} M" in line and 'MMAction2' in line and '"FLOPs"' in line
