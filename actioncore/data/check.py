"""``actioncore data check``: every annotated file of every split exists, opens and decodes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ..config.build import instantiate
from ..config.experiment import Experiment
from ..errors import DataError
from ..plugin.registry import ComponentRegistry
from ..progress import progress_bar
from .dataset import BadSample, ClipRecord, check_labels
from .splits import SPLITS, build_decoder, split_num_classes


@attrs.define
class SplitCheck:
    split: str
    checked: int = 0
    bad: list[BadSample] = attrs.Factory(list)


def probe(decoder: Any, record: ClipRecord) -> None:
    """Open the file and decode its first, middle and last frames; DataError if any fails."""
    with decoder.open(record.source) as reader:
        if reader.num_frames <= 0:
            raise DataError(f"{record.source}: no frames", path=record.source)
        if record.num_frames is not None and record.num_frames + record.frame_offset > reader.num_frames:
            raise DataError(f"{record.source}: the list says {record.num_frames} frames "
                            f"(offset {record.frame_offset}) but there are {reader.num_frames}",
                            path=record.source)
        last = reader.num_frames - 1
        reader.read(sorted({0, last // 2, last}))


def check_splits(experiment: Experiment, registry: ComponentRegistry,
                 progress: Callable[[str, int, int], None] | None = None) -> list[SplitCheck]:
    """Check every configured split; annotation problems and bad files are collected, not raised."""
    results = []
    for split in SPLITS:
        spec = getattr(experiment.data, split)
        if spec is None:
            continue
        result = SplitCheck(split)
        results.append(result)
        try:
            annotations = instantiate(spec, registry, f"data.{split}")
        except DataError as exc:
            result.bad.append(BadSample(spec.params.get("ann_file", split), "", str(exc)))
            continue
        decoder = build_decoder(experiment, getattr(annotations, "default_decoder", "pyav"), registry)
        records = list(annotations.records)
        result.bad.extend(check_labels(records, split_num_classes(experiment, split)))
        with progress_bar(total=len(records), desc=f"check {split}", unit="file") as bar:
            for i, record in enumerate(records):
                try:
                    probe(decoder, record)
                except DataError as exc:
                    reason = str(exc).removeprefix(f"{record.source}: ")
                    result.bad.append(BadSample(record.where, record.source, reason))
                result.checked += 1
                bar.update()
                if progress:
                    progress(split, i + 1, len(records))
    return results
