"""Training-set composition: concatenated sources, repeats, class-balanced sampling with exact resume."""
from __future__ import annotations

import numpy as np
import pytest

from actioncore import load_config
from actioncore.data.compose import class_weights
from actioncore.data.dataset import ClipRecord
from actioncore.data.loader import EpochSampler
from actioncore.data.splits import build_split
from actioncore.errors import ConfigError
from actioncore.plugin.host import current_host


def records(counts: list[int]) -> list[ClipRecord]:
    return [ClipRecord(f"c{k}_{i}.mp4", k) for k, n in enumerate(counts) for i in range(n)]


def class_frequencies(weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.array([weights[labels == k].sum() for k in np.unique(labels)])


@pytest.mark.parametrize("power", [0.0, 0.5, 1.0])
def test_class_weights_give_class_k_a_share_proportional_to_its_count_to_the_power(power):
    counts = [1, 4, 16]
    weights = class_weights(records(counts), power, "data.train")
    labels = np.repeat(np.arange(3), counts)
    expected = np.array(counts, dtype=float) ** power
    np.testing.assert_allclose(class_frequencies(weights, labels), expected / expected.sum())
    assert weights.sum() == pytest.approx(1.0)
    # within a class, every record equally often
    assert np.ptp(weights[labels == 2]) == 0


def test_class_balanced_sampler_draws_classes_equally_and_resumes_exactly():
    counts = [2, 6, 24]
    labels = np.repeat(np.arange(3), counts)
    sampler = EpochSampler(len(labels), shuffle=True, seed=3, weights=class_weights(records(counts), 0.0, "x"))
    drawn = []
    for epoch in range(200):
        sampler.set_epoch(epoch)
        drawn += [i for _, i in sampler]
    share = np.bincount(labels[drawn], minlength=3) / len(drawn)
    np.testing.assert_allclose(share, [1 / 3] * 3, atol=0.02)  # 6400 draws: sd ~ 0.006
    sampler.set_epoch(7)
    whole = [i for _, i in sampler]
    sampler.set_epoch(7, skip=5)
    assert [i for _, i in sampler] == whole[5:] and len(sampler) == len(labels) - 5
    sampler.set_epoch(8)
    assert [i for _, i in sampler] != whole  # another epoch, another draw
    with pytest.raises(ValueError, match="3 sampling weights for 4 samples"):
        EpochSampler(4, shuffle=True, weights=np.ones(3) / 3)


def test_sources_and_times_concatenate_and_repeat_the_lists(experiment_file, tiny_data, tmp_path):
    exp_file = experiment_file(tmp_path, extra=f"""
        [[data.train.sources]]
        ann_file = "{tiny_data / 'val.txt'}"
        root = "{tiny_data / 'videos'}"
    """)
    exp = load_config(exp_file, ["data.train.times=3"])
    dataset = build_split(exp, "train", current_host().registry)
    train = (tiny_data / "train.txt").read_text().splitlines()
    val = (tiny_data / "val.txt").read_text().splitlines()
    assert len(dataset.records) == len(train) + len(val) and len(dataset) == 3 * (len(train) + len(val))
    assert dataset.records[len(train)].ann_file.endswith("val.txt")
    n = len(dataset.records)
    first, repeat = dataset[(0, 1)], dataset[(0, 1 + n)]
    assert first.source == repeat.source and first.index == repeat.index == 1
    # each repeat is drawn from its own seed (seed, epoch, repeat index); the same index from the same
    again = dataset[(0, 1)]
    assert repeat.rng.random() != first.rng.random() and again.rng.random() == dataset[(0, 1)].rng.random()
    balanced = build_split(load_config(exp_file, ["data.train.sample_by_class=true"]), "train", current_host().registry)
    assert balanced.sample_weights.sum() == pytest.approx(1.0) and len(balanced.sample_weights) == n


@pytest.mark.parametrize("extra, override, message", [
    ('[[data.train.sources]]\nann_fil = "a.txt"', (), r"data.train.sources\[0\].ann_fil: unknown key for dataset 'video_list'"),
    ('[[data.train.sources]]\nann_file = 3', (), r"data.train.sources\[0\].ann_file: expected str, got int 3"),
    ('[[data.train.sources]]\npipeline = []', (), r"data.train.sources\[0\].pipeline: every source is read by"),
    ("", ("data.train.times=0",), "data.train.times: must be at least 1, got 0"),
    ("", ("data.train.power=0.5",), "data.train.power: only used with sample_by_class = true"),
])
def test_bad_composition_keys_are_named(experiment_file, tmp_path, extra, override, message):
    exp = load_config(experiment_file(tmp_path, extra=extra), list(override))
    with pytest.raises(ConfigError, match=message):
        build_split(exp, "train", current_host().registry)


def test_an_empty_source_is_named(experiment_file, tiny_data, tmp_path):
    from actioncore.errors import DataError

    (tmp_path / "empty.txt").write_text("")
    exp = load_config(experiment_file(tmp_path, extra=f'[[data.train.sources]]\nann_file = "{tmp_path / "empty.txt"}"'))
    with pytest.raises(DataError, match=r"empty.txt: the annotation file lists no samples"):
        build_split(exp, "train", current_host().registry)
