"""What every embedded data set shares: the report it returns and the rules for its output folder.

Plugins reach these through :mod:`actioncore.sdk.data`.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from actioncore.errors import DataError

MARKER = "actioncore synthetic data set"
"""First line of the README.txt every kind writes; a folder that has it may be regenerated."""


@attrs.frozen
class SynthReport:
    """What a generator wrote. Paths in annotation files are relative to ``data_prefix``."""

    kind: str
    root: Path
    seed: int
    classes: tuple[str, ...]
    """Line ``i`` of ``classes.txt``: the name of label ``i``."""
    motion_only: tuple[str, ...]
    """Classes that no single frame tells apart from their time-reversed partner."""
    num_samples: Mapping[str, int]
    """Samples per split."""
    data_prefix: Path
    """The folder a config's ``root`` points to."""
    ann_files: Mapping[str, Path]
    """Annotation list per split."""
    files: tuple[Path, ...]
    """Every file written, relative to ``root``."""

    def as_dict(self, *, files: bool = False) -> dict[str, Any]:
        """JSON-ready summary; the (long) file list only when asked."""
        out: dict[str, Any] = {
            "kind": self.kind, "root": str(self.root), "seed": self.seed, "classes": list(self.classes),
            "motion_only": list(self.motion_only), "num_samples": dict(self.num_samples),
            "data_prefix": str(self.data_prefix),
            "ann_files": {k: str(v) for k, v in self.ann_files.items()}, "num_files": len(self.files),
        }
        if files:
            out["files"] = [str(f) for f in self.files]
        return out


def prepare_out(out: Path, owned: Iterable[str]) -> None:
    """Make ``out`` ready: create it, or clear the ``owned`` entries of an earlier synthetic set.

    A non-empty folder without our README marker is refused rather than mixed into, so that a
    mistyped ``--out`` never deletes or pollutes someone's data.
    """
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} exists and is not a folder", path=str(out))
    if out.is_dir() and any(out.iterdir()):
        readme = out / "README.txt"
        if not (readme.is_file() and readme.read_text(errors="replace").startswith(MARKER)):
            raise DataError(f"{out} is not empty and holds no synthetic data set; choose an empty or new "
                            "folder", path=str(out))
        for name in owned:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def check_seed(seed: int) -> int:
    """``seed`` if it is a non-negative int, else a :class:`DataError` (a bad ``--seed`` is a user mistake)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}")
    return seed
