"""The shipped examples: MMAction2's parameter counts for the full-size families; the quickstart loads."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import torch

import actioncore
from actioncore.testing import count_parameters

pytestmark = pytest.mark.actioncore_plugins("actioncore_semi.hooks", "actioncore_recognition.hooks",
                                            "actioncore_lists.hooks", "actioncore_toy3d.hooks",
                                            "actioncore_resnet3d.hooks", "actioncore_cls_heads.hooks",
                                            "actioncore_tsm.hooks", "actioncore_tsn.hooks", "actioncore_augment.hooks")

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_semi/examples"

# MMAction2's counts: R(2+1)D-34 backbone 63,554,081 (its Kinetics-400 config: 63,759,281 with a
# 400-way I3D head of 205,200) plus the I3D head 512 x C + C.
FULL_SIZE = {"semi_r2plus1d_r34_8x8x1_360e_ucf101_rgb_10percent.toml": 63_554_081 + 512 * 101 + 101}


@pytest.mark.parametrize("name", FULL_SIZE)
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, name):
    table = tomllib.loads((EXAMPLES / name).read_text())
    with torch.device("meta"):
        model = actioncore.build_model(table["model"])
    assert count_parameters(model) == FULL_SIZE[name]


def test_every_example_is_linked_from_the_repository_examples():
    linked = Path(__file__).resolve().parents[4] / "examples/semi"
    assert sorted(p.name for p in EXAMPLES.glob("*.toml")) == sorted(p.name for p in linked.glob("*.toml"))
    assert all((linked / p.name).resolve() == p.resolve() for p in EXAMPLES.glob("*.toml"))


def test_quickstart_loads_with_ten_percent_labels(actioncore_host):
    experiment = actioncore.load_config(EXAMPLES / "quickstart_semi.toml")
    assert experiment.task.type == "semi_recognition"
    assert experiment.data.train.params["ann_file"] == "data/synth/split10/labeled.txt"
    assert experiment.data.unlabeled.params["ann_file"] == "data/synth/train.txt"
    assert experiment.data.unlabeled.extra["strong_pipeline"]
