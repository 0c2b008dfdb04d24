"""Repeated augmentation in the EpochSampler: repeats in a row, DDP shards of whole videos, resume."""
from __future__ import annotations

import numpy as np
import pytest

from actioncore.data.loader import EpochSampler


def draws(sampler: EpochSampler) -> list[int]:
    return [draw for _, draw in sampler]


def test_each_video_comes_repeats_times_in_a_row_with_distinct_draws():
    plain = EpochSampler(10, shuffle=True, seed=3)
    repeated = EpochSampler(10, shuffle=True, seed=3, repeats=3)
    for sampler in (plain, repeated):
        sampler.set_epoch(2)
    got = np.array(draws(repeated)).reshape(10, 3)
    # same video order as without repeats; copy r of video i is draw i + r * 10
    assert got[:, 0].tolist() == draws(plain)
    assert (got - got[:, :1] == np.array([0, 10, 20])).all()
    assert sorted(got[:, 0]) == list(range(10))
    assert len(repeated) == 30


def test_ranks_get_disjoint_padded_shards_of_videos_as_mmaction2s_default_sampler():
    ranks = [EpochSampler(7, shuffle=True, seed=0, rank=r, world_size=2, repeats=2) for r in range(2)]
    plain = [EpochSampler(7, shuffle=True, seed=0, rank=r, world_size=2) for r in range(2)]
    per_rank = [np.array(draws(s)).reshape(-1, 2) % 7 for s in ranks]
    for videos, reference in zip(per_rank, plain):
        assert (videos[:, 0] == videos[:, 1]).all()
        assert videos[:, 0].tolist() == draws(reference)  # padded to 8 videos, 4 per rank
    assert len(per_rank[0]) == len(per_rank[1]) == 4
    assert set(per_rank[0][:, 0]) | set(per_rank[1][:, 0]) == set(range(7))


def test_skip_resumes_the_exact_order():
    full = EpochSampler(9, shuffle=True, seed=1, repeats=2)
    full.set_epoch(4)
    resumed = EpochSampler(9, shuffle=True, seed=1, repeats=2)
    resumed.set_epoch(4, skip=6)  # three batches of 1 video x 2 repeats
    assert draws(resumed) == draws(full)[6:]
    assert len(resumed) == 12
    other_epoch = EpochSampler(9, shuffle=True, seed=1, repeats=2)
    other_epoch.set_epoch(5)
    assert draws(other_epoch) != draws(full)


def test_bad_repeats():
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        EpochSampler(4, shuffle=True, repeats=0)
