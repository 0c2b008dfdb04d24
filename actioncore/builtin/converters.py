"""The kernel's converters (``actioncore data convert NAME IN OUT``).

``image_scores``: video-data-aug's ImageNet score files (``resnet18_prtrnd_preds.npy``, SEED003
§4) to an image-score ``.npz`` (:mod:`actioncore.data.image_scores`). The original is a pickled dict
``{video: {1-based frame number: {'prob': ndarray[1000]}}}`` saved with ``np.save``; it is opened
only through :func:`actioncore.data.pickles.load_trusted_npy`, which refuses without
``--trust-pickle``. Frame numbers become 0-based indices (frame 1 is ``img_00001.jpg``, index 0);
a value may also be the probability array itself. No class names are stored: the file has none
(its 1000 columns are, by the file name, ImageNet-1k's in torchvision's order).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..data.image_scores import ImageScoresWriter
from ..data.pickles import load_trusted_npy
from ..errors import DataError


def _prob_row(value: Any, where: str, source: Path) -> np.ndarray:
    if isinstance(value, Mapping):
        if "prob" not in value:
            raise DataError(f"{where}: no 'prob' entry (keys: {', '.join(map(str, value))})", path=str(source))
        value = value["prob"]
    try:
        row = np.asarray(value, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"{where}: 'prob' is not an array of numbers", path=str(source)) from None
    if not np.all(np.isfinite(row)) or np.any(row < 0):
        raise DataError(f"{where}: probabilities must be finite and >= 0", path=str(source))
    return row


def _video_rows(key: str, frames: Any, source: Path) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(frames, Mapping) or not frames:
        raise DataError(f"{source}: video {key!r}: expected a non-empty dict of 1-based frame number -> "
                        f"{{'prob': array}}, got {type(frames).__name__}", path=str(source))
    numbers, rows = [], []
    for number, value in frames.items():
        where = f"{source}: video {key!r} frame {number!r}"
        if not isinstance(number, (int, np.integer)) or number < 1:
            raise DataError(f"{where}: frame numbers must be integers >= 1 (1-based, as img_00001.jpg)",
                            path=str(source))
        numbers.append(int(number) - 1)
        rows.append(_prob_row(value, where, source))
    sizes = {row.size for row in rows}
    if len(sizes) != 1:
        raise DataError(f"{source}: video {key!r}: probability vectors of different lengths {sorted(sizes)}",
                        path=str(source))
    return np.array(numbers, dtype=np.int64), np.stack(rows)


def convert_image_scores(source: Path, target: Path, *, trust_pickle: bool) -> dict[str, Any]:
    """video-data-aug's pickled score ``.npy`` -> an image-score ``.npz``; returns a report."""
    data = load_trusted_npy(source, trust=trust_pickle, what="video-data-aug image scores")
    if not isinstance(data, Mapping) or not data:
        raise DataError(f"{source}: expected a pickled dict {{video: {{1-based frame: {{'prob': array}}}}}}, "
                        f"got {type(data).__name__}{' (empty)' if isinstance(data, Mapping) else ''}",
                        path=str(source))
    videos = ((str(key), *_video_rows(str(key), frames, source)) for key, frames in data.items())
    first = next(videos)
    sums = []
    with ImageScoresWriter(target, num_classes=first[2].shape[1]) as writer:
        for key, numbers, rows in itertools.chain([first], videos):
            if rows.shape[1] != writer.num_classes:
                raise DataError(f"{source}: video {key!r}: {rows.shape[1]} classes, earlier videos have "
                                f"{writer.num_classes}", path=str(source))
            writer.add(key, numbers, rows)
            sums.append(rows.sum(axis=1))
    sums = np.concatenate(sums)
    return {"target": str(writer.path), "videos": len(data), "frames": int(sums.size), "classes": writer.num_classes,
            "row_sum_min": round(float(sums.min()), 4), "row_sum_max": round(float(sums.max()), 4)}
