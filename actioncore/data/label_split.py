"""``actioncore data split``: a labeled fraction of a training list, drawn per class.

What video-data-aug's ``tools/data/construct_semi_sup_listfiles.py`` does (SEED003 §6.2): per
class, ``max(round(n * R), 1)`` videos drawn without replacement as labeled, the rest unlabeled.
Where this differs, on purpose:

- classes are the lines' labels (the last column), not the first path component, so any list
  with labels works, in ascending label order, from one ``numpy.random.RandomState(seed)`` stream
  (the original seeds NumPy's global legacy generator once, 3, and draws with
  ``np.random.choice`` across all its splits and ratios, so its exact draws depend on its loop);
- the unlabeled list keeps the labels (the original wrote 2 columns, which ``RawframeDataset``
  cannot load, so its configs used the whole train list instead; keeping them lets the datasets
  read the file and the semi-supervised task measure pseudo-label accuracy);
- ``unlabeled = "all"`` writes the whole list as unlabeled, as the original's configs did.

Lines are written verbatim, in the order of the input list.
"""
from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path

import attrs
import numpy as np

from ..errors import ConfigError
from .list_lines import AnnotationList, ListLine, read_list

UNLABELED_CHOICES = ("rest", "all")


@attrs.frozen
class LabelSplit:
    """Where the two lists went and how many lines per class each got."""

    labeled_file: Path
    unlabeled_file: Path
    format: str
    per_class: dict[int, tuple[int, int]]
    """label -> (lines in the list, lines drawn as labeled)."""
    labeled: int
    unlabeled: int

    def as_dict(self) -> dict:
        return {"labeled_file": str(self.labeled_file), "unlabeled_file": str(self.unlabeled_file),
                "format": self.format, "classes": len(self.per_class), "labeled": self.labeled,
                "unlabeled": self.unlabeled,
                "per_class": {str(k): {"total": n, "labeled": m} for k, (n, m) in self.per_class.items()}}


def check_ratio(ratio: float) -> float:
    """``ratio`` if it is in (0, 1]; a :class:`ConfigError` naming ``--labeled`` otherwise."""
    if not (isinstance(ratio, (int, float)) and math.isfinite(ratio) and 0 < ratio <= 1):
        raise ConfigError(f"--labeled must be a fraction in (0, 1] (0.1 = 10% of each class), got {ratio}")
    return float(ratio)


def draw_labeled(annotations: AnnotationList, *, ratio: float, seed: int) -> list[ListLine]:
    """The labeled lines, in list order: per class ``max(round(n * ratio), 1)`` drawn without replacement."""
    ratio = check_ratio(ratio)
    by_class: dict[int, list[ListLine]] = defaultdict(list)
    for line in annotations.lines:
        by_class[line.label].append(line)
    rng = np.random.RandomState(seed)
    chosen: set[int] = set()
    for label in sorted(by_class):
        members = by_class[label]
        count = max(round(len(members) * ratio), 1)
        chosen.update(members[i].number for i in rng.choice(len(members), count, replace=False))
    return [line for line in annotations.lines if line.number in chosen]


def split_list(file: str | os.PathLike[str], out: str | os.PathLike[str], *, ratio: float, seed: int,
               unlabeled: str = "rest", format: str = "auto", with_offset: bool = False) -> LabelSplit:
    """Write ``out/labeled.txt`` and ``out/unlabeled.txt`` (see the module docstring)."""
    ratio = check_ratio(ratio)
    if unlabeled not in UNLABELED_CHOICES:
        raise ConfigError(f"--unlabeled must be one of {', '.join(UNLABELED_CHOICES)}, got {unlabeled!r}")
    annotations = read_list(file, format=format, with_offset=with_offset)
    labeled = draw_labeled(annotations, ratio=ratio, seed=seed)
    taken = {line.number for line in labeled}
    rest = [line for line in annotations.lines if unlabeled == "all" or line.number not in taken]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = out / "labeled.txt", out / "unlabeled.txt"
    for target, lines in zip(files, (labeled, rest)):
        target.write_text("".join(f"{line.text}\n" for line in lines), encoding="utf-8")
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in annotations.lines:
        totals[line.label][0] += 1
        totals[line.label][1] += line.number in taken
    return LabelSplit(files[0], files[1], annotations.format,
                      {k: (n, m) for k, (n, m) in sorted(totals.items())}, len(labeled), len(rest))
