"""MMAction2 annotation lists read line by line, for the data tools (``data split``, ``data image-scores``).

Training reads lists through the dataset plugins (``video_list``, ``rawframe_list``). The kernel's
tools need less from a line, and one thing more: its path, frame count and single label, and the
line itself verbatim, so that a tool can write lines back exactly as they were.

| format | line |
| --- | --- |
| ``video`` | ``relative/path.mp4 LABEL`` |
| ``rawframes`` | ``relative/dir TOTAL_FRAMES LABEL`` (``with_offset``: ``relative/dir OFFSET TOTAL_FRAMES LABEL``) |

``auto`` takes ``video`` when the first line's path ends in a video file suffix, else
``rawframes``. Blank lines and lines starting with ``#`` are skipped, as the datasets skip them.
Multi-label lines are refused: their label is no class to group or score by.
"""
from __future__ import annotations

import os
from pathlib import Path

import attrs

from ..errors import DataError

FORMATS = ("auto", "video", "rawframes")
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv",
                            ".wmv", ".3gp", ".ogv", ".ts"})


@attrs.frozen
class ListLine:
    """One sample line: ``text`` is the line as written (without its line break)."""

    number: int
    text: str
    path: str
    label: int
    num_frames: int | None = None


@attrs.frozen
class AnnotationList:
    """The sample lines of one list file and the format they were read in."""

    file: str
    format: str
    lines: tuple[ListLine, ...]


def detect_format(first_path: str) -> str:
    """``video`` for a path with a video file suffix, else ``rawframes`` (a frame folder)."""
    return "video" if os.path.splitext(first_path)[1].lower() in VIDEO_SUFFIXES else "rawframes"


def read_list(file: str | os.PathLike[str], *, format: str = "auto", with_offset: bool = False) -> AnnotationList:
    """Every sample line of ``file``; a malformed line raises :class:`DataError` naming ``file:line``."""
    file = os.fspath(file)
    if format not in FORMATS:
        raise DataError(f"unknown list format {format!r}; formats are {', '.join(FORMATS)}")
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{file}: annotation file not found", path=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: cannot read the annotation file: {exc}", path=file) from None
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        if format == "auto":
            format = detect_format(fields[0])
        lines.append(_parse(file, number, raw, fields, format, with_offset))
    if not lines:
        raise DataError(f"{file}: the annotation file lists no samples", path=file)
    return AnnotationList(file, format, tuple(lines))  # a line was read: format is resolved


def _parse(file: str, number: int, raw: str, fields: list[str], format: str, with_offset: bool) -> ListLine:
    where = f"{file}:{number}"
    counts = 0 if format == "video" else (2 if with_offset else 1)
    layout = {"video": "path LABEL", "rawframes": "dir TOTAL_FRAMES LABEL"}[format]
    if format == "rawframes" and with_offset:
        layout = "dir OFFSET TOTAL_FRAMES LABEL"
    expected = 2 + counts
    if len(fields) < expected:
        raise DataError(f"{where}: no label: expected '{layout}' ({format} list), got {raw.strip()!r}",
                        path=file, line=number)
    if len(fields) > expected:
        hint = (" (a raw-frame list with offsets? pass --with-offset)"
                if format == "rawframes" and not with_offset and len(fields) == expected + 1 else "")
        raise DataError(f"{where}: {len(fields) - expected + 1} labels: a multi-label line has no single class "
                        f"to split or score by; expected '{layout}' ({format} list){hint}",
                        path=file, line=number)
    try:
        numbers = [int(v) for v in fields[1:]]
    except ValueError:
        raise DataError(f"{where}: expected '{layout}' with integer {'counts and ' if counts else ''}label, "
                        f"got {raw.strip()!r}", path=file, line=number) from None
    label, total = numbers[-1], (numbers[-2] if counts else None)
    if label < 0:
        raise DataError(f"{where}: negative label {label}", path=file, line=number)
    if total is not None and total <= 0:
        raise DataError(f"{where}: frame count must be positive, got {total}", path=file, line=number)
    return ListLine(number, raw.rstrip("\r\n"), fields[0], label, total)
