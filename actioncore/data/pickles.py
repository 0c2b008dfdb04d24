"""The one door through which a pickle file is ever loaded, and only when the user says so.

MMAction2 ships pose annotations and AVA person proposals as pickles. Unpickling runs whatever
code the file names, so actioncore loads them only in an explicit, one-time conversion
(``actioncore data convert NAME IN OUT --trust-pickle``) into safe formats.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from ..errors import DataError

PICKLE_SUFFIXES = (".pkl", ".pickle", ".pk")


def _vouched(path: Path, trust: bool, what: str) -> None:
    if not trust:
        raise DataError(
            f"{path}: refusing to load a pickle ({what}); unpickling can run arbitrary code. "
            "If you trust where the file came from, convert it once with --trust-pickle; "
            "actioncore then reads only the safe converted files.")
    if not path.is_file():
        raise DataError(f"{path}: no such file ({what})")


def load_trusted_pickle(path: str | Path, *, trust: bool, what: str = "annotation file") -> Any:
    """Unpickle ``path`` if ``trust`` is true; otherwise refuse with a :class:`DataError`.

    Missing, unreadable and truncated files raise :class:`DataError` naming the file as well.
    """
    path = Path(path)
    _vouched(path, trust, what)
    try:
        with path.open("rb") as f:
            return pickle.load(f)  # noqa: S301 - the user vouched for this file with --trust-pickle
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, ValueError) as e:
        raise DataError(f"{path}: not a readable pickle ({what}): {type(e).__name__}: {e}") from e


def load_trusted_npy_object(path: str | Path, *, trust: bool, what: str = "annotation file") -> Any:
    """The Python object pickled in a ``.npy`` file (``np.save`` of a dict, as video-data-aug's
    ``detections.npy``), loaded with ``allow_pickle`` only if ``trust`` is true.

    Refuses like :func:`load_trusted_pickle`; a file that is not such an ``.npy`` raises
    :class:`DataError` naming it.
    """
    import numpy as np

    path = Path(path)
    _vouched(path, trust, what)
    try:
        array = np.load(path, allow_pickle=True)  # noqa: S301 - the user vouched with --trust-pickle
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as e:
        raise DataError(f"{path}: not a readable .npy file ({what}): {type(e).__name__}: {e}") from e
    if not isinstance(array, np.ndarray) or array.dtype != object or array.shape != ():
        raise DataError(f"{path}: expected a .npy holding one pickled object ({what}), got an array of "
                        f"{getattr(array, 'dtype', type(array).__name__)} {getattr(array, 'shape', '')}")
    return array.item()
