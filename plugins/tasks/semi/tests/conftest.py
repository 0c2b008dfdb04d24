"""The embedded data set with a labeled fraction, and tiny semi-supervised experiments on it."""
from __future__ import annotations

import textwrap
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from actioncore.sdk.data import synthesize
from actioncore.testing import tiny_recognizer_toml


def split_labeled(list_file: Path, out: Path, *, fraction: float, seed: int) -> tuple[Path, Path]:
    """Per class ``max(round(n * fraction), 1)`` lines labeled (``actioncore data split``'s rule);
    ``out/labeled.txt`` and ``out/unlabeled.txt`` in the input list's format."""
    lines = [line for line in list_file.read_text().splitlines() if line.strip()]
    by_class: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        by_class[line.split()[-1]].append(line)
    rng = np.random.default_rng(seed)
    labeled = set()
    for members in by_class.values():
        count = max(round(len(members) * fraction), 1)
        labeled.update(members[i] for i in rng.choice(len(members), count, replace=False))
    out.mkdir(parents=True, exist_ok=True)
    (out / "labeled.txt").write_text("".join(f"{l}\n" for l in lines if l in labeled))
    (out / "unlabeled.txt").write_text("".join(f"{l}\n" for l in lines if l not in labeled))
    return out / "labeled.txt", out / "unlabeled.txt"


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    synthesize("recognition", root, seed=0, size="tiny")
    return root


def pipeline(*, test: bool = False, size: int = 16, layout: str = "NCTHW", clip_len: int = 4,
             boxes: Path | None = None) -> str:
    """A train (crop, flip) or test pipeline; ``boxes``: a person-box file, read after decoding and
    rendered into ``person_mask`` after the geometry (SEED003 §2.2's weak view)."""
    crop = "" if test else """
      {type = "random_resized_crop"},"""
    flip = "" if test else """
      {type = "flip", flip_ratio = 0.5},"""
    read = "" if boxes is None else f"""
      {{type = "person_boxes", file = "{boxes}"}},"""
    mask = "" if boxes is None else """
      {type = "person_mask"},"""
    return f"""[
      {{type = "sample_frames", clip_len = {clip_len}, frame_interval = 2, num_clips = 1, test_mode = {str(test).lower()}}},
      {{type = "decode"}},{read}{crop}
      {{type = "resize", scale = [{size}, {size}], keep_ratio = false}},{flip}{mask}
      {{type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]}},
      {{type = "format_shape", input_format = "{layout}"}},
    ]"""


STRONG = '[{type = "color_jitter", brightness = 0.5, contrast = 0.5, saturation = 0.5, hue = 0.0}]'

TOY3D = tiny_recognizer_toml()


def write_semi(root: Path, folder: Path, *, task: str = "threshold = 0.2", model: str = TOY3D, epochs: int = 2,
               labeled: Path | None = None, unlabeled: Path | None = None, extra: str = "",
               layout: str = "NCTHW", clip_len: int = 4, workers: int = 0, strong: str = STRONG,
               with_unlabeled: bool = True, boxes: bool = False, train_strong: bool = False) -> Path:
    """A tiny ``semi_recognition`` experiment on ``root`` (the tiny embedded set). ``boxes``: the
    training splits read the set's person boxes and render person masks (for ActorCutMix);
    ``train_strong``: ``[data.train]`` gets the ``strong_pipeline`` too (supervised_aug, semi_both)."""
    box_file = root / "person_boxes.json" if boxes else None

    def split(name: str, ann: Path, *, test: bool, strong_steps: str | None = None) -> str:
        more = f"\nstrong_pipeline = {strong_steps}" if strong_steps is not None else ""
        steps = pipeline(test=test, layout=layout, clip_len=clip_len, boxes=None if test else box_file)
        return textwrap.dedent(f"""
            [data.{name}]
            type = "video_list"
            ann_file = "{ann}"
            root = "{root / 'videos'}"
            pipeline = {steps}""") + more + "\n"

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.toml"
    body = textwrap.dedent(f"""
        [task]
        type = "semi_recognition"
    """) + textwrap.dedent(task) + "\n" + textwrap.dedent(model) + textwrap.dedent(f"""
        [data]
        batch_size = 4
        workers = {workers}
        [optim]
        lr = 0.05
        [schedule]
        epochs = {epochs}
        policy = "cosine"
        [runtime]
        work_dir = "{folder / 'wd'}"
        log_interval = 1
        deterministic = true
    """)
    body += split("train", labeled or root / "train.txt", test=False, strong_steps=strong if train_strong else None)
    body += split("val", root / "val.txt", test=True)
    if with_unlabeled:
        body += split("unlabeled", unlabeled or root / "train.txt", test=False, strong_steps=strong)
    path.write_text(body + textwrap.dedent(extra))
    return path


@pytest.fixture
def semi_experiment(tiny_data):
    """``semi_experiment(folder, **kw)``: :func:`write_semi` on the tiny set."""
    return lambda folder, **kw: write_semi(tiny_data, folder, **kw)


@pytest.fixture
def label_split():
    """:func:`split_labeled`."""
    return split_labeled


@pytest.fixture
def test_pipeline():
    return pipeline(test=True)
