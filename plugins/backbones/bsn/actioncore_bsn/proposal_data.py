"""PEM's data: the PGM outputs of each video of an ActivityNet annotation file.

``[data.train] type = "bsn_proposals"`` reads ``ann_file`` as the ``activitynet`` dataset does
(so evaluation has the ground truth) and takes each video's proposals and BSP features from
``{root}/pgm_proposals/{video}.csv`` and ``{root}/pgm_features/{video}.npy`` (what ``bsn_pgm``
writes; MMAction2's layout, so its PGM outputs work too) through the ``bsn_proposals`` decoder.
The ``load_bsn_proposals`` step keeps the best ``top_k`` and puts their features, zero-padded to
``top_k`` rows so that videos batch together, in ``sample.frames``; the label becomes a
:class:`ProposalAnnotation` carrying the proposals themselves.
"""
from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import attrs
import numpy as np
import torch

from actioncore.sdk import DataError, Transform
from actioncore_localization import VideoAnnotation
from actioncore_bsn_pgm import FEATURES_DIR, PROPOSALS_DIR, ProposalTable, read_bsp_features, read_proposals
from actioncore_localization import ActivityNetDataset



@attrs.frozen(eq=False)
class ProposalAnnotation(VideoAnnotation):
    """A video's annotation plus its PGM proposals (at most ``top_k``, best first)."""

    proposals: ProposalTable = attrs.field(kw_only=True)


class ProposalReader:
    """An opened video's PGM outputs; ``num_frames`` is the number of proposals."""

    def __init__(self, proposals_path: str):
        path = Path(proposals_path)
        self.path = proposals_path
        self.proposals = read_proposals(path)
        features_path = path.parent.parent / FEATURES_DIR / (path.stem + ".npy")
        self.features = read_bsp_features(features_path)
        if len(self.features) > len(self.proposals):
            raise DataError(f"{features_path}: {len(self.features)} BSP features for {len(self.proposals)} "
                            f"proposals in {path}", path=str(features_path))
        self.num_frames = len(self.features)
        self.fps = float("nan")

    def read(self, indices) -> torch.Tensor:
        """float32 ``[N, feat_dim]`` BSP features of proposals ``indices`` (``actioncore data check``)."""
        wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
        bad = wanted[(wanted < 0) | (wanted >= self.num_frames)]
        if bad.size:
            raise DataError(f"{self.path}: proposal {int(bad[0])} is out of range; the PGM outputs have "
                            f"{self.num_frames} proposals with features", path=self.path)
        return torch.from_numpy(self.features[wanted])

    def close(self) -> None:
        self.proposals = self.features = None

    def __enter__(self) -> ProposalReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class ProposalDecoder:
    """The decoder of ``bsn_proposals`` datasets (``data.decoder = "bsn_proposals"``)."""

    def open(self, path: str | os.PathLike[str]) -> ProposalReader:
        return ProposalReader(str(path))

    def __repr__(self) -> str:
        return "ProposalDecoder()"


class ProposalDataset(ActivityNetDataset):
    """One sample per video of ``ann_file``, read from the PGM outputs under ``root``."""

    default_decoder = "bsn_proposals"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = ""):
        super().__init__(ann_file=ann_file, pipeline=pipeline, root=root)

    def feature_path(self, annotation: VideoAnnotation) -> str:
        return os.path.join(self.root, PROPOSALS_DIR, annotation.video_name + ".csv")

    def __repr__(self) -> str:
        return f"ProposalDataset({self.ann_file!r}, {len(self.records)} videos)"


def stand_in_annotation(top_k: int) -> ProposalAnnotation:
    """A made-up video with ``top_k`` proposals whose reference IoU spreads over [0, 1), for the
    blank batches that ``actioncore info`` and ``bench model`` time the model on."""
    spread = np.arange(top_k, dtype=np.float64) / top_k
    table = ProposalTable(tmin=0.5 * spread, tmax=0.5 * spread + 0.5, tmin_score=1.0 - spread,
                          tmax_score=1.0 - spread, score=(1.0 - spread) ** 2, match_iou=spread, match_ioa=spread)
    return ProposalAnnotation(video_name="blank", duration_second=100.0, duration_frame=3000, feature_frame=3000,
                              fps=30.0, segments=np.asarray([[25.0, 75.0]]), labels=("action",), proposals=table)


class LoadBSNProposals:
    """Pipeline step: the best ``top_k`` proposals' BSP features as float32 ``[top_k, feat_dim]``
    in ``frames`` (rows past the video's own proposals are zero) and the label as a
    :class:`ProposalAnnotation` with those proposals. Without PGM outputs (the blank stand-in
    ``actioncore info`` and ``bench model`` probe with) the step gives zeros of that shape and
    :func:`stand_in_annotation` proposals.
    """

    needs_pixels = False

    def __init__(self, *, top_k: int = 1000, feat_dim: int = 32):
        if top_k < 1 or feat_dim < 1:
            raise ValueError(f"top_k and feat_dim must be positive, got {top_k}, {feat_dim}")
        self.top_k = top_k
        self.feat_dim = feat_dim

    def __call__(self, sample):
        reader = sample.reader
        frames = torch.zeros(self.top_k, self.feat_dim)
        if isinstance(reader, ProposalReader):
            features = reader.features[:self.top_k]
            if features.shape[1] != self.feat_dim:
                raise DataError(f"{reader.path}: its BSP features have {features.shape[1]} values, expected "
                                f"feat_dim = {self.feat_dim}", path=reader.path)
            kept = ProposalTable(*(getattr(reader.proposals, f.name)[:len(features)]
                                   for f in attrs.fields(ProposalTable)))
            frames[:len(features)] = torch.from_numpy(np.ascontiguousarray(features))
            if isinstance(sample.label, VideoAnnotation):
                base = {f.name: getattr(sample.label, f.name) for f in attrs.fields(VideoAnnotation)}
                sample.label = ProposalAnnotation(**base, proposals=kept)
        elif not isinstance(sample.label, VideoAnnotation):
            sample.label = stand_in_annotation(self.top_k)
        sample.frames = frames
        return sample

    def __repr__(self) -> str:
        return f"LoadBSNProposals(top_k={self.top_k}, feat_dim={self.feat_dim})"
