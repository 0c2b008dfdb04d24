"""OmniSource multi-source training: videos plus web images as one-frame clips, per-source
batch sizes, shares and loss weights, exact resume, an empty source named."""
from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from actioncore.cli import main
from actioncore.sdk.data import synthesize
from actioncore.testing import tiny_recognizer_toml, tiny_run_toml

PIPELINE = """[
  {{type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 1, test_mode = {test}}},
  {{type = "decode"}},
  {{type = "resize", scale = [16, 16], keep_ratio = false}},
  {{type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]}},
  {{type = "format_shape", input_format = "NCTHW"}},
]"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("omni")
    synthesize("recognition", root, seed=0, size="tiny")
    images = root / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(images / f"web{i}.jpg")
        lines.append(f"web{i}.jpg {i % 12}\n")
    (root / "web.txt").write_text("".join(lines))
    (root / "empty.txt").write_text("# nothing\n")
    return root


def experiment(data: Path, folder: Path, *, weight: float = 1.0, web: str = "web.txt", every: int = 1,
               extra_runtime: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    split = lambda name, test: textwrap.dedent(f"""
        [data.{name}]
        type = "video_list"
        ann_file = "{data / f'{name}.txt'}"
        root = "{data / 'videos'}"
        pipeline = {PIPELINE.format(test=test)}
    """)
    text = ('[task]\ntype = "recognition"\n' + tiny_recognizer_toml(dropout=None)
            + tiny_run_toml(folder / "wd", epochs=2).replace("[runtime]\n", f"[runtime]\n{extra_runtime}")
            + split("train", "false") + textwrap.dedent(f"""
        [[data.train.extra_sources]]
        name = "web"
        type = "image_list"
        ann_file = "{data / web}"
        root = "{data / 'images'}"
        batch_size = 4
        every = {every}
        loss_weight = {weight}
        pipeline = {PIPELINE.format(test="false")}
    """) + split("val", "true"))
    (folder / "exp.toml").write_text(text)
    return folder / "exp.toml"


def train_events(folder: Path) -> list[dict]:
    return [e for e in map(json.loads, (folder / "wd/log.jsonl").read_text().splitlines()) if e["event"] == "train"]


def test_two_sources_train_log_both_losses_and_resume_exactly(data, tmp_path, capsys, monkeypatch):
    from actioncore.sdk.engine import Trainer

    exp = experiment(data, tmp_path / "a", every=2, extra_runtime="checkpoint_every_iters = 3\n")
    save, kept = Trainer._save, tmp_path / "kept"
    kept.mkdir()

    def keep_mid_epoch(self, *args, **kwargs):  # the trainer drops iter_*.pth at the epoch's end
        save(self, *args, **kwargs)
        for path in self.checkpoints.glob("iter_3.pth"):
            shutil.copy(path, kept / path.name)

    monkeypatch.setattr(Trainer, "_save", keep_mid_epoch)
    assert main(["run", str(exp), "--json"]) == 0
    events = train_events(tmp_path / "a")
    assert any("loss_web" in e for e in events) and all("loss_main" in e for e in events)
    # every = 2: the web source joins iterations 0, 2, 4, ... only
    assert [("loss_web" in e) for e in events[:4]] == [True, False, True, False]
    ckpts = tmp_path / "a/wd/checkpoints"
    final = torch.load(ckpts / "epoch_2.pth", weights_only=True)["model"]
    # resume from the mid-epoch checkpoint (iteration 3 of epoch 1): same weights at the end
    for path in ckpts.iterdir():
        path.unlink()
    shutil.copy(kept / "iter_3.pth", ckpts / "latest.pth")
    assert main(["run", str(exp), "--resume", "--json"]) == 0
    again = torch.load(ckpts / "epoch_2.pth", weights_only=True)["model"]
    for key, value in final.items():
        assert torch.equal(value, again[key]), key
    capsys.readouterr()


def test_a_zero_loss_weight_leaves_the_source_out_of_the_gradient(data, tmp_path):
    from actioncore import load_config
    from actioncore_recognition.task import RecognitionAdapter, RecognitionTask

    exp = load_config(experiment(data, tmp_path / "w"))
    adapter = RecognitionAdapter(RecognitionTask(), exp)
    torch.manual_seed(0)
    model = adapter.build_model(exp)
    batch = lambda n, seed: {"inputs": torch.randint(0, 255, (n, 1, 3, 4, 16, 16), dtype=torch.uint8,
                                                     generator=torch.Generator().manual_seed(seed)),
                             "labels": torch.arange(n) % 12, "indices": torch.arange(n)}
    main_batch, web_batch = batch(4, 1), batch(3, 2)

    def grads(per_source, weights):
        adapter.loss_weights = weights
        model.zero_grad()
        out = adapter.train_step(model, {"per_source": per_source, "iteration": 0}, torch.device("cpu"))
        out["loss"].backward()
        return out, [p.grad.clone() for p in model.parameters()]

    alone, g_alone = grads({"main": [main_batch]}, {})
    zero, g_zero = grads({"main": [main_batch], "web": [web_batch]}, {"web": 0.0})
    one, g_one = grads({"main": [main_batch], "web": [web_batch]}, {"web": 1.0})
    assert "loss_web" in zero and float(zero["loss"]) == pytest.approx(float(alone["loss"]))
    assert all(torch.allclose(a, b) for a, b in zip(g_alone, g_zero))
    assert not all(torch.allclose(a, b) for a, b in zip(g_alone, g_one))
    assert float(one["loss"]) == pytest.approx(float(one["loss_main"]) + float(one["loss_web"]), rel=1e-5)


def test_an_empty_source_is_named(data, tmp_path, capsys):
    exp = experiment(data, tmp_path / "e", web="empty.txt")
    assert main(["run", str(exp)]) != 0
    err = capsys.readouterr().err
    assert re.search(r"data.train.extra_sources\[0\] \('web'\): .*empty.txt", err), err[-2000:]
