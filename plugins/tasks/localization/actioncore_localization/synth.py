"""The ``localization`` kind: untrimmed feature sequences with action segments (ActivityNet layout).

Writes, for splits train/val/test:

- ``DIR/features/v_<split>_<index>.csv``: one row per 16-frame snippet (``feature_frame / 16``
  rows, so lengths vary with the video) of ``feat_dim`` features, with a header line, as
  MMAction2's ActivityNet feature CSVs; the localization dataset rescales them to its
  ``temporal_dim``;
- ``DIR/anet_anno_<split>.json``: MMAction2's ActivityNet annotation JSON (``duration_second``,
  ``duration_frame``, ``annotations`` of ``{segment, label}``, ``feature_frame``, ``fps``);
- ``DIR/classes.txt`` and ``DIR/README.txt``.

Each video is background with one to three non-overlapping actions of varied lengths (a few
percent to over half of the video). A snippet's features are its state's prototype (the video's
background, or the action class's) plus noise, lightly smoothed in time, so actions differ from
the background in what the features hold, not in any single coordinate a model could threshold.
Registered as the ``synth`` kind ``localization`` (``actioncore data synth localization``).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import attrs
import numpy as np

from actioncore.sdk import DataError
from actioncore.sdk.data import SYNTH_MARKER, SynthReport, check_seed, prepare_out

SPLITS = ("train", "val", "test")
CLASSES = ("jumping", "swimming", "cooking")
FPS = 30.0
SNIPPET_FRAMES = 16
"""Frames per feature row, as ActivityNet features are extracted (MMAction2's default interval)."""


@attrs.frozen
class LocalizationSize:
    """Videos per split, feature width and the range of video lengths in seconds."""

    videos: Mapping[str, int]
    feat_dim: int
    min_seconds: float
    max_seconds: float


SIZES: Mapping[str, LocalizationSize] = {
    "tiny": LocalizationSize({"train": 8, "val": 4, "test": 4}, 16, 12.0, 30.0),
    "default": LocalizationSize({"train": 64, "val": 24, "test": 24}, 32, 15.0, 60.0),
}
"""``tiny`` is for unit tests; ``default`` trains a tiny BMN to AUC > 50 in well under a minute on a CPU."""


def _segments(rng: np.random.Generator, duration: float) -> list[tuple[float, float]]:
    """One to three disjoint segments, each 5% to 60% of the video, with background between."""
    count = int(rng.integers(1, 4))
    lengths = rng.uniform(0.05, 0.6 / count, count) * duration
    gaps = rng.dirichlet(np.ones(count + 1)) * (duration - lengths.sum())
    segments, t = [], 0.0
    for gap, length in zip(gaps[:-1], lengths):
        t += gap
        segments.append((round(t, 3), round(t + length, 3)))
        t += length
    return segments


def _features(rng: np.random.Generator, rows: int, snippet_s: float, segments: list[tuple[float, float]],
              labels: list[int], prototypes: np.ndarray) -> np.ndarray:
    feat_dim = prototypes.shape[1]
    background = rng.normal(0.0, 1.0, feat_dim)
    centres = (np.arange(rows) + 0.5) * snippet_s
    means = np.tile(background, (rows, 1))
    for (start, end), label in zip(segments, labels):
        inside = (centres >= start) & (centres < end)
        means[inside] = prototypes[label] + 0.3 * background
    noisy = means + rng.normal(0.0, 0.6, means.shape)
    smoothed = noisy.copy()
    smoothed[1:-1] = 0.25 * noisy[:-2] + 0.5 * noisy[1:-1] + 0.25 * noisy[2:]
    return smoothed.astype(np.float32)


def _video(seed: int, split: str, index: int, preset: LocalizationSize, prototypes: np.ndarray
           ) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    duration_frame = int(rng.uniform(preset.min_seconds, preset.max_seconds) * FPS)
    duration = duration_frame / FPS
    feature_frame = duration_frame // SNIPPET_FRAMES * SNIPPET_FRAMES
    feature_second = feature_frame / FPS
    segments = _segments(rng, feature_second)
    labels = [int(rng.integers(len(CLASSES))) for _ in segments]
    features = _features(rng, feature_frame // SNIPPET_FRAMES, SNIPPET_FRAMES / FPS, segments, labels, prototypes)
    info = {"duration_second": duration, "duration_frame": duration_frame,
            "annotations": [{"segment": list(s), "label": CLASSES[l]} for s, l in zip(segments, labels)],
            "feature_frame": feature_frame, "fps": FPS, "rfps": FPS}
    return info, features


def _readme(seed: int, name: str, preset: LocalizationSize) -> str:
    counts = "/".join(str(preset.videos[s]) for s in SPLITS)
    return f"""{SYNTH_MARKER}: localization (seed {seed}, size {name})

{counts} train/val/test untrimmed videos of {preset.min_seconds:g}-{preset.max_seconds:g} s at {FPS:g} fps,
each with 1-3 actions of {', '.join(CLASSES)}. Regenerate with:
actioncore data synth localization --out DIR --seed {seed}

Layout (MMAction2's ActivityNet feature layout): anet_anno_<split>.json annotations;
features/<video_name>.csv, one header line then one row of {preset.feat_dim} features per
{SNIPPET_FRAMES}-frame snippet. Point a config's `root` at DIR/features and `ann_file` at
DIR/anet_anno_train.json (_val, _test); set feat_dim = {preset.feat_dim}.
"""


def synth_localization(out: Path, *, seed: int = 0, size: str | LocalizationSize = "default") -> SynthReport:
    """Untrimmed feature sequences with 1-3 action segments each, in ActivityNet's feature layout.
    Sizes: tiny, default.

    See the module docstring for the layout.
    """
    seed = check_seed(seed)
    if isinstance(size, str):
        if size not in SIZES:
            raise DataError(f"unknown size {size!r} for the localization data set; sizes: {', '.join(SIZES)}")
        preset, name = SIZES[size], size
    else:
        preset, name = size, "custom"
    out = Path(out)
    prepare_out(out, ["features", *(f"anet_anno_{s}.json" for s in SPLITS), "classes.txt", "README.txt"])
    (out / "features").mkdir()
    prototypes = np.random.default_rng([seed, 99]).normal(0.0, 1.0, (len(CLASSES), preset.feat_dim))
    header = ",".join(f"f{i}" for i in range(preset.feat_dim))
    written: list[Path] = []
    ann_files: dict[str, Path] = {}
    for split in SPLITS:
        database = {}
        for index in range(preset.videos[split]):
            name_ = f"v_{split}_{index:04d}"
            database[name_], features = _video(seed, split, index, preset, prototypes)
            path = out / "features" / f"{name_}.csv"
            np.savetxt(path, features, fmt="%.4f", delimiter=",", header=header, comments="")
            written.append(path)
        ann_files[split] = out / f"anet_anno_{split}.json"
        ann_files[split].write_text(json.dumps(database, indent=1))
    (out / "classes.txt").write_text("".join(f"{c}\n" for c in CLASSES))
    (out / "README.txt").write_text(_readme(seed, name, preset))
    written += [*ann_files.values(), out / "classes.txt", out / "README.txt"]
    return SynthReport(kind="localization", root=out, seed=seed, classes=CLASSES, motion_only=(),
                       num_samples=dict(preset.videos), data_prefix=out / "features", ann_files=ann_files,
                       files=tuple(p.relative_to(out) for p in written))
