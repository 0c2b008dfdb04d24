"""UCF-101 and HMDB-51: official split files, three train/test splits each.

| data set | files (in SOURCE) | line |
| --- | --- | --- |
| UCF-101 | ``classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt`` | ``1 ApplyEyeMakeup``; ``Class/v_X.avi 1``; ``Class/v_X.avi`` |
| HMDB-51 | ``<class>_test_splitN.txt`` (one per class and split) | ``video.avi ID``: 1 train, 2 test, 0 unused |

UCF-101's labels are ``classInd.txt``'s ids minus one; HMDB-51's the rank of the sorted class
names, as MMAction2's ``parse_ucf101_splits`` / ``parse_hmdb51_split`` number them. Lists are
``<prefix>_{train,val}_split_N``, MMAction2's names.
"""
from __future__ import annotations

import re
from pathlib import Path

from ....errors import DataError
from .entries import ListEntry, ListSet, class_index, lookup, read_text

SPLITS = (1, 2, 3)


def _splits(split: int | None) -> tuple[int, ...]:
    if split is None:
        return SPLITS
    if split not in SPLITS:
        raise DataError(f"--split must be 1, 2 or 3, got {split}")
    return (split,)


def _entry(path: str, label: int) -> ListEntry:
    stem, dot, ext = path.rpartition(".")
    return ListEntry(stem, label, dot + ext) if dot else ListEntry(path, label, "")


def build_ucf101(source: Path, *, prefix: str = "ucf101", split: int | None = None, **_: object) -> ListSet:
    """The train and test lists of each split from ``classInd.txt`` and ``{train,test}list0N.txt``."""
    index_file = source / "classInd.txt"
    classes: dict[str, int] = {}
    for number, line in enumerate(read_text(index_file, "UCF-101 class index").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or not fields[0].isdigit():
            raise DataError(f"{index_file}:{number}: expected 'ID ClassName', got {line.strip()!r}",
                            path=str(index_file), line=number)
        classes[fields[1]] = int(fields[0]) - 1
    lists = {}
    for n in _splits(split):
        for subset, kind in (("train", "trainlist"), ("val", "testlist")):
            path = source / f"{kind}0{n}.txt"
            entries = []
            for number, line in enumerate(read_text(path, f"UCF-101 {kind}").splitlines(), start=1):
                fields = line.split()
                if not fields:
                    continue
                video = fields[0]
                label = lookup(classes, video.split("/")[0], f"{path}:{number}", "class (not in classInd.txt)")
                if len(fields) > 2 or (len(fields) == 2 and not fields[1].isdigit()):
                    raise DataError(f"{path}:{number}: expected 'Class/video.avi [ID]', got {line.strip()!r}",
                                    path=str(path), line=number)
                if len(fields) == 2 and int(fields[1]) - 1 != label:
                    raise DataError(f"{path}:{number}: label {fields[1]} disagrees with classInd.txt's "
                                    f"{label + 1} for {video.split('/')[0]}", path=str(path), line=number)
                entries.append(_entry(video, label))
            lists[f"{prefix}_{subset}_split_{n}"] = entries
    return ListSet(lists, [name for name, _ in sorted(classes.items(), key=lambda kv: kv[1])])


_HMDB_FILE = re.compile(r"^(?P<cls>.+)_test_split(?P<split>\d)\.txt$")


def build_hmdb51(source: Path, *, prefix: str = "hmdb51", split: int | None = None,
                 video_ext: str | None = None, **_: object) -> ListSet:
    """The train (id 1) and test (id 2) lists of each split from the per-class split files."""
    files = [(p, _HMDB_FILE.match(p.name)) for p in sorted(source.glob("*_test_split*.txt"))]
    files = [(p, m) for p, m in files if m]
    if not files:
        raise DataError(f"{source}: no HMDB-51 split files (<class>_test_split<N>.txt)", path=str(source))
    labels = class_index([m["cls"] for _, m in files])
    lists = {}
    for n in _splits(split):
        train, test = [], []
        for path, match in files:
            if int(match["split"]) != n:
                continue
            for number, line in enumerate(read_text(path, "HMDB-51 split file").splitlines(), start=1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                    raise DataError(f"{path}:{number}: expected 'video.avi 0|1|2', got {line.strip()!r}",
                                    path=str(path), line=number)
                entry = _entry(f"{match['cls']}/{fields[0]}", labels[match["cls"]])
                if video_ext:
                    entry = ListEntry(entry.name, entry.label, video_ext)
                {"1": train, "2": test}.get(fields[1], []).append(entry)
        if not train and not test:
            raise DataError(f"{source}: no split file for split {n}", path=str(source))
        lists[f"{prefix}_train_split_{n}"] = train
        lists[f"{prefix}_val_split_{n}"] = test
    return ListSet(lists, list(labels))
