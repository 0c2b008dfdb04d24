"""The ``ssn_proposals`` dataset: raw-frame folders plus a TAG proposal file (0.24's ``SSNDataset``)."""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from actioncore.sdk import ConfigError, DataError, Transform
from actioncore.sdk.data import ClipRecord

from .assign import Assigner, PerVideo, negatives, normalize_constants, positives
from .proposal_file import read_proposal_file
from .targets import ProposalPools, SSNVideo


def denormalized(ann_file: str) -> str:
    """The file 0.24 reads for ``ann_file``: a ``normalized_...`` list (fractions of each video)
    stands for the list beside it without that prefix, in frames of the local extraction (MMAction2's
    ``tools/data/thumos14/denormalize_proposal_file.sh`` writes it)."""
    folder, name = os.path.split(ann_file)
    if "normalized_" not in name:
        return ann_file
    frames = os.path.join(folder, name.replace("normalized_", ""))
    if not os.path.isfile(frames):
        raise DataError(f"{ann_file}: a normalized proposal file; SSN reads its denormalized version {frames}, "
                        "which is missing (MMAction2's tools/data/thumos14/denormalize_proposal_file.sh makes it "
                        "from the frame folders)", path=ann_file)
    return frames


class SSNProposalDataset:
    """One sample per video of ``ann_file`` that has ground truth (0.24 drops the others, in
    training and test alike); its frames are the folder ``{root}/{video_id}``.

    Each record's label is an :class:`~actioncore_ssn.targets.SSNVideo`; the
    ``sample_proposal_frames`` step turns it into the sample's proposals and frame indices.

    :param assigner: thresholds of the foreground / incomplete / background assignment
        (:class:`~actioncore_ssn.assign.Assigner`).
    :param sampler: proposals per video and type shares (:class:`~actioncore_ssn.assign.PerVideo`).
    :param reg_normalize_constants: ``[[mean_loc, mean_size], [std_loc, std_size]]``; default:
        computed from this file's foreground proposals, as 0.24 does (for a test file that means
        from its ground truth: pass the training file's constants to avoid it).
    :param video_centric: sample each video's proposals from that video (falling back to the
        data set's pool of a type the video lacks); False samples every type from the data set.
    :param classes: class names, 1-based labels in order (THUMOS14's 20); default the numbers.
    """

    default_decoder = "frame_folder"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = "",
                 assigner: dict | None = None, sampler: dict | None = None,
                 reg_normalize_constants: list[list[float]] | None = None, video_centric: bool = True,
                 classes: list[str] | None = None):
        self.ann_file = ann_file
        self.root = root
        self.pipeline = list(pipeline)
        try:
            self.assigner = Assigner(**(assigner or {}))
            per_video = PerVideo(**(sampler or {}))
        except TypeError as exc:
            raise ConfigError(f"ssn_proposals: {exc}") from None
        videos = [v for v in read_proposal_file(denormalized(ann_file)) if v.gts]
        if not videos:
            raise DataError(f"{ann_file}: no video of the proposal file has a ground-truth instance", path=ann_file)
        self._check_folders(videos)
        if classes is not None:
            top = max(i.label for v in videos for i in (*v.gts, *v.proposals))
            if top > len(classes):
                raise ConfigError(f"ssn_proposals: {ann_file} has class {top} but classes lists {len(classes)}")
        consts = self._constants(videos, reg_normalize_constants)
        assigned = [(v, positives(v, self.assigner, with_gt=per_video.add_gt_as_proposals),
                     *negatives(v, self.assigner)) for v in videos]
        self.pools = ProposalPools(
            foreground=tuple(c for _, fg, _, _ in assigned for c in fg),
            incomplete=tuple(c for _, _, inc, _ in assigned for c in inc),
            background=tuple(c for _, _, _, bg in assigned for c in bg),
            reg_norm_consts=consts, per_video=per_video, video_centric=video_centric,
            class_names=tuple(classes) if classes else None, ann_file=ann_file)
        self.records = [ClipRecord(self.frame_dir(v.video_id),
                                   SSNVideo(v, tuple(fg), tuple(inc), tuple(bg), self.pools),
                                   num_frames=v.num_frames, ann_file=ann_file, line=v.line)
                        for v, fg, inc, bg in assigned]

    def frame_dir(self, video_id: str) -> str:
        return os.path.join(self.root, video_id) if self.root else video_id

    def _check_folders(self, videos: Sequence) -> None:
        for video in videos:
            folder = self.frame_dir(video.video_id)
            if not os.path.isdir(folder):
                raise DataError(f"{self.ann_file}:{video.line}: video {video.video_id!r} has no frame folder "
                                f"{folder}", path=self.ann_file, line=video.line)

    def _constants(self, videos: Sequence, given: list[list[float]] | None) -> np.ndarray:
        consts = np.asarray(given, dtype=np.float64) if given is not None else normalize_constants(videos, self.assigner)
        if consts is None:
            raise DataError(f"{self.ann_file}: no proposal has best_iou > {self.assigner.positive_iou_threshold}, "
                            "so the regression targets cannot be normalised; set reg_normalize_constants",
                            path=self.ann_file)
        if consts.shape != (2, 2) or not np.all(consts[1] > 0):
            raise ConfigError(f"ssn_proposals: regression normalisation {consts.tolist()} must be "
                              "[[mean_loc, mean_size], [std_loc, std_size]] with positive stds "
                              f"({self.ann_file}); set reg_normalize_constants")
        return consts

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return (f"SSNProposalDataset({self.ann_file!r}, {len(self.records)} videos, {len(self.pools.foreground)} "
                f"foreground / {len(self.pools.incomplete)} incomplete / {len(self.pools.background)} background)")
