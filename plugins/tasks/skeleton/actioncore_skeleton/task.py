"""The ``skeleton`` task: action recognition from pose sequences.

Training, evaluation and metrics are the recognition task's (cross-entropy; top-1/top-5 and mean
class accuracy, MMAction2's ``AccMetric``), since a skeleton model is a classifier of clips whose
"frames" are poses; multi-clip test averaging happens in the recognizer (``recognizer_gcn``, or
``recognizer3d`` for PoseC3D heatmap volumes). What is skeleton-specific:

- predictions (``actioncore test --out``, the recognition task's) keep every class score, so the
  streams of a multi-stream model (2s-AGCN's joint and bone models) can be fused afterwards
  (``actioncore fuse``);
- ``actioncore infer`` takes pose records, ``STORE/index.json#frame_dir``, or a whole store;
- ``actioncore demo`` draws a record's skeletons with its top-k labels (:mod:`.demo`).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from torch import nn

from actioncore.sdk import DataError, Experiment, component_spec
from actioncore.sdk.vis import DemoRequest
from actioncore_pose import SEPARATOR, PoseRecords
from actioncore_recognition import RecognitionAdapter, RecognitionTask


def record_references(inputs: Sequence[str]) -> list[str]:
    """``INDEX#frame_dir`` for each input: a record reference as it is, or every record of a store."""
    references: list[str] = []
    for item in map(str, inputs):
        if ".json" + SEPARATOR in item:
            references.append(item)
        elif Path(item).is_dir() or item.lower().endswith(".json"):
            references += [r.source for r in PoseRecords(ann_file=item, pipeline=[]).records]
        else:
            raise DataError(f"{item}: not a pose record: give STORE/index.json{SEPARATOR}frame_dir, a pose "
                            "store's index.json or its folder", path=item)
    return references


def with_pose_decoder(experiment: Experiment) -> Experiment:
    """The experiment with the ``pose_records`` decoder where it names none (inputs are records)."""
    if experiment.data.decoder is not None:
        return experiment
    spec = component_spec("pose_records", "decoder", "data.decoder")
    return attrs.evolve(experiment, data=attrs.evolve(experiment.data, decoder=spec))


class SkeletonAdapter(RecognitionAdapter):
    """The recognition adapter, with a demo that draws the pose record (not a video's frames)."""

    def demo(self, model: nn.Module, request: DemoRequest) -> dict[str, Any]:
        """``actioncore demo``: the record's skeletons with the top-k labels (see :mod:`.demo`)."""
        from .demo import run_demo

        return run_demo(self, model, request)


class SkeletonTask(RecognitionTask):
    """Classify pose sequences; the recognition task's options (``metrics``, ``label_smoothing``,
    ``multi_label``, ``loss_weight``, ``classes``) and behaviour (predictions hold full scores)."""

    def adapter(self, experiment: Experiment) -> SkeletonAdapter:
        return SkeletonAdapter(self, experiment)

    def infer(self, experiment: Experiment, checkpoint: str | Path, inputs: Sequence[str], *,
              topk: int = 5) -> list[dict[str, Any]]:
        """Top-k classes of pose records (see :func:`record_references`) with the test pipeline."""
        return super().infer(with_pose_decoder(experiment), checkpoint, record_references(inputs), topk=topk)
