"""``sample_proposal_frames``: which proposals a sample trains on and which frames show them.

MMAction2 0.24 splits this between ``SSNDataset`` (choosing proposals, scale factors, targets)
and the ``SampleProposalFrames`` pipeline step (frame offsets); here one step does both, from the
sample's :class:`~actioncore_ssn.targets.SSNVideo`, with the sample's own random generator.

Training (``mode = "train"``; ``"val"`` takes the middle frames instead of random ones): per
video 1 foreground, 6 incomplete and 1 background proposal (0.24's ratios; a video with none of
a type draws from the data set's pool of it), each shown by ``aug_segments[0]`` frames of its
starting part (``aug_ratio`` of its length before it), ``body_segments`` frames of its course and
``aug_segments[1]`` of its ending part; the frames are ``[P * 9, clip_len]`` and the label
becomes an :class:`~actioncore_ssn.targets.SSNTrainTarget`. ``format_shape`` ``NPTCHW`` then
gives ``[P, 9 * clip_len, C, H, W]``.

Test (``mode = "test"``): one frame every ``test_interval``, and every proposal of the file as
fractions of the video with its stage boundaries in sampled-frame ticks
(:class:`~actioncore_ssn.targets.SSNTestInfo`); ``format_shape`` ``NCHW``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs
import numpy as np

from actioncore.sdk import DataError
from actioncore.sdk.data import PROBE, VideoSample

from .assign import BACKGROUND, FOREGROUND, INCOMPLETE, Candidate, PerVideo
from .proposal_file import Instance, VideoProposals
from .targets import ProposalPools, SSNTestInfo, SSNTrainTarget, SSNVideo, class_name


def _pair(value: float | Sequence[float]) -> tuple[float, float]:
    return (float(value), float(value)) if isinstance(value, (int, float)) else (float(value[0]), float(value[1]))


def train_offsets(valid_length: int, num_segments: int, rng: np.random.Generator) -> np.ndarray:
    """``num_segments`` random offsets, one per equal bin of ``valid_length + 1`` (zeros if too short)."""
    interval = (valid_length + 1) // num_segments
    if interval <= 0:
        return np.zeros(num_segments, dtype=np.int64)
    return np.arange(num_segments) * interval + rng.integers(interval, size=num_segments)


def val_offsets(valid_length: int, num_segments: int) -> np.ndarray:
    """The middle of each of ``num_segments`` equal bins of ``valid_length`` (zeros if too short)."""
    if valid_length < num_segments:
        return np.zeros(num_segments, dtype=np.int64)
    interval = valid_length / float(num_segments)
    return (np.arange(num_segments) * interval + interval / 2.0).astype(np.int64)


@attrs.frozen(kw_only=True)
class SampleProposalFrames:
    """The pipeline step (see the module docstring); 0.24's defaults."""

    needs_pixels = False
    body_segments: int = 5
    aug_segments: tuple[int, int] = (2, 2)
    aug_ratio: float | tuple[float, float] = attrs.field(default=(0.5, 0.5), converter=_pair)
    clip_len: int = 1
    frame_interval: int = 1
    test_interval: int = 6
    mode: Literal["train", "val", "test"] = "train"

    def __attrs_post_init__(self) -> None:
        if self.mode not in ("train", "val", "test"):
            raise ValueError(f"sample_proposal_frames mode must be train, val or test, got {self.mode!r}")
        if min(self.body_segments, *self.aug_segments, self.clip_len, self.frame_interval, self.test_interval) < 1:
            raise ValueError("sample_proposal_frames: segment counts, clip_len, frame_interval and "
                             "test_interval must be positive")
        if min(self.aug_ratio) <= 0:
            raise ValueError(f"sample_proposal_frames aug_ratio must be positive, got {self.aug_ratio}")

    @property
    def span(self) -> int:
        return self.clip_len * self.frame_interval

    def __call__(self, sample: VideoSample) -> VideoSample:
        video = stand_in(int(sample.num_frames)) if sample.meta.get(PROBE) else sample.label
        if not isinstance(video, SSNVideo):
            raise DataError(f"{sample.source}: sample_proposal_frames needs the ssn_proposals dataset "
                            f"(its label is {type(video).__name__})", path=sample.source)
        total = int(sample.num_frames or video.video.num_frames)
        if self.mode == "test":
            offsets = self._test(sample, video, total)
        else:
            offsets = self._train(sample, video, total)
        indices = offsets[:, None] + np.arange(self.clip_len)[None, :] * self.frame_interval
        sample.frame_indices = np.mod(indices, total).astype(np.int64)
        sample.clip_len = self.clip_len
        return sample

    def augmented(self, proposal: Instance, num_frames: int) -> tuple[int, int, int, int]:
        """``(first starting frame, starting length, course length, ending length)``: the
        proposal widened by ``aug_ratio`` of its length each side, cut to the video, less a clip."""
        duration = proposal.end - proposal.start
        valid_start = max(0, proposal.start - int(duration * self.aug_ratio[0]))
        valid_end = min(num_frames - self.span + 1, proposal.end - 1 + int(duration * self.aug_ratio[1]))
        return (valid_start, proposal.start - valid_start - self.span, duration - self.span,
                (valid_end - proposal.end + 1) - self.span)

    def stage_scales(self, proposal: Instance, num_frames: int) -> tuple[float, float]:
        """The share of each augmentation part that lies inside the video (0.24's ``_get_stage``)."""
        duration = proposal.end - proposal.start
        _, start_length, _, end_length = self.augmented(proposal, num_frames)
        return ((start_length + self.span + 1) / (duration * self.aug_ratio[0]),
                (end_length + self.span + 1) / (duration * self.aug_ratio[1]))

    def proposal_offsets(self, proposal: Instance, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """Frame offsets of the starting, course and ending parts (0.24's ``_get_proposal_clips``)."""
        valid_start, *lengths = self.augmented(proposal, num_frames)
        counts = (self.aug_segments[0], self.body_segments, self.aug_segments[1])
        bases = (valid_start, proposal.start, proposal.end)
        parts = [(train_offsets(n, k, rng) if self.mode == "train" else val_offsets(n, k)) + base
                 for n, k, base in zip(lengths, counts, bases)]
        return np.concatenate(parts)

    def _train(self, sample: VideoSample, video: SSNVideo, total: int) -> np.ndarray:
        """As 0.24: a proposal's frames are placed with this video's length, its scale factors
        with its own video's (they differ for one drawn from the data set's pool)."""
        chosen = choose_proposals(video, sample.rng)
        offsets, types, labels, targets, scales = [], [], [], [], []
        consts = video.pools.reg_norm_consts
        for candidate, kind in chosen:
            proposal = candidate.instance
            offsets.append(self.proposal_offsets(proposal, total, sample.rng))
            scales.append(self.stage_scales(proposal, candidate.num_frames))
            types.append(kind)
            labels.append(0 if kind == BACKGROUND else proposal.label)
            target = np.asarray(candidate.targets, dtype=np.float64)
            targets.append((target - consts[0]) / consts[1] if kind == FOREGROUND else target)
        sample.num_clips = self.body_segments + sum(self.aug_segments)
        sample.meta["num_proposals"] = len(chosen)
        sample.label = SSNTrainTarget(video.video_id, np.asarray(types, dtype=np.int64),
                                      np.asarray(labels, dtype=np.int64), np.asarray(targets, dtype=np.float32),
                                      np.asarray(scales, dtype=np.float32))
        return np.concatenate(offsets).astype(np.int64)

    def _test(self, sample: VideoSample, video: SSNVideo, total: int) -> np.ndarray:
        ticks = np.arange(0, total - self.span, self.test_interval, dtype=np.int64)
        if ticks.size == 0:
            raise DataError(f"{sample.source}: {total} frames are too few to sample at test_interval "
                            f"{self.test_interval}", path=sample.source)
        proposals = list(video.video.proposals) or [Instance(0, total - 1, 0, 0.0, 0.0)]
        relative, tick_rows, scales = [], [], []
        for proposal in proposals:
            start, end = proposal.start / total, proposal.end / total
            aug_start, aug_end = (end - start) * self.aug_ratio[0], (end - start) * self.aug_ratio[1]
            real_start, real_end = max(0.0, start - aug_start), min(1.0, end + aug_end)
            relative.append((start, end))
            scales.append(((start - real_start) / aug_start, (real_end - end) / aug_end))
            tick_rows.append((np.array((real_start, start, end, real_end)) * ticks.size).astype(np.int32))
        sample.num_clips = int(ticks.size)
        names = video.pools.class_names
        sample.label = SSNTestInfo(
            video_id=video.video_id, num_frames=total, relative_proposals=np.asarray(relative, dtype=np.float32),
            proposal_ticks=np.asarray(tick_rows, dtype=np.int32), scale_factors=np.asarray(scales, dtype=np.float32),
            reg_norm_consts=video.pools.reg_norm_consts, segments=video.segments,
            labels=tuple(class_name(g.label, names) for g in video.video.gts), class_names=names)
        return ticks


def _draw(pool: Sequence[Candidate], fallback: Sequence[Candidate], count: int, kind: int,
          rng: np.random.Generator, what: str, ann_file: str) -> list[tuple[Candidate, int]]:
    """``count`` of the video's ``pool`` (with replacement when it is smaller), else of the data
    set's ``fallback`` pool (without replacement), as 0.24's ``sample_video_proposals``."""
    if count == 0:
        return []
    if pool:
        picks = rng.choice(len(pool), count, replace=len(pool) < count)
        return [(pool[i], kind) for i in picks]
    if len(fallback) < count:
        raise DataError(f"{ann_file}: {len(fallback)} {what} proposals in the whole file, "
                        f"{count} needed per video", path=ann_file)
    return [(fallback[i], kind) for i in rng.choice(len(fallback), count, replace=False)]


def choose_proposals(video: SSNVideo, rng: np.random.Generator) -> list[tuple[Candidate, int]]:
    """A sample's ``(candidate, type)`` list: foreground, then incomplete, then background."""
    pools = video.pools
    fg, inc, bg = pools.per_video.counts()
    if pools.video_centric:
        own = (video.foreground, video.incomplete, video.background)
    else:  # 0.24's _random_sampling: every type from the data set's pool
        own = (pools.foreground, pools.incomplete, pools.background)
    return (_draw(own[0], pools.foreground, fg, FOREGROUND, rng, "foreground", pools.ann_file)
            + _draw(own[1], pools.incomplete, inc, INCOMPLETE, rng, "incomplete", pools.ann_file)
            + _draw(own[2], pools.background, bg, BACKGROUND, rng, "background", pools.ann_file))


def stand_in(num_frames: int) -> SSNVideo:
    """The video ``actioncore info`` probes with (no proposal file is read): one action over the
    middle half, a proposal of each type, so the sample has the real one's shape."""
    quarter = num_frames // 4
    action = Instance(quarter, 3 * quarter, 1)
    inside = Instance(quarter, quarter + quarter // 2, 1, 0.25, 1.0)
    outside = Instance(0, quarter, 0, 0.0, 0.0)
    video = VideoProposals("<blank>", num_frames, (action,), (action, inside, outside), 0)
    own = [(Candidate("<blank>", num_frames, p),) for p in (action, inside, outside)]
    pools = ProposalPools(*own, reg_norm_consts=np.array([[0.0, 0.0], [1.0, 1.0]]), per_video=PerVideo(),
                          video_centric=True, class_names=None, ann_file="<blank>")
    return SSNVideo(video, *own, pools)
