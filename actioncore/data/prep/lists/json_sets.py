"""Something-Something V2 and Diving48: JSON annotation files.

| data set | files (in SOURCE) | entry |
| --- | --- | --- |
| Something-Something V2 | ``something-something-v2-labels.json``, ``-train.json``, ``-validation.json`` | ``{"id": "78687", "template": "Holding [something] next to [something]", ...}`` |
| Diving48 | ``Diving48_vocab.json``, ``Diving48_V2_train.json``, ``Diving48_V2_test.json`` | ``{"vid_name": "-mmq0PT-u8k_00155", "label": 0, ...}`` |

Something-Something's label is its template without brackets looked up in the labels file
(``parse_sthv2_splits``); Diving48's ``label`` is used as is, its class name the vocabulary's four
attributes joined by spaces. The test JSONs carry no labels and give no list.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ....errors import DataError
from .entries import ListEntry, ListSet, lookup, read_json

STHV2 = "something-something-v2"


def _items(path: Path, what: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    items = read_json(path, what)
    if not isinstance(items, list):
        raise DataError(f"{path}: the {what} must be a JSON list of objects", path=str(path))
    for i, item in enumerate(items):
        if not isinstance(item, dict) or any(k not in item for k in keys):
            raise DataError(f"{path}: item {i} needs the keys {', '.join(keys)}", path=str(path))
    return items


def build_sthv2(source: Path, *, prefix: str = "sthv2", video_ext: str | None = None, **_: object) -> ListSet:
    """``<prefix>_train_list`` and ``<prefix>_val_list`` (``<id>.webm``)."""
    labels_file = source / f"{STHV2}-labels.json"
    raw = read_json(labels_file, "labels file")
    if not isinstance(raw, dict):
        raise DataError(f"{labels_file}: expected an object mapping templates to label ids", path=str(labels_file))
    try:
        labels = {template: int(value) for template, value in raw.items()}
    except (TypeError, ValueError):
        raise DataError(f"{labels_file}: label ids must be integers (\"0\", \"1\", ...)", path=str(labels_file)) from None
    lists = {}
    for subset, name in (("train", "train"), ("val", "validation")):
        path = source / f"{STHV2}-{name}.json"
        entries = []
        for i, item in enumerate(_items(path, f"{name} annotations", ("id", "template"))):
            template = item["template"].replace("[", "").replace("]", "")
            entries.append(ListEntry(str(item["id"]), lookup(labels, template, f"{path}: item {i}", "template"),
                                     video_ext or ".webm"))
        lists[f"{prefix}_{subset}_list"] = entries
    return ListSet(lists, [t for t, _ in sorted(labels.items(), key=lambda kv: kv[1])])


def build_diving48(source: Path, *, prefix: str = "diving48", video_ext: str | None = None,
                   **_: object) -> ListSet:
    """``<prefix>_train_list`` and ``<prefix>_val_list`` (the V2 test set, as MMAction2 validates on it)."""
    vocab_file = source / "Diving48_vocab.json"
    vocab = read_json(vocab_file, "Diving48 vocabulary")
    if not isinstance(vocab, list):
        raise DataError(f"{vocab_file}: expected a list of [takeoff, somersault, twist, flight]", path=str(vocab_file))
    classes = [" ".join(map(str, v)) if isinstance(v, list) else str(v) for v in vocab]
    lists = {}
    for subset, name in (("train", "train"), ("val", "test")):
        path = source / f"Diving48_V2_{name}.json"
        entries = []
        for i, item in enumerate(_items(path, f"Diving48 {name} annotations", ("vid_name", "label"))):
            label = item["label"]
            if not isinstance(label, int) or not 0 <= label < len(classes):
                raise DataError(f"{path}: item {i}: label {label!r} is not a class of {vocab_file.name} "
                                f"(0..{len(classes) - 1})", path=str(path))
            entries.append(ListEntry(str(item["vid_name"]), label, video_ext or ".mp4"))
        lists[f"{prefix}_{subset}_list"] = entries
    return ListSet(lists, classes)
