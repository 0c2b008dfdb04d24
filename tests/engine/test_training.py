"""The training engine end to end: resume after kill -9, DDP, NaN stops, logs, checkpoints."""
from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from actioncore.engine.checkpoint import load_checkpoint


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def test_run_writes_checkpoints_logs_and_tensorboard(actioncore, experiment_file, tmp_path):
    exp = experiment_file(tmp_path)
    metrics = json.loads(actioncore("run", str(exp), "--json").stdout)
    assert set(metrics) >= {"top1", "top5", "mean_class_accuracy"} and 0 <= metrics["top1"] <= 1
    wd = tmp_path / "wd"
    names = sorted(p.name for p in (wd / "checkpoints").iterdir())
    assert names == ["best.pth", "epoch_1.pth", "epoch_2.pth", "latest.pth"]
    state = load_checkpoint(wd / "checkpoints/latest.pth")
    assert state["format"] == "actioncore-checkpoint" and state["epoch"] == 2 and state["iteration"] == 12
    assert "actioncore-toy3d" in state["plugins"] and "[model.backbone]" in state["experiment"]
    assert (wd / "run.log").read_text().splitlines()[0].split(" INFO ")[1].startswith("plugins loaded: actioncore")
    events = [json.loads(line) for line in (wd / "log.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events][0] == "run_start" and events[-1] == {**events[-1], "event": "run_end", "status": "finished"}
    assert sum(e["event"] == "evaluation" for e in events) == 2
    scalars = read_tensorboard(next((wd / "tensorboard").glob("events.out.tfevents.*")))
    assert {"train/loss", "train/lr", "train/clips_per_s", "val/top1", "val/mean_class_accuracy"} <= set(scalars["scalars"])
    assert scalars["scalars"]["train/loss"][0][0] == 2  # logged every log_interval = 2 iterations
    assert "val/confusion_matrix" in scalars["images"]


def read_tensorboard(path: Path) -> dict[str, dict]:
    """Read a TensorBoard event file record by record (TFRecord framing, tensorboardX protobufs)."""
    from tensorboardX.proto import event_pb2

    data, offset = path.read_bytes(), 0
    scalars: dict[str, list] = {}
    images: set[str] = set()
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        event = event_pb2.Event.FromString(data[offset + 12:offset + 12 + length])
        offset += 12 + length + 4
        for value in event.summary.value:
            if value.HasField("image"):
                images.add(value.tag)
            else:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return {"scalars": scalars, "images": images}


@pytest.mark.slow
def test_ddp_two_processes_match_single_process_evaluation(actioncore, experiment_file, tiny_data, tmp_path):
    odd = tmp_path / "val23.txt"
    odd.write_text("\n".join((tiny_data / "val.txt").read_text().splitlines()[:23]) + "\n")
    extra = f"""
        [data.test]
        type = "video_list"
        ann_file = "{odd}"
        root = "{tiny_data / 'videos'}"
        pipeline = [
          {{type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 2, test_mode = true}},
          {{type = "decode"}},
          {{type = "resize", scale = [16, 16], keep_ratio = false}},
          {{type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]}},
          {{type = "format_shape", input_format = "NCTHW"}},
        ]
    """
    exp = experiment_file(tmp_path, epochs=2, extra=extra)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port",
                str(free_port()), "-m", "actioncore"]
    ddp = subprocess.run([*torchrun, "run", str(exp), "--json"], capture_output=True, text=True, timeout=600)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    trained = json.loads(ddp.stdout)
    best = str(tmp_path / "wd/checkpoints/best.pth")
    ddp_test = subprocess.run([*torchrun, "test", str(exp), "--checkpoint", best, "--out", str(tmp_path / "ddp.json"),
                               "--json"], capture_output=True, text=True, timeout=600)
    assert ddp_test.returncode == 0, ddp_test.stderr[-3000:]
    single = json.loads(actioncore("test", str(exp), "--checkpoint", best, "--out", str(tmp_path / "single.json"),
                                   "--json").stdout)
    assert trained == json.loads(ddp_test.stdout) == single
    by_ddp, by_one = (json.loads((tmp_path / name).read_text())["samples"] for name in ("ddp.json", "single.json"))
    assert [p["index"] for p in by_ddp] == [p["index"] for p in by_one] == list(range(23))
    for a, b in zip(by_ddp, by_one):
        assert [x["label"] for x in a["predictions"]] == [x["label"] for x in b["predictions"]]
        assert [x["score"] for x in a["predictions"]] == pytest.approx([x["score"] for x in b["predictions"]], abs=1e-5)
    state = load_checkpoint(tmp_path / "wd/checkpoints/latest.pth")
    assert state["world_size"] == 2 and len(state["rng"]) == 2


@pytest.mark.slow
def test_load_from_reinitialises_a_head_of_another_size_and_infer_names_classes(actioncore, experiment_file, tiny_data, tmp_path):
    first = experiment_file(tmp_path / "first", epochs=1)
    actioncore("run", str(first))
    checkpoint = tmp_path / "first/wd/checkpoints/latest.pth"
    second = experiment_file(tmp_path / "second", epochs=1)
    log = tmp_path / "second/wd/run.log"
    result = actioncore("run", str(second), "--set", f"runtime.load_from='{checkpoint}'",
                        "--set", "model.head.num_classes=5", check=False)
    # labels of the data set go up to 11, so training a 5-class head must fail on the label check
    assert result.returncode == 2 and "label 5 is outside [0, 5)" in result.stderr
    ok = actioncore("run", str(second), "--set", f"runtime.load_from='{checkpoint}'")
    assert "re-initialised" not in (tmp_path / "second/wd/run.log").read_text()
    assert log.exists() and ok.returncode == 0
    video = next((tiny_data / "videos/square").glob("*.mp4"))
    predictions = json.loads(actioncore("infer", str(second), "--checkpoint",
                                        str(tmp_path / "second/wd/checkpoints/latest.pth"),
                                        "--set", f"task.classes='{tiny_data / 'classes.txt'}'",
                                        str(video), "--topk", "3", "--json").stdout)
    assert predictions[0]["input"] == str(video) and len(predictions[0]["predictions"]) == 3
    assert {"label", "name", "score"} == set(predictions[0]["predictions"][0])
    assert sum(p["score"] for p in predictions[0]["predictions"]) <= 1.0 + 1e-6


def test_load_from_says_which_tensors_were_reinitialised(tmp_path):
    from actioncore.engine.checkpoint import save_checkpoint
    from actioncore.engine.trainer import load_weights

    small, big = nn_pair()
    path = save_checkpoint(tmp_path / "w.pth", {"model": small.state_dict()})
    notes = load_weights(big, path, strict=False)
    assert notes == ["re-initialised fc.weight: checkpoint [3, 4], model [5, 4]",
                     "re-initialised fc.bias: checkpoint [3], model [5]"]
    assert torch.equal(big.body.weight, small.body.weight)


def nn_pair():
    from torch import nn

    def net(classes):
        model = nn.Module()
        model.body, model.fc = nn.Linear(4, 4), nn.Linear(4, classes)
        return model

    return net(3), net(5)


@pytest.mark.slow
def test_amp_bf16_on_cpu_trains_and_bench_model_reports_rates(actioncore, experiment_file, tmp_path):
    exp = experiment_file(tmp_path, epochs=1)
    metrics = json.loads(actioncore("run", str(exp), "--set", "runtime.amp=true", "--set", "optim.grad_clip=5.0",
                                    "--set", "optim.accumulate=2", "--json").stdout)
    assert 0 <= metrics["top1"] <= 1
    events = [json.loads(l) for l in (tmp_path / "wd/log.jsonl").read_text().splitlines()]
    assert any("grad_norm" in e for e in events if e["event"] == "train")
    bench = json.loads(actioncore("bench", "model", str(exp), "--iterations", "2", "--json").stdout)
    assert bench["train_clips_per_s"] > 0 and bench["infer_clips_per_s"] > 0
    assert bench["input_shape"] == [8, 1, 3, 4, 16, 16]
    assert bench["input_from"].endswith(" frames)") and "blank" not in bench["input_from"]  # the train list's first video
    channels_last = json.loads(actioncore("bench", "model", str(exp), "--iterations", "1", "--channels-last",
                                          "--json").stdout)
    assert channels_last["channels_last"] is True and channels_last["train_clips_per_s"] > 0
    from_config = json.loads(actioncore("bench", "model", str(exp), "--iterations", "1", "--set",
                                        "runtime.channels_last=true", "--json").stdout)
    assert from_config["channels_last"] is True
