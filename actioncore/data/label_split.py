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
- ``unlabeled = "all"`` writes the whole list as unlabeled, as the original's configs did;
- ``group``, a regular expression, draws whole groups of lines instead of single lines (below).

Groups: clips that share an actor or a scene teach the scene, not the action, when one of them is
labeled and its siblings of other classes are not: a model trained on the labeled clips then
gives the unlabeled siblings the labeled clip's class, confidently, and pseudo-labelling confirms
it. UCF-101's official splits keep each group (``_g08_``) on one side for this reason. With
``group``, lines whose paths give the same match (the first parenthesised group, if the pattern has
one) form a group; groups are visited in one random order and each group's lines are taken while
their class still lacks labeled lines, until every class has its ``max(round(n * R), 1)``. On the
embedded data set, whose twelve classes share every scene key (``train_0009.mp4``), ``--group
'train_\\d+'`` labels whole keys: four keys at 10%, every scene labeled with all twelve classes.

Lines are written verbatim, in the order of the input list.
"""
from __future__ import annotations

import math
import os
import re
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


def compile_group(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled; a :class:`ConfigError` naming ``--group`` when it is not a regex."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"--group '{pattern}' is not a regular expression: {exc}") from exc


def group_of(line: ListLine, pattern: re.Pattern[str], file: str) -> str:
    """The group key of ``line``: ``pattern``'s first parenthesised group, else its whole match."""
    match = pattern.search(line.path)
    if match is None:
        raise ConfigError(f"{file}:{line.number}: --group '{pattern.pattern}' does not match the path "
                          f"{line.path!r} (every line needs a group)")
    return match.group(1) if pattern.groups else match.group(0)


def draw_labeled(annotations: AnnotationList, *, ratio: float, seed: int,
                 group: str | None = None) -> list[ListLine]:
    """The labeled lines, in list order: per class ``max(round(n * ratio), 1)`` drawn without replacement,
    single lines or, with ``group``, whole groups (see the module docstring)."""
    ratio = check_ratio(ratio)
    by_class: dict[int, list[ListLine]] = defaultdict(list)
    for line in annotations.lines:
        by_class[line.label].append(line)
    need = {label: max(round(len(members) * ratio), 1) for label, members in by_class.items()}
    rng = np.random.RandomState(seed)
    chosen: set[int] = set()
    if group is None:
        for label in sorted(by_class):
            members = by_class[label]
            chosen.update(members[i].number for i in rng.choice(len(members), need[label], replace=False))
    else:
        pattern = compile_group(group)
        groups: dict[str, list[ListLine]] = defaultdict(list)
        for line in annotations.lines:
            groups[group_of(line, pattern, annotations.file)].append(line)
        keys = list(groups)
        for index in rng.permutation(len(keys)):
            for line in groups[keys[index]]:
                if need[line.label]:
                    chosen.add(line.number)
                    need[line.label] -= 1
            if not any(need.values()):
                break
    return [line for line in annotations.lines if line.number in chosen]


def split_list(file: str | os.PathLike[str], out: str | os.PathLike[str], *, ratio: float, seed: int,
               unlabeled: str = "rest", format: str = "auto", with_offset: bool = False,
               group: str | None = None) -> LabelSplit:
    """Write ``out/labeled.txt`` and ``out/unlabeled.txt`` (see the module docstring)."""
    ratio = check_ratio(ratio)
    if unlabeled not in UNLABELED_CHOICES:
        raise ConfigError(f"--unlabeled must be one of {', '.join(UNLABELED_CHOICES)}, got {unlabeled!r}")
    if group is not None:
        compile_group(group)
    annotations = read_list(file, format=format, with_offset=with_offset)
    labeled = draw_labeled(annotations, ratio=ratio, seed=seed, group=group)
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
