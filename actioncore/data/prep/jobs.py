"""Finding the videos of a source and running one job per video, in parallel, failures collected.

A broken video must not stop the others (a data set of 300k clips always has some): each job
returns its result or raises; :func:`run_jobs` records the error by the video's name and goes on.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import attrs
from tqdm import tqdm

from ..list_lines import VIDEO_SUFFIXES
from ...errors import DataError


@attrs.frozen
class VideoJob:
    """One video of a source and the name its output takes (its path under the source, no suffix)."""

    source: Path
    name: str


@attrs.frozen
class JobReport:
    """What a batch of jobs did: results by video name, and the failures with their reasons."""

    done: dict[str, Any]
    failed: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"done": self.done, "failed": self.failed}


def find_videos(source: str | os.PathLike[str], *, suffixes: Iterable[str] = VIDEO_SUFFIXES) -> list[VideoJob]:
    """``source`` itself when it is a file, else every video under it (recursively), sorted.

    A video's name is its path under ``source`` without the suffix (``class/video`` for a
    ``class/video.mp4`` tree, as MMAction2's ``--level 2``): names stay unique across folders.
    """
    root = Path(source)
    if root.is_file():
        return [VideoJob(root, root.stem)]
    if not root.is_dir():
        raise DataError(f"{root}: no such video or folder", path=str(root))
    wanted = {s.lower() for s in suffixes}
    jobs = [VideoJob(p, p.relative_to(root).with_suffix("").as_posix())
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix.lower() in wanted]
    if not jobs:
        raise DataError(f"{root}: no video files in this folder (suffixes {', '.join(sorted(wanted))})",
                        path=str(root))
    return jobs


def run_jobs(function: Callable[..., Any], jobs: Sequence[VideoJob], *, workers: int, progress: bool = True,
             what: str = "video", **options: Any) -> JobReport:
    """``function(job, **options)`` for every job; ``workers`` > 1 runs them in that many processes.

    An exception of a job is its failure (``"ErrorType: message"``), reported by name; the
    other jobs run on. ``function`` must be a module-level function (it is pickled to workers).
    """
    done: dict[str, Any] = {}
    failed: dict[str, str] = {}
    bar = tqdm(total=len(jobs), unit=what, file=sys.stderr, disable=not progress or None, leave=False)

    def record(job: VideoJob, call: Callable[[], Any]) -> None:
        try:
            done[job.name] = call()
        except Exception as exc:  # a broken video is reported, never fatal to the batch
            failed[job.name] = f"{type(exc).__name__}: {exc}"
        bar.update()

    if workers <= 1:
        for job in jobs:
            record(job, lambda job=job: function(job, **options))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(function, job, **options): job for job in jobs}
            for future in as_completed(futures):
                record(futures[future], future.result)
    bar.close()
    return JobReport(dict(sorted(done.items())), dict(sorted(failed.items())))
