"""The one door through which a pickle file is ever loaded, and only when the user says so.

MMAction2 ships pose annotations and AVA person proposals as pickles, video-data-aug its detections
and image scores as pickled ``.npy`` dicts. Unpickling runs whatever code the file names, so actioncore loads them only in an explicit, one-time conversion
(``actioncore data convert NAME IN OUT --trust-pickle``) into safe formats.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

PICKLE_SUFFIXES = (".pkl", ".pickle", ".pk")


def load_trusted_pickle(path: str | Path, *, trust: bool, what: str = "annotation file") -> Any:
    """Unpickle ``path`` if ``trust`` is true; otherwise refuse with a :class:`DataError`.

    Missing, unreadable and truncated files raise :class:`DataError` naming the file as well.
    """
    path = _trusted(path, trust=trust, what=what)
    try:
        with path.open("rb") as f:
            return pickle.load(f)  # noqa: S301 - the user vouched for this file with --trust-pickle
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, ValueError) as e:
        raise DataError(f"{path}: not a readable pickle ({what}): {type(e).__name__}: {e}") from e


def load_trusted_npy(path: str | Path, *, trust: bool, what: str = "annotation file") -> Any:
    """``np.load(path, allow_pickle=True)`` if ``trust`` is true; otherwise refuse, as
    :func:`load_trusted_pickle` does.

    video-data-aug ships its detections and image scores as ``.npy`` files holding one pickled
    dict; such a 0-d object array is returned as the object itself (the original's ``.item()``).
    """
    path = _trusted(path, trust=trust, what=what)
    try:
        data = np.load(path, allow_pickle=True)  # the user vouched for this file with --trust-pickle
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, ValueError, OSError) as e:
        raise DataError(f"{path}: not a readable .npy file ({what}): {type(e).__name__}: {e}") from e
    if isinstance(data, np.ndarray) and data.dtype == object and data.ndim == 0:
        return data.item()
    return data


def _trusted(path: str | Path, *, trust: bool, what: str) -> Path:
    """``path`` if the user trusts it and it exists; a :class:`DataError` otherwise, before any read."""
    path = Path(path)
    if not trust:
        raise DataError(
            f"{path}: refusing to load a pickle ({what}); unpickling can run arbitrary code. "
            "If you trust where the file came from, convert it once with --trust-pickle; "
            "actioncore then reads only the safe converted files.")
    if not path.is_file():
        raise DataError(f"{path}: no such file ({what})")
    return path
