"""The ``activitynet`` dataset: MMAction2's ActivityNet JSON plus one feature file per video."""
from __future__ import annotations

import os

from actioncore.sdk.data import ClipRecord
from actioncore.sdk import DataError, Transform

from .annotations import SEGMENT_TOLERANCE_S, VideoAnnotation, read_activitynet

FEATURE_EXTENSIONS = (".csv", ".npy")


class ActivityNetDataset:
    """One sample per video of ``ann_file``; its features are ``{root}/{video_name}{feature_ext}``.

    Each record's label is the video's :class:`VideoAnnotation` (batches carry them in
    ``labels``). The default decoder reads feature files; use the ``load_localization_feature``
    step in ``pipeline`` to turn them into ``[feat_dim, temporal_dim]`` inputs.

    ``segment_tolerance`` is how many seconds a segment may end past the video's
    ``duration_second`` before the annotation is refused (raise it for files whose segments
    overrun their videos; the targets clip them to the video as MMAction2 does).
    """

    default_decoder = "localization_features"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = "",
                 feature_ext: str = ".csv", segment_tolerance: float = SEGMENT_TOLERANCE_S):
        if feature_ext not in FEATURE_EXTENSIONS:
            raise DataError(f"feature_ext must be one of {', '.join(FEATURE_EXTENSIONS)}, got {feature_ext!r}")
        self.ann_file = ann_file
        self.root = root
        self.feature_ext = feature_ext
        self.pipeline = list(pipeline)
        self.annotations = read_activitynet(ann_file, tolerance=segment_tolerance)
        if not self.annotations:
            raise DataError(f"{ann_file}: the annotation file lists no videos", path=ann_file)
        self.records = [ClipRecord(self.feature_path(a), a) for a in self.annotations]

    def feature_path(self, annotation: VideoAnnotation) -> str:
        name = annotation.video_name + self.feature_ext
        return os.path.join(self.root, name) if self.root else name

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"ActivityNetDataset({self.ann_file!r}, {len(self.records)} videos)"
