"""TAG proposal files (MMAction2 0.24's ``SSNDataset`` format), read and validated line by line.

A file is a sequence of video blocks, each introduced by a ``# index`` line::

    # 0
    video_validation_0000202      video id (its frame folder under the data root)
    5666                          number of frames
    1                             frame-rate field (0.24 multiplies it into the frame count)
    3                             number of ground-truth instances, then one line each:
    8 130 185                       class (1-based), start frame, end frame
    ...
    5                             number of proposals, then one line each:
    8 0.0620 0.0620 790 5671        class, best tIoU with the ground truth, overlap-self, start, end

Intervals are ``[start, end)`` in frames. As in 0.24, instances with ``end <= start`` or that
start past the last frame are dropped, and an end past the video is clipped to it. Every other
malformed line raises :class:`~actioncore.sdk.DataError` naming the file and line.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import attrs

from actioncore.sdk import DataError


@attrs.frozen
class Instance:
    """A ground-truth instance or a proposal of one video, in frames, ``[start, end)``."""

    start: int
    end: int
    label: int
    """1-based class; the class of the best-matching ground truth for a proposal (0: none)."""
    best_iou: float = 1.0
    overlap_self: float = 1.0
    """Fraction of the proposal's own span that lies inside a ground-truth instance."""
    file_end: int | None = attrs.field(default=None, eq=False)
    """The end as the file gives it, before clipping to the video (0.24's background coverage
    uses it); None when it was inside the video."""

    @property
    def file_length(self) -> int:
        """The length the file gives (0.24's coverage uses it, not the clipped one)."""
        return (self.end if self.file_end is None else self.file_end) - self.start


@attrs.frozen
class VideoProposals:
    """One block of the file: a video's ground truth and proposals."""

    video_id: str
    num_frames: int
    gts: tuple[Instance, ...]
    proposals: tuple[Instance, ...]
    line: int
    """1-based line of the video id (where errors about the video point)."""


class _Lines:
    """The lines of one file with a cursor; every parse error names the file and line."""

    def __init__(self, path: str, lines: list[str]):
        self.path = path
        self.lines = lines
        self.pos = 0

    def error(self, message: str, line: int | None = None) -> DataError:
        number = self.pos if line is None else line
        return DataError(f"{self.path}:{number}: {message}", path=self.path, line=number)

    def next(self, what: str) -> str:
        if self.pos >= len(self.lines) or self.lines[self.pos].startswith("#"):
            raise self.error(f"the video block ends early: expected {what}", self.pos + 1)
        self.pos += 1
        return self.lines[self.pos - 1].strip()

    def fields(self, what: str, kinds: tuple[Callable[[str], Any], ...]) -> list[Any]:
        text = self.next(what)
        parts = text.split()
        if len(parts) != len(kinds):
            raise self.error(f"expected {what} ({len(kinds)} fields), got {text!r}")
        try:
            return [kind(part) for kind, part in zip(kinds, parts)]
        except ValueError:
            raise self.error(f"expected {what}, got {text!r}") from None


def _count(lines: _Lines, what: str) -> int:
    (value,) = lines.fields(what, (int,))
    if value < 0:
        raise lines.error(f"{what} must be >= 0, got {value}")
    return value


def _fraction(lines: _Lines, value: float, what: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise lines.error(f"{what} must be in [0, 1], got {value}")
    return value


def _parse_video(lines: _Lines) -> VideoProposals | None:
    video_id = lines.next("the video id")
    line = lines.pos
    (frames,) = lines.fields("the number of frames", (float,))
    (rate,) = lines.fields("the frame-rate field", (float,))
    num_frames = int(frames * rate)  # 0.24's load_localize_proposal_file
    if num_frames <= 0:
        raise lines.error(f"video {video_id!r} has {num_frames} frames", line + 1)
    gts = []
    for _ in range(_count(lines, "the number of ground-truth instances")):
        label, start, end = lines.fields("'class start_frame end_frame'", (int, int, int))
        if label < 1:
            raise lines.error(f"ground-truth class must be >= 1 (0 is background), got {label}")
        if end > start and start < num_frames:
            gts.append(Instance(start, min(end, num_frames), label))
    proposals = []
    for _ in range(_count(lines, "the number of proposals")):
        label, iou, overlap, start, end = lines.fields(
            "'class best_iou overlap_self start_frame end_frame'", (int, float, float, int, int))
        if label < 0:
            raise lines.error(f"proposal class must be >= 0, got {label}")
        iou = _fraction(lines, iou, "best_iou")
        overlap = _fraction(lines, overlap, "overlap_self")
        if end > start and start < num_frames:
            proposals.append(Instance(start, min(end, num_frames), label, iou, overlap,
                                      file_end=end if end > num_frames else None))
    if lines.pos < len(lines.lines) and not lines.lines[lines.pos].startswith("#"):
        raise lines.error(f"unexpected line after the proposals of {video_id!r}: "
                          f"{lines.lines[lines.pos].strip()!r}", lines.pos + 1)
    return VideoProposals(video_id, num_frames, tuple(gts), tuple(proposals), line)


def read_proposal_file(path: str | os.PathLike[str]) -> list[VideoProposals]:
    """Every video block of a TAG proposal file, in file order.

    :raises DataError: a missing file, a line outside a ``#`` block, a count that does not match
        the lines after it, a field that is not a number, a fraction outside ``[0, 1]``.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            raw = [line.rstrip("\n") for line in handle]
    except FileNotFoundError:
        raise DataError(f"{path}: proposal file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the proposal file: {exc}", path=path) from None
    while raw and not raw[-1].strip():
        raw.pop()
    lines = _Lines(path, raw)
    videos = []
    while lines.pos < len(raw):
        if not raw[lines.pos].startswith("#"):
            raise lines.error(f"expected a '# index' line starting a video block, got {raw[lines.pos]!r}",
                              lines.pos + 1)
        lines.pos += 1
        videos.append(_parse_video(lines))
    if not videos:
        raise DataError(f"{path}: the proposal file lists no videos", path=path)
    return videos


def format_proposal_file(videos: list[VideoProposals]) -> str:
    """The text of a proposal file holding ``videos`` (what tests and converters write)."""
    out = []
    for index, video in enumerate(videos):
        out += [f"# {index}", video.video_id, str(video.num_frames), "1", str(len(video.gts))]
        out += [f"{g.label} {g.start} {g.end}" for g in video.gts]
        out.append(str(len(video.proposals)))
        out += [f"{p.label} {p.best_iou:.4f} {p.overlap_self:.4f} {p.start} {p.end}" for p in video.proposals]
    return "\n".join(out) + "\n"
