"""Kinetics and Moments in Time: CSV annotation files.

| data set | files (in SOURCE) | row |
| --- | --- | --- |
| Kinetics-400/600/700 | ``*train*.csv``, ``*val*.csv`` (``kinetics_train.csv``, ``validate.csv``, ...) | header, then ``label,youtube_id,time_start,time_end,split[,is_cc]`` |
| Moments in Time | ``moments_categories.txt``, ``trainingSet.csv``, ``validationSet.csv`` | ``name,ID``; ``class/video.mp4,class,...`` |

A Kinetics clip is named ``{youtube_id}_{start:06d}_{end:06d}`` (the trimmed clip MMAction2's
download script writes), in the folder of its label with spaces as ``_`` (``--level 2``, the
default, as MMAction2's list scripts) or alone (``--level 1``); labels are the ranks of the sorted
training labels, as ``parse_kinetics_splits``. Test CSVs carry no label and give no list.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ....errors import DataError
from .entries import ListEntry, ListSet, lookup, only_file, read_text

KINETICS_COLUMNS = ("label", "youtube_id", "time_start", "time_end")


def kinetics_folder(label: str) -> str:
    """MMAction2's ``convert_label``: the class folder name of a Kinetics label."""
    return label.replace('"', "").replace(" ", "_")


def _kinetics_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(read_text(path, "Kinetics CSV")))
    missing = [c for c in KINETICS_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise DataError(f"{path}: header lacks {', '.join(missing)} (expected "
                        f"label,youtube_id,time_start,time_end,split)", path=str(path))
    return [(number, row) for number, row in enumerate(reader, start=2)]


def kinetics_clip(row: dict[str, str], where: str) -> str:
    """``{youtube_id}_{start:06d}_{end:06d}``: the clip name of a Kinetics CSV row."""
    try:
        start, end = int(float(row["time_start"])), int(float(row["time_end"]))
    except (TypeError, ValueError):
        raise DataError(f"{where}: time_start and time_end must be numbers, got "
                        f"{row['time_start']!r}, {row['time_end']!r}") from None
    return f"{row['youtube_id']}_{start:06d}_{end:06d}"


def build_kinetics(source: Path, *, prefix: str = "kinetics400", level: int = 2, video_ext: str | None = None,
                   **_: object) -> ListSet:
    """``<prefix>_train_list`` and ``<prefix>_val_list`` from the train and validation CSVs."""
    if level not in (1, 2):
        raise DataError(f"--level must be 1 or 2, got {level}")
    files = {"train": only_file(source, "*train*.csv", "Kinetics training CSV"),
             "val": only_file(source, "*val*.csv", "Kinetics validation CSV")}
    rows = {subset: _kinetics_rows(path) for subset, path in files.items()}
    names = sorted({kinetics_folder(row["label"]): row["label"] for _, row in rows["train"]}.items())
    labels = {folder: i for i, (folder, _) in enumerate(names)}
    lists = {}
    for subset, subset_rows in rows.items():
        entries = []
        for number, row in subset_rows:
            where = f"{files[subset]}:{number}"
            folder = kinetics_folder(row["label"] or "")
            label = lookup(labels, folder, where, "label (not among the training CSV's)")
            clip = kinetics_clip(row, where)
            entries.append(ListEntry(f"{folder}/{clip}" if level == 2 else clip, label, video_ext or ".mp4"))
        lists[f"{prefix}_{subset}_list"] = entries
    return ListSet(lists, [original for _, original in names])


def build_mit(source: Path, *, prefix: str = "mit", **_: object) -> ListSet:
    """``<prefix>_train_list`` and ``<prefix>_val_list``: each row's path and its folder's category id."""
    categories_file = source / "moments_categories.txt"
    classes: dict[str, int] = {}
    for number, line in enumerate(read_text(categories_file, "category file").splitlines(), start=1):
        if not line.strip():
            continue
        name, _, digit = line.strip().rpartition(",")
        if not name or not digit.isdigit():
            raise DataError(f"{categories_file}:{number}: expected 'name,ID', got {line.strip()!r}",
                            path=str(categories_file), line=number)
        classes[name] = int(digit)
    lists = {}
    for subset, name in (("train", "trainingSet.csv"), ("val", "validationSet.csv")):
        path = source / name
        entries = []
        for number, row in enumerate(csv.reader(io.StringIO(read_text(path, "Moments in Time CSV"))), start=1):
            if not row:
                continue
            video = row[0]
            label = lookup(classes, video.rpartition("/")[0], f"{path}:{number}", "category")
            stem, dot, ext = video.rpartition(".")
            entries.append(ListEntry(stem, label, dot + ext) if dot else ListEntry(video, label, ""))
        lists[f"{prefix}_{subset}_list"] = entries
    return ListSet(lists, [n for n, _ in sorted(classes.items(), key=lambda kv: kv[1])])
