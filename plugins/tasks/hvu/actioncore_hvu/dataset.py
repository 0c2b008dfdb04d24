"""MMAction2's HVU annotation files: a JSON list of ``{"filename": "x.mp4", "label": {category:
[tag, ...]}}`` (videos) or ``{"frame_dir": "x", "total_frames": N, "label": {...}}`` (frames), as
``tools/data/hvu/generate_file_list.py`` writes them. Each clip's tags become one multi-label
record over all categories' tags side by side (category ``c``'s tag ``t`` is label
``start(c) + t``), what ``LoadHVULabel`` makes of them."""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actioncore.sdk import DataError, Transform
from actioncore.sdk.data import ClipRecord

HVU_CATEGORIES = ["action", "attribute", "concept", "event", "object", "scene"]
HVU_CATEGORY_NUMS = [739, 117, 291, 69, 1678, 248]
"""HVU's tag categories and their tag counts (MMAction2's defaults; 3142 tags)."""


class HVUDataset:
    """Clips of an HVU JSON list; categories outside ``tag_categories`` are left out, as
    ``LoadHVULabel`` leaves them."""

    default_decoder = "auto"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = "",
                 tag_categories: list[str] = HVU_CATEGORIES, tag_category_nums: list[int] = HVU_CATEGORY_NUMS):
        if len(tag_categories) != len(tag_category_nums):
            raise ValueError(f"{len(tag_categories)} tag_categories for {len(tag_category_nums)} tag_category_nums")
        self.ann_file = ann_file
        self.root = root
        self.pipeline = list(pipeline)
        self.starts = dict(zip(tag_categories, (sum(tag_category_nums[:i]) for i in range(len(tag_category_nums)))))
        self.nums = dict(zip(tag_categories, tag_category_nums))
        self.records = [self._record(i, item) for i, item in enumerate(_read(ann_file), start=1)]
        if not self.records:
            raise DataError(f"{ann_file}: the annotation file lists no samples", path=ann_file)

    def _record(self, number: int, item: Any) -> ClipRecord:
        where = f"{self.ann_file}: entry {number}"
        if not isinstance(item, dict) or not isinstance(item.get("label"), dict):
            raise DataError(f"{where}: expected {{\"filename\" or \"frame_dir\": ..., \"label\": {{category: [tags]}}}}",
                            path=self.ann_file, line=number)
        name = item.get("filename", item.get("frame_dir"))
        if not isinstance(name, str):
            raise DataError(f"{where}: no \"filename\" or \"frame_dir\"", path=self.ann_file, line=number)
        labels = []
        for category, tags in item["label"].items():
            if category not in self.starts:
                continue
            for tag in tags if isinstance(tags, list) else [tags]:
                if not isinstance(tag, int) or not 0 <= tag < self.nums[category]:
                    raise DataError(f"{where}: tag {tag!r} of '{category}' is outside [0, {self.nums[category]})",
                                    path=self.ann_file, line=number)
                labels.append(self.starts[category] + tag)
        total = item.get("total_frames")
        return ClipRecord(os.path.join(self.root, name) if self.root else name, tuple(sorted(set(labels))),
                          num_frames=total if isinstance(total, int) else None, ann_file=self.ann_file, line=number)

    def __len__(self) -> int:
        return len(self.records)


def _read(ann_file: str) -> Sequence[Any]:
    try:
        data = json.loads(Path(ann_file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{ann_file}: annotation file not found", path=ann_file) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{ann_file}: cannot read the HVU annotation file: {exc}", path=ann_file) from None
    if not isinstance(data, list):
        raise DataError(f"{ann_file}: expected a JSON list of clips", path=ann_file)
    return data
