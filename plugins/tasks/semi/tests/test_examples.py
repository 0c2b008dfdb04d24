"""The shipped examples: every SEED003 config family loads, its parameter count is MMAction2 1.2.0's
for the same backbone and head, and each is linked from the repository's ``examples/semi``."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

import actioncore
from actioncore.testing import count_parameters

pytestmark = pytest.mark.actioncore_plugins("actioncore_semi.hooks", "actioncore_recognition.hooks",
                                            "actioncore_lists.hooks", "actioncore_toy3d.hooks",
                                            "actioncore_resnet3d.hooks", "actioncore_cls_heads.hooks",
                                            "actioncore_tsm.hooks", "actioncore_tsn.hooks", "actioncore_augment.hooks")

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_semi/examples"

# Backbones: R(2+1)D-34 63,554,081 (MMAction2 1.2.0's Kinetics-400 config, 63,759,281, less its 400-way
# I3D head of 205,200; actioncore-resnet3d's parity table); R3D-18 (Conv3d, 3x7x7 stem) is
# torchvision's r3d_18 less its fc (checked below), 33,166,272. The I3D head: 512 x C + C.
R2PLUS1D_34, R3D_18 = 63_554_081, 33_166_272


def head(classes: int) -> int:
    return 512 * classes + classes


FULL_SIZE = {
    **{f"semi_r2plus1d_r34_8x8x1_360e_ucf101_rgb_{p}percent.toml": R2PLUS1D_34 + head(101) for p in (5, 10, 20, 50)},
    "semi_r2plus1d_r34_8x8x1_600e_hmdb51_rgb_40percent.toml": R2PLUS1D_34 + head(51),
    "semi_r2plus1d_r34_8x8x1_360e_kinetics100_rgb_10percent.toml": R2PLUS1D_34 + head(100),
    "semi_r3d_r18_8x8x1_360e_ucf101_rgb_10percent.toml": R3D_18 + head(101),
    "kd_r3d_r18_8x8x1_360e_ucf101_rgb_10percent.toml": R3D_18 + head(101),  # + the 1000-way distill head
    "semi_both_r2plus1d_r34_8x8x1_45e_ucf101_kinetics100_rgb.toml": R2PLUS1D_34 + head(101),
    "semi_both_r2plus1d_r34_8x8x1_30e_hmdb51_kinetics100_rgb.toml": R2PLUS1D_34 + head(51),
    "supervised_aug_r2plus1d_r34_8x8x1_180e_ucf101_rgb.toml": R2PLUS1D_34 + head(101),
    **{f"supervised_r2plus1d_r34_8x8x1_{e}e_ucf101_rgb_{p}percent.toml": R2PLUS1D_34 + head(101)
       for p, e in ((5, 3600), (10, 1800), (20, 900), (50, 360))},
    "supervised_r2plus1d_r34_8x8x1_750e_hmdb51_rgb_40percent.toml": R2PLUS1D_34 + head(51),
    "supervised_r2plus1d_r34_8x8x1_1800e_kinetics100_rgb_10percent.toml": R2PLUS1D_34 + head(100),
    "supervised_r3d_r18_8x8x1_180e_ucf101_rgb_100percent.toml": R3D_18 + head(101),
}

# What SEED003 fixes per family: task type / method, epochs, labeled clips per process, train list.
FAMILY = {
    "semi_r2plus1d_r34_8x8x1_360e_ucf101_rgb_10percent.toml": ("semi_recognition", 360, 5,
        "data/ucf101/videossl_splits/ucf101_train_10_percent_labeled_split_1_rawframes.txt"),
    "semi_r2plus1d_r34_8x8x1_600e_hmdb51_rgb_40percent.toml": ("semi_recognition", 600, 5,
        "data/hmdb51/videossl_splits/hmdb51_train_40_percent_labeled_split_1_rawframes.txt"),
    "semi_both_r2plus1d_r34_8x8x1_45e_ucf101_kinetics100_rgb.toml": ("semi_recognition", 45, 5,
        "data/ucf101/ucf101_train_split_1_rawframes.txt"),
    "semi_both_r2plus1d_r34_8x8x1_30e_hmdb51_kinetics100_rgb.toml": ("semi_recognition", 30, 5,
        "data/hmdb51/videossl_splits/hmdb51_train_100_percent_labeled_split_1_rawframes.txt"),
    "supervised_aug_r2plus1d_r34_8x8x1_180e_ucf101_rgb.toml": ("semi_recognition", 180, 16,
        "data/ucf101/ucf101_train_split_1_rawframes.txt"),
    "supervised_r2plus1d_r34_8x8x1_1800e_ucf101_rgb_10percent.toml": ("recognition", 1800, 16,
        "data/ucf101/videossl_splits/ucf101_train_10_percent_labeled_split_1_rawframes.txt"),
    "supervised_r3d_r18_8x8x1_180e_ucf101_rgb_100percent.toml": ("recognition", 180, 16,
        "data/ucf101/ucf101_train_split_1_rawframes.txt"),
}


def load(name: str):
    return actioncore.load_config(EXAMPLES / name)


def test_every_full_size_example_is_counted():
    assert sorted(FULL_SIZE) == sorted(p.name for p in EXAMPLES.glob("*.toml") if p.name != "quickstart_semi.toml")


@pytest.mark.parametrize("name", FULL_SIZE)
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, name):
    experiment = load(name)
    with torch.device("meta"):
        model = actioncore.build_model(experiment.model)
    assert count_parameters(model) == FULL_SIZE[name]
    assert f"# Parameters: {FULL_SIZE[name]:,} " in (EXAMPLES / name).read_text()  # the header says it too


def test_r3d_18_backbone_is_torchvisions_r3d_18_less_its_classifier(actioncore_host):
    reference = torchvision.models.video.r3d_18(weights=None, num_classes=400)
    assert count_parameters(reference) - head(400) == R3D_18
    with torch.device("meta"):
        model = actioncore.build_model(load("semi_r3d_r18_8x8x1_360e_ucf101_rgb_10percent.toml").model)
    assert count_parameters(model.backbone) == R3D_18 and count_parameters(model.head) == head(101)


@pytest.mark.parametrize("name", FAMILY)
def test_family_hyper_parameters_are_seed003s(actioncore_host, name):
    task_type, epochs, batch, train_list = FAMILY[name]
    experiment = load(name)
    assert experiment.task.type == task_type and experiment.schedule.epochs == epochs
    assert experiment.data.batch_size == batch and experiment.data.train.params["ann_file"] == train_list
    optim, schedule = experiment.optim, experiment.schedule
    assert (optim.type, optim.lr, optim.momentum, optim.weight_decay, optim.grad_clip) == ("sgd", 0.2, 0.9, 1e-4, 40.0)
    assert (schedule.policy, schedule.min_lr, schedule.warmup_epochs) == ("cosine", 0.0, 0.0)


def test_semi_families_set_the_method_and_its_splits(actioncore_host):
    semi_both = load("semi_both_r2plus1d_r34_8x8x1_45e_ucf101_kinetics100_rgb.toml")
    assert semi_both.task.params["labeled_strong"] is True and semi_both.task.params["pseudo_label_accuracy"] is False
    assert semi_both.data.unlabeled.params["ann_file"].endswith("kinetics100_train_100_percent_labeled_rawframes.txt")
    assert semi_both.data.train.extra["strong_pipeline"] and semi_both.data.val.params["ann_file"].startswith("data/ucf101/")
    kd = load("kd_r3d_r18_8x8x1_360e_ucf101_rgb_10percent.toml")
    assert (kd.task.params["distill_weight"], kd.data.workers) == (1.0, 0)
    assert kd.task.params["distill_scores"] == "data/ucf101/resnet18_prtrnd_preds.npz"
    aug = load("supervised_aug_r2plus1d_r34_8x8x1_180e_ucf101_rgb.toml")
    assert aug.task.params["method"] == "supervised_aug" and aug.data.unlabeled is None
    for experiment in (semi_both, kd, aug):
        split = experiment.data.unlabeled if experiment is kd else experiment.data.train
        steps = [step.type for step in split.params["pipeline"]]
        assert steps.index("person_boxes") < steps.index("random_resized_crop") < steps.index("person_mask")


def test_every_example_is_linked_from_the_repository_examples():
    linked = Path(__file__).resolve().parents[4] / "examples/semi"
    assert sorted(p.name for p in EXAMPLES.glob("*.toml")) == sorted(p.name for p in linked.glob("*.toml"))
    assert all((linked / p.name).is_symlink() and (linked / p.name).resolve() == p.resolve()
               for p in EXAMPLES.glob("*.toml"))


def test_quickstart_loads_with_ten_percent_labels(actioncore_host):
    experiment = load("quickstart_semi.toml")
    assert experiment.task.type == "semi_recognition"
    assert experiment.data.train.params["ann_file"] == "data/synth/split10/labeled.txt"
    assert experiment.data.unlabeled.params["ann_file"] == "data/synth/train.txt"
    assert experiment.data.unlabeled.extra["strong_pipeline"]
