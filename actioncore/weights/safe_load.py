"""``torch.load`` for files a user hands in: weights only, and errors that say what the file is.

Every checkpoint and weights file is read here (our checkpoints, MMAction2's, torchvision's). A
file that is neither of PyTorch's two formats (a zip archive, or a legacy pickle stream) is "not
a checkpoint" before torch sees it; a damaged archive is "damaged"; a file that holds pickled
objects besides tensors and plain data is refused, naming the first such object. PyTorch's own
advice to retry with ``weights_only=False`` is never passed on: that would run the file's code.
"""
from __future__ import annotations

import os
import pickle
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError

_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOL = 0x80


def _kind(head: bytes) -> str | None:
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head[:1] == bytes([_PICKLE_PROTOCOL]) and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    return None


def _first_line(exc: BaseException) -> str:
    """The first sentence of an exception's message (PyTorch's go on with advice)."""
    text = str(exc).strip()
    return text.splitlines()[0].split(". ")[0].rstrip(".") if text else type(exc).__name__


def safe_load(path: str | os.PathLike[str], *, allowed: Iterable[Any] = ()) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)``, with ``allowed`` globals
    besides PyTorch's own; any problem is one :class:`CheckpointError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror or exc}") from None
    kind = _kind(head)
    if kind is None:
        raise CheckpointError(f"{path}: not a checkpoint: neither a PyTorch zip archive nor a pickle stream "
                              f"({path.stat().st_size} bytes{', empty' if not head else ''})")
    try:
        with torch.serialization.safe_globals(list(allowed)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        unsupported = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if unsupported:
            raise CheckpointError(f"{path}: refused to load: it holds pickled objects besides tensors and plain "
                                  f"data (the first: {unsupported.group(1)}); it could run code when unpickled"
                                  ) from None
        raise CheckpointError(f"{path}: not a checkpoint: a damaged or foreign {kind} file "
                              f"({_first_line(exc)})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError, IndexError,
            TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint: a truncated or damaged {kind} file "
                              f"({_first_line(exc)})") from None
