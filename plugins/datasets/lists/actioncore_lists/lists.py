"""Line-based annotation lists, one sample per line.

| format | line | decoder |
| --- | --- | --- |
| ``video_list`` (MMAction2) | ``relative/path.mp4 LABEL [LABEL ...]`` | ``pyav`` |
| ``rawframe_list`` (MMAction2) | ``relative/dir [OFFSET] TOTAL_FRAMES LABEL [LABEL ...]`` | ``frame_folder`` |
| ``cmr_list`` (X-Temporal, CMR) | ``path TOTAL_FRAMES LABEL``, path a video or a frame folder | ``auto`` |
| ``image_list`` (MMAction2 0.24's ``ImageDataset``) | ``relative/path.jpg LABEL`` | ``image`` |
| ``unlabeled_video_list`` | ``relative/path.mp4 [ANYTHING ...]`` (later columns ignored) | ``pyav`` |

Paths are joined to ``root``. Blank lines and lines starting with ``#`` are skipped. Every
malformed line raises a :class:`~actioncore.errors.DataError` naming the file and line.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from actioncore.sdk.data import ClipRecord
from actioncore.sdk import DataError, Transform


def _lines(ann_file: str) -> Iterator[tuple[int, list[str]]]:
    try:
        text = Path(ann_file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{ann_file}: annotation file not found (relative paths start at "
                        f"{os.getcwd()})", path=ann_file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{ann_file}: cannot read the annotation file: {exc}", path=ann_file) from None
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            yield number, fields


def _ints(ann_file: str, number: int, values: list[str], what: str) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError:
        raise DataError(f"{ann_file}:{number}: {what} must be integers, got {' '.join(values)!r}",
                        path=ann_file, line=number) from None


def _labels(ann_file: str, number: int, values: list[str], multi_class: bool) -> int | tuple[int, ...]:
    if not values:
        raise DataError(f"{ann_file}:{number}: no label", path=ann_file, line=number)
    labels = _ints(ann_file, number, values, "labels")
    if multi_class:
        return tuple(labels)
    if len(labels) > 1:
        raise DataError(f"{ann_file}:{number}: {len(labels)} labels on a single-label list "
                        "(set multi_class = true for multi-label data)", path=ann_file, line=number)
    return labels[0]


class _ListDataset:
    default_decoder = "pyav"

    def __init__(self, ann_file: str, root: str, pipeline: list):
        self.ann_file = ann_file
        self.root = root
        self.pipeline = list(pipeline)
        self.records = [self._record(number, fields) for number, fields in _lines(ann_file)]
        if not self.records:
            raise DataError(f"{ann_file}: the annotation file lists no samples", path=ann_file)

    def _path(self, relative: str) -> str:
        return os.path.join(self.root, relative) if self.root else relative

    def _record(self, number: int, fields: list[str]) -> ClipRecord:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.ann_file!r}, {len(self.records)} samples)"


class VideoList(_ListDataset):
    """MMAction2's video list: ``path LABEL`` per line (``path L1 L2 ...`` when multi-label)."""

    default_decoder = "pyav"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = "",
                 multi_class: bool = False):
        self.multi_class = multi_class
        super().__init__(ann_file, root, pipeline)

    def _record(self, number: int, fields: list[str]) -> ClipRecord:
        return ClipRecord(self._path(fields[0]),
                          _labels(self.ann_file, number, fields[1:], self.multi_class),
                          ann_file=self.ann_file, line=number)


class ImageList(VideoList):
    """Images as one-frame clips (OmniSource's web images): ``path LABEL`` per line, read by the
    ``image`` decoder; a sampler asking for more frames repeats the image."""

    default_decoder = "image"

    def _record(self, number: int, fields: list[str]) -> ClipRecord:
        return ClipRecord(self._path(fields[0]), _labels(self.ann_file, number, fields[1:], self.multi_class),
                          num_frames=1, ann_file=self.ann_file, line=number)


class UnlabeledVideoList(_ListDataset):
    """Videos without labels, one path per line (self-supervised pre-training, e.g. VideoMAE's):
    the first column is the path; any later ones (a labeled list's labels) are ignored, so that a
    labeled list can be reused as it is. Every record's label is None."""

    default_decoder = "pyav"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = ""):
        super().__init__(ann_file, root, pipeline)

    def _record(self, number: int, fields: list[str]) -> ClipRecord:
        return ClipRecord(self._path(fields[0]), None, ann_file=self.ann_file, line=number)


class RawframeList(_ListDataset):
    """MMAction2's raw-frame list: ``frame_dir TOTAL_FRAMES LABEL`` (``with_offset``: ``dir OFFSET TOTAL LABEL``).

    The frame file template and start index are the decoder's (``data.decoder = {type =
    "frame_folder", filename_tmpl = "img_{:05d}.jpg", start_index = 1}``), chosen in one place.
    """

    default_decoder = "frame_folder"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = "",
                 multi_class: bool = False, with_offset: bool = False):
        self.multi_class = multi_class
        self.with_offset = with_offset
        super().__init__(ann_file, root, pipeline)

    def _record(self, number: int, fields: list[str]) -> ClipRecord:
        counts = 2 if self.with_offset else 1
        if len(fields) < 2 + counts:
            layout = "dir OFFSET TOTAL_FRAMES LABEL" if self.with_offset else "dir TOTAL_FRAMES LABEL"
            raise DataError(f"{self.ann_file}:{number}: expected '{layout}', got {' '.join(fields)!r}",
                            path=self.ann_file, line=number)
        numbers = _ints(self.ann_file, number, fields[1:1 + counts], "offset and frame count")
        offset, total = (numbers if self.with_offset else [0, numbers[0]])
        if total <= 0:
            raise DataError(f"{self.ann_file}:{number}: frame count must be positive, got {total}",
                            path=self.ann_file, line=number)
        return ClipRecord(self._path(fields[0]),
                          _labels(self.ann_file, number, fields[1 + counts:], self.multi_class),
                          num_frames=total, frame_offset=offset, ann_file=self.ann_file, line=number)


class CmrList(_ListDataset):
    """The X-Temporal/CMR three-column list: ``path TOTAL_FRAMES LABEL``; path is a video or a frame folder."""

    default_decoder = "auto"

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = ""):
        super().__init__(ann_file, root, pipeline)

    def _record(self, number: int, fields: list[str]) -> ClipRecord:
        if len(fields) != 3:
            raise DataError(f"{self.ann_file}:{number}: expected 'path TOTAL_FRAMES LABEL', "
                            f"got {' '.join(fields)!r}", path=self.ann_file, line=number)
        (total,) = _ints(self.ann_file, number, fields[1:2], "frame count")
        return ClipRecord(self._path(fields[0]), _labels(self.ann_file, number, fields[2:], False),
                          num_frames=total if total > 0 else None, ann_file=self.ann_file, line=number)
