"""``[data.unlabeled]`` and ``strong_pipeline``: config, weak/strong views of one clip, checks."""
from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from actioncore.config import dump_experiment, load_config
from actioncore.builtin.synth import synthesize
from actioncore.data.loader import build_loader
from actioncore.data.splits import build_split
from actioncore.data.views import split_at_format
from actioncore.engine.trainer import Trainer
from actioncore.errors import ConfigError, DataError
from actioncore.plugin.host import PluginHost, use_host

WEAK = """[
  {type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 1},
  {type = "decode"},
  {type = "random_resized_crop"},
  {type = "resize", scale = [16, 16], keep_ratio = false},
  {type = "flip", flip_ratio = 0.5},
  {type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]},
  {type = "format_shape", input_format = "NCTHW"},
]"""
STRONG = '[{type = "color_jitter", brightness = 0.9, contrast = 0.0, saturation = 0.0, hue = 0.0}]'


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    synthesize("recognition", root, seed=0, size="tiny")
    return root


@pytest.fixture(autouse=True)
def host():
    host = PluginHost(autoload=False)
    for module in ("actioncore_lists.hooks", "actioncore_toy3d.hooks", "actioncore_recognition.hooks"):
        host.register(module)
    with use_host(host):
        yield host


def experiment(root: Path, tmp_path: Path, *, unlabeled_list: Path | None = None, strong: str = STRONG,
               extra: str = "") -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(textwrap.dedent(f"""
        [task]
        type = "recognition"
        [model.backbone]
        type = "toy3d"
        [model.head]
        type = "linear_head"
        in_channels = 16
        num_classes = 3
        [data]
        batch_size = 4
        workers = 0
        [data.train]
        type = "video_list"
        ann_file = "{root / 'train.txt'}"
        root = "{root / 'videos'}"
        pipeline = {WEAK}
        [data.unlabeled]
        type = "video_list"
        ann_file = "{unlabeled_list or root / 'train.txt'}"
        root = "{root / 'videos'}"
        pipeline = {WEAK}
        strong_pipeline = {strong}
    """) + textwrap.dedent(extra))
    return path


def test_unlabeled_split_reads_strong_pipeline_and_round_trips(synth_root, tmp_path, host):
    exp = load_config(experiment(synth_root, tmp_path))
    spec = exp.data.unlabeled
    assert spec.type == "video_list" and "strong_pipeline" not in spec.params
    assert [s.type for s in spec.extra["strong_pipeline"]] == ["color_jitter"]
    text = dump_experiment(exp, host.registry)
    assert tomllib.loads(text)["data"]["unlabeled"]["strong_pipeline"][0]["type"] == "color_jitter"
    again = tmp_path / "again.toml"
    again.write_text(text)
    assert load_config(again) == exp


def test_strong_pipeline_is_only_known_to_train_and_unlabeled(synth_root, tmp_path):
    path = experiment(synth_root, tmp_path, extra=f"""
        [data.val]
        type = "video_list"
        ann_file = "{synth_root / 'val.txt'}"
        pipeline = {WEAK}
        strong_pipeline = []
    """)
    with pytest.raises(ConfigError, match=r"data\.val\.strong_pipeline: unknown key"):
        load_config(path)
    bad_step = experiment(synth_root, tmp_path, strong='[{type = "no_such_step"}]')
    with pytest.raises(ConfigError, match=r"data\.unlabeled\.strong_pipeline\[0\]"):
        load_config(bad_step)


def test_strong_view_shares_frames_crop_and_flip_and_is_reproducible(synth_root, tmp_path, host):
    exp = load_config(experiment(synth_root, tmp_path))
    dataset = build_split(exp, "unlabeled", host.registry)
    for index in range(6):
        weak = dataset[(2, index)]
        strong = weak.meta["strong_view"]
        assert weak.frames.shape == strong.frames.shape == (1, 3, 4, 16, 16)
        assert np.array_equal(weak.frame_indices, strong.frame_indices)
        assert weak.meta["flip"] == strong.meta["flip"]
        # brightness is the only strong step: each strong pixel is the weak one scaled by one factor
        factor = strong.meta["color_jitter"]["brightness"]
        expected = (weak.frames.float() * factor).round().clamp(0, 255)
        assert (expected - strong.frames.float()).abs().max() <= 1
        again = dataset[(2, index)].meta["strong_view"]
        assert torch.equal(again.frames, strong.frames)
    factors = {dataset[(e, 0)].meta["strong_view"].meta["color_jitter"]["brightness"] for e in range(5)}
    assert len(factors) == 5  # drawn per (epoch, index)


def test_loader_collates_the_strong_views(synth_root, tmp_path, host):
    exp = load_config(experiment(synth_root, tmp_path))
    loader = build_loader(build_split(exp, "unlabeled", host.registry), batch_size=4, workers=0, shuffle=True)
    loader.sampler.set_epoch(1)
    batch = next(iter(loader))
    assert batch["inputs"].shape == batch["strong"]["inputs"].shape == (4, 1, 3, 4, 16, 16)
    assert batch["strong"]["normalize"] == batch["normalize"]
    assert torch.equal(batch["strong"]["labels"], batch["labels"])
    assert not torch.equal(batch["strong"]["inputs"], batch["inputs"])


def test_strong_steps_run_before_format_shape():
    head, tail = split_at_format(["a", "b"])
    assert head == ["a", "b"] and tail == []


def test_unlabeled_labels_are_not_checked_against_the_model_classes(synth_root, tmp_path, host):
    # the tiny set has 12 classes, the model 3: train fails the check, unlabeled does not
    exp = load_config(experiment(synth_root, tmp_path))
    assert len(build_split(exp, "unlabeled", host.registry)) > 0
    with pytest.raises(DataError, match="outside"):
        build_split(exp, "train", host.registry)


def test_an_empty_unlabeled_list_names_the_file(synth_root, tmp_path, host):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n")
    exp = load_config(experiment(synth_root, tmp_path, unlabeled_list=empty))
    with pytest.raises(DataError, match=f"{empty}.*no samples"):
        build_split(exp, "unlabeled", host.registry)


def test_a_task_without_its_own_train_loader_refuses_unlabeled_data(synth_root, tmp_path, host):
    exp = load_config(experiment(synth_root, tmp_path))
    exp.runtime.work_dir = str(tmp_path / "wd")
    with pytest.raises(ConfigError, match="data.unlabeled: task 'recognition' does not train on unlabeled"):
        Trainer(exp, _Adapter(), host=host).fit()
    exp.data.unlabeled = None
    exp.data.train.extra["strong_pipeline"] = []
    with pytest.raises(ConfigError, match="data.train.strong_pipeline: task 'recognition' does not use"):
        Trainer(exp, _Adapter(), host=host).fit()


class _Adapter:
    """Fails if the trainer got as far as the model: the data checks come first."""

    def build_model(self, experiment):
        return torch.nn.Linear(1, 1)
