"""Supervised training with the task's batch steps, and the whole augmentation path on the embedded set."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from actioncore.cli import main
from actioncore.testing import tiny_recognizer_toml, tiny_run_toml

from actioncore_augment.boxes import read_person_boxes

PIPELINE = """[
  {{type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 1, test_mode = {test}}},
  {{type = "decode"}},{extra}
  {{type = "resize", scale = [16, 16], keep_ratio = false}},{after}
  {{type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]}},
  {{type = "format_shape", input_format = "NCTHW"}},
]"""


def experiment(root: Path, folder: Path, *, task: str = "", extra: str = "", after: str = "") -> Path:
    def split(name: str, test: bool) -> str:
        return textwrap.dedent(f"""
            [data.{name}]
            type = "video_list"
            ann_file = "{root / f'{name}.txt'}"
            root = "{root / 'videos'}"
        """) + "pipeline = " + PIPELINE.format(test="true" if test else "false", extra="" if test else extra,
                                                after="" if test else after) + "\n"

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.toml"
    path.write_text('[task]\ntype = "recognition"\n' + textwrap.dedent(task).strip() + "\n"
                    + tiny_recognizer_toml(dropout=None) + tiny_run_toml(folder / "wd")
                    + split("train", False) + split("val", True))
    return path


def train_losses(path: Path) -> list[float]:
    assert main(["run", str(path)]) == 0
    events = [json.loads(line) for line in (path.parent / "wd" / "log.jsonl").read_text().splitlines()]
    return [e["loss"] for e in events if e["event"] == "train"]


def test_mixup_trains_and_changes_the_loss(tiny_synth, tmp_path):
    plain = train_losses(experiment(tiny_synth, tmp_path / "plain"))
    mixed = train_losses(experiment(tiny_synth, tmp_path / "mixup", task='batch_steps = [{type = "mixup", alpha = 0.2}]'))
    assert len(plain) == len(mixed) == 6  # 48 clips / 8
    assert all(np.isfinite(mixed))
    assert mixed[0] != pytest.approx(plain[0], rel=1e-4)  # the first batch already differs
    again = train_losses(experiment(tiny_synth, tmp_path / "again", task='batch_steps = [{type = "mixup", alpha = 0.2}]'))
    assert again == mixed  # seeded from (seed, iteration): the same run mixes the same way


def test_bench_hands_the_mixing_step_its_iteration(tiny_synth, tmp_path, capsys):
    # batch steps draw from (seed, iteration), which the trainer sets: the benchmarks set it too
    path = str(experiment(tiny_synth, tmp_path, task='batch_steps = [{type = "mixup", alpha = 0.2}]'))
    assert main(["bench", "model", path, "--iterations", "2", "--json"]) == 0
    bench = json.loads(capsys.readouterr().out)
    assert bench["train_clips_per_s"] > 0 and bench["train_clips_per_step"] == 8
    assert bench["train_batch_from"] == "the first batch of data.train"  # read from the data, as training does
    assert main(["bench", "data", path, "--clips", "16", "--workers-sweep", "0", "--with-model", "--json"]) == 0
    sweep = json.loads(capsys.readouterr().out)
    assert sweep["timed"] == "train pipeline" and sweep["sweep"][0]["with_model_step_clips_per_s"] > 0

def test_a_sample_step_in_batch_steps_is_a_config_error(tiny_synth, tmp_path, capsys):
    path = experiment(tiny_synth, tmp_path / "bad", task='batch_steps = [{type = "flip"}]')
    assert main(["run", str(path)]) != 0
    assert "task.batch_steps[0]" in capsys.readouterr().err


def test_synth_person_boxes_cover_every_listed_video(tiny_synth):
    boxes = read_person_boxes(tiny_synth / "person_boxes.json")
    for split in ("train", "val", "test"):
        for line in (tiny_synth / f"{split}.txt").read_text().splitlines():
            key = boxes.key_for(str(tiny_synth / "videos" / line.split()[0]))
            rows = boxes.all_boxes(key)
            assert len(rows) and (rows[:, 4] == 1.0).all() and rows[:, :4].max() <= 32
    assert len(boxes.rows) == 12 * 8


def test_strong_augmentation_and_actor_cutmix_train_on_the_embedded_set(tiny_synth, tmp_path):
    extra = f"""
  {{type = "person_boxes", file = "{tiny_synth / 'person_boxes.json'}"}},"""
    after = """
  {type = "flip", flip_ratio = 0.5},
  {type = "person_mask"},
  {type = "rand_augment", num_ops = 2, magnitude = 10},
  {type = "temporal_augment"},"""
    path = experiment(tiny_synth, tmp_path / "strong", extra=extra, after=after,
                      task='batch_steps = [{type = "actor_cutmix", prob = 1.0}, {type = "cutmix", alpha = 1.0}]')
    losses = train_losses(path)
    assert len(losses) == 6 and all(np.isfinite(losses))
