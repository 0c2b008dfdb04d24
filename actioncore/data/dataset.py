"""From annotation records to prepared samples: opening, sampling, decoding, bad-input policy.

Dataset plugins only parse annotation formats into :class:`ClipRecord` lists; everything that
must behave the same for every format (seeding, decoder choice, ``on_error``) lives here.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

import attrs
import numpy as np
import torch.utils.data

from ..errors import ActionCoreError, DataError
from .watch import WorkerFailure, WorkerProgress, time_limit
from .pipeline import Pipeline, Step
from .reader import VideoReader
from .sample import VideoSample

OnError = Literal["raise", "skip"]

MAX_CONSECUTIVE_BAD = 32
"""Default of ``data.max_consecutive_bad``: under ``skip``, give up after this many bad samples
in a row, since the data set (or its root) is then broken rather than a few files."""


@attrs.frozen
class ClipRecord:
    """One annotated item: a video file or frame folder and its label(s)."""

    source: str
    label: int | tuple[int, ...] | None
    num_frames: int | None = None
    """From the annotation when it says; otherwise the decoder counts."""
    frame_offset: int = 0
    """Added to every sampled index (MMAction2's ``with_offset`` raw-frame lists)."""
    ann_file: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.ann_file}:{self.line}" if self.ann_file else self.source


class AnnotationSet(Protocol):
    """What a dataset component builds: parsed records plus the steps that prepare each one."""

    records: Sequence[ClipRecord]
    pipeline: Sequence[Step]
    default_decoder: str
    """The decoder used when ``data.decoder`` is not set (``pyav`` for videos, ...)."""


@attrs.frozen
class BadSample:
    """A sample that could not be prepared, kept so that it can be reported after the epoch."""

    where: str
    source: str
    reason: str


def check_labels(records: Sequence[ClipRecord], num_classes: int | None) -> list[BadSample]:
    """Records whose labels fall outside ``[0, num_classes)``."""
    if num_classes is None:
        return []
    bad = []
    for record in records:
        labels = record.label if isinstance(record.label, tuple) else (record.label,)
        wrong = [l for l in labels if l is not None and not 0 <= l < num_classes]
        if wrong:
            bad.append(BadSample(record.where, record.source,
                                 f"label {wrong[0]} is outside [0, {num_classes})"))
    return bad


FRAMES_STREAM = 1
"""Fourth seed word of the frame-sampling generator the copies of a video share (``sample_once``),
so it is not the stream of any draw (those are seeded by three words)."""


class ClipDataset(torch.utils.data.Dataset):
    """A map-style dataset of prepared :class:`VideoSample` objects.

    Indexed by ``(epoch, index)`` pairs (what :class:`~actioncore.data.loader.EpochSampler`
    yields) or plain ints (epoch 0). Each sample's randomness comes from
    ``(seed, epoch, index)`` alone, so a run is reproducible whatever the number of workers or
    processes, and persistent workers need no epoch broadcast.

    ``pipeline`` replaces the annotation's own (a :class:`~actioncore.data.views.ViewsPipeline`).

    Under ``on_error="skip"`` a bad sample is replaced by the next good one, and the replaced
    files travel with the batch (``sample.meta["skipped"]``) so the loop can report them.

    ``times`` repeats the records within an epoch (MMAction2's ``RepeatDataset``): index ``i``
    is record ``i % len(records)``, its randomness seeded by ``i`` so each repeat is augmented
    differently. ``sample_weights`` (one per index, summing to 1, or None), set by the split's
    builder, makes the training sampler draw by these probabilities (class-balanced sampling).
    """

    def __init__(self, annotations: AnnotationSet, *, decoder: Any, on_error: OnError = "raise",
                 seed: int = 0, num_classes: int | None = None, pipeline: Pipeline | None = None,
                 max_consecutive_bad: int = MAX_CONSECUTIVE_BAD, timeout: float = 0.0, times: int = 1):
        records = list(annotations.records)
        self.bad_records = check_labels(records, num_classes)
        if self.bad_records:
            if on_error == "raise":
                first = self.bad_records[0]
                more = f" ({len(self.bad_records) - 1} more such lines)" if len(self.bad_records) > 1 else ""
                raise DataError(f"{first.where}: {first.reason}{more}", path=first.source)
            dropped = {b.where for b in self.bad_records}
            records = [r for r in records if r.where not in dropped]
        if not records:
            raise DataError("the annotation lists no usable samples")
        self.records = records
        if pipeline is None:
            pipeline = annotations.pipeline if isinstance(annotations.pipeline, Pipeline) else Pipeline(annotations.pipeline)
        self.pipeline = pipeline
        self.decoder = decoder
        self.on_error = on_error
        self.seed = seed
        self.max_consecutive_bad = max_consecutive_bad
        self.timeout = timeout
        """Seconds one sample may take to prepare (0: no limit); see :func:`time_limit`."""
        self.reading: WorkerProgress | None = None
        """Set by the loader: what each worker process is reading, for when one dies."""
        self.times = times
        self.sample_once = False
        """Set by the loader under repeated augmentation with ``data.sample_once``: every copy of
        a video in an epoch samples the same frames (its sampling seeded by the index, not the
        draw); what follows the sampling still differs per copy."""
        self.sample_weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.records) * self.times

    def load(self, index: int, epoch: int = 0, *, draw: int | None = None) -> VideoSample:
        """Prepare record ``index``; a bad file raises :class:`DataError` naming it and its list
        line. ``draw`` (default ``index``) seeds its randomness: the repeat's own index."""
        record = self.records[index]
        sample = VideoSample(source=record.source, label=record.label, index=index,
                             num_frames=record.num_frames,
                             rng=np.random.default_rng([self.seed, epoch, index if draw is None else draw]))
        if self.sample_once:
            sample.shared_frames_rng = np.random.default_rng([self.seed, epoch, index, FRAMES_STREAM])
        if record.frame_offset:
            sample.meta["frame_offset"] = record.frame_offset
        if self.reading is not None:
            self.reading.note(index)
        try:
            with time_limit(self.timeout, record.source), self.decoder.open(record.source) as reader:
                sample.reader = reader
                _check_listed_frames(record, reader)
                if sample.num_frames is None or sample.num_frames > reader.num_frames:
                    sample.num_frames = reader.num_frames
                sample.fps = reader.fps
                sample.modality = "Flow" if getattr(reader, "channels", 3) == 2 else "RGB"
                sample = self.pipeline(sample)
        except DataError as exc:
            if record.ann_file and record.where not in str(exc):
                raise DataError(f"{record.where}: {exc}", path=record.source, line=record.line) from exc
            raise
        finally:
            sample.reader = None
        return sample

    def __getitem__(self, key: int | tuple[int, int]) -> VideoSample | WorkerFailure:
        try:
            return self._prepare(key)
        except ActionCoreError as exc:
            if torch.utils.data.get_worker_info() is None:
                raise
            # raised in a worker, torch would wrap it in the worker's traceback; returned, the
            # loader re-raises it in the main process as it is (see ClipLoader)
            return WorkerFailure(exc)

    def _prepare(self, key: int | tuple[int, int]) -> VideoSample:
        epoch, draw = key if isinstance(key, tuple) else (0, key)
        count = len(self.records)
        index, repeat_offset = draw % count, draw - draw % count
        if self.on_error == "raise":
            return self.load(index, epoch, draw=draw)
        skipped: list[BadSample] = []
        for attempt in range(self.max_consecutive_bad):
            candidate = (index + attempt) % count
            try:
                sample = self.load(candidate, epoch, draw=candidate + repeat_offset)
            except DataError as exc:
                record = self.records[candidate]
                reason = str(exc).removeprefix(f"{record.where}: ")  # the report names it already
                skipped.append(BadSample(record.where, record.source, reason))
                continue
            sample.meta["skipped"] = skipped
            return sample
        raise DataError(f"{self.max_consecutive_bad} bad samples in a row from index {index} on "
                        f"(data.max_consecutive_bad); the last: {skipped[-1].reason}")


def _check_listed_frames(record: ClipRecord, reader: VideoReader) -> None:
    """A frame folder holding fewer frames than its list line says lost files: name the first
    (a video's count is a decoder's estimate, and reading stops at its real end instead; readers
    of other data, features or poses, have no ``missing_frame``)."""
    missing_frame = getattr(reader, "missing_frame", None)
    if (missing_frame is None or record.num_frames is None
            or record.num_frames + record.frame_offset <= reader.num_frames):
        return
    missing = missing_frame(reader.num_frames)
    if missing is not None:
        raise DataError(f"{record.source}: the list says {record.num_frames} frames but {missing} "
                        f"is missing (the folder holds {reader.num_frames})", path=record.source)
