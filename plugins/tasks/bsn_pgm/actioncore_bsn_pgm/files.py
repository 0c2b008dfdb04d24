"""The files that carry BSN between its stages, in MMAction2's layouts (so either side can read
the other's): TEM results (one CSV a video: ``action,start,end,tmin,tmax``), PGM proposals (one
CSV a video: ``tmin,tmax,tmin_score,tmax_score,score,match_iou,match_ioa``, best first) and BSP
features (one ``.npy`` a video, a row per proposal in the same order)."""
from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np

from actioncore.sdk import DataError

TEM_COLUMNS = ("action", "start", "end", "tmin", "tmax")
PROPOSAL_COLUMNS = ("tmin", "tmax", "tmin_score", "tmax_score", "score", "match_iou", "match_ioa")
PROPOSALS_DIR = "pgm_proposals"
FEATURES_DIR = "pgm_features"


def _read_table(path: Path, columns: tuple[str, ...], what: str) -> np.ndarray:
    """A float table with exactly ``columns`` named in its header line; ``[rows, columns]``."""
    try:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().strip()
            table = np.loadtxt(handle, dtype=np.float64, delimiter=",", ndmin=2)
    except FileNotFoundError:
        raise DataError(f"{path}: {what} file not found", path=str(path)) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the {what} file: {exc}", path=str(path)) from None
    found = tuple(name.strip() for name in header.split(","))
    if found != columns:
        raise DataError(f"{path}: the {what} header is {','.join(found)!r}, expected {','.join(columns)!r}",
                        path=str(path))
    if table.size == 0:
        table = table.reshape(0, len(columns))
    if table.shape[1] != len(columns) or not np.isfinite(table).all():
        raise DataError(f"{path}: {what} rows must be {len(columns)} finite numbers", path=str(path))
    return table


def _write_table(path: Path, table: np.ndarray, columns: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, table, delimiter=",", header=",".join(columns), comments="")


@attrs.frozen
class TEMResult:
    """One video's TEM output: probabilities per location and each location's normalised bounds."""

    action: np.ndarray
    start: np.ndarray
    end: np.ndarray
    tmin: np.ndarray
    tmax: np.ndarray


def read_tem_result(path: str | Path) -> TEMResult:
    table = _read_table(Path(path), TEM_COLUMNS, "TEM result")
    if len(table) < 2:
        raise DataError(f"{path}: a TEM result needs at least 2 locations, found {len(table)}", path=str(path))
    return TEMResult(*(table[:, i] for i in range(len(TEM_COLUMNS))))


@attrs.frozen
class ProposalTable:
    """One video's PGM proposals, best first, with their best IoU/IoA against the ground truth."""

    tmin: np.ndarray
    tmax: np.ndarray
    tmin_score: np.ndarray
    tmax_score: np.ndarray
    score: np.ndarray
    match_iou: np.ndarray
    match_ioa: np.ndarray

    def __len__(self) -> int:
        return len(self.tmin)

    def as_array(self) -> np.ndarray:
        return np.stack([getattr(self, name) for name in PROPOSAL_COLUMNS], axis=1)


def write_proposals(path: str | Path, proposals: ProposalTable) -> None:
    _write_table(Path(path), proposals.as_array(), PROPOSAL_COLUMNS)


def read_proposals(path: str | Path, top_k: int | None = None) -> ProposalTable:
    table = _read_table(Path(path), PROPOSAL_COLUMNS, "PGM proposal")[:top_k]
    return ProposalTable(*(table[:, i] for i in range(len(PROPOSAL_COLUMNS))))


def write_bsp_features(path: str | Path, features: np.ndarray) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(features, dtype=np.float32))


def read_bsp_features(path: str | Path, top_k: int | None = None) -> np.ndarray:
    path = Path(path)
    try:
        features = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: BSP feature file not found", path=str(path)) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the BSP feature file: {exc}", path=str(path)) from None
    if features.ndim != 2:
        raise DataError(f"{path}: BSP features must be [proposals, dims], got shape {list(features.shape)}",
                        path=str(path))
    return features[:top_k].astype(np.float32)
