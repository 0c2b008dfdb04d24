"""A tiny recognition experiment on the embedded data set, shared by the engine tests."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from actioncore.builtin.synth import synthesize


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    synthesize("recognition", root, seed=0, size="tiny")
    return root


PIPELINE = """[
  {{type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = {clips}, test_mode = {test}}},
  {{type = "decode"}},
  {{type = "resize", scale = [16, 16], keep_ratio = false}},
  {{type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]}},
  {{type = "format_shape", input_format = "NCTHW"}},
]"""


@pytest.fixture
def experiment_file(tiny_data):
    """``experiment_file(folder, epochs=2, extra="", workers=0)`` writes a tiny experiment."""
    return lambda folder, **kw: write_experiment(tiny_data, folder, **kw)


CHAOS_PLUGIN = """
import os, signal
import actioncore

@actioncore.hookimpl
def actioncore_after_iteration(run, outputs):
    if os.environ.get("CHAOS_KILL_AT") == str(run.iteration):
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("CHAOS_NAN_AT") == str(run.iteration):
        next(iter(run.model.parameters())).data.fill_(float("nan"))

@actioncore.hookimpl
def actioncore_checkpoint_saved(run, path, tags):
    if os.environ.get("CHAOS_KILL_AFTER_SAVING") == tags[0]:
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def chaos_env(site_dir):
    """Environment for CLI runs with a plugin that kills the process or poisons the weights."""
    site_dir.add("acme-chaos", {"acme_chaos": CHAOS_PLUGIN}, {"chaos": "acme_chaos"})
    return site_dir.env


def write_experiment(root: Path, folder: Path, *, epochs: int = 2, extra: str = "", workers: int = 0) -> Path:
    def split(name: str, test: bool) -> str:
        return textwrap.dedent(f"""
            [data.{name}]
            type = "video_list"
            ann_file = "{root / f'{name}.txt'}"
            root = "{root / 'videos'}"
            pipeline = {PIPELINE.format(clips=1, test='true' if test else 'false')}
        """)

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.toml"
    path.write_text(textwrap.dedent(f"""
        [task]
        type = "recognition"
        [model]
        type = "recognizer3d"
        [model.backbone]
        type = "toy3d"
        width = 4
        depth = 2
        [model.head]
        type = "linear_head"
        in_channels = 8
        num_classes = 12
        dropout = 0.3
        [data]
        batch_size = 8
        workers = {workers}
        [optim]
        lr = 0.05
        [schedule]
        epochs = {epochs}
        policy = "cosine"
        [runtime]
        work_dir = "{folder / 'wd'}"
        log_interval = 2
        deterministic = true
    """) + split("train", False) + split("val", True) + textwrap.dedent(extra))
    return path
