"""Checkpoints: atomic, versioned, self-describing files that hold tensors and plain data only.

A checkpoint is a dict saved with ``torch.save`` and read with ``torch.load(weights_only=True)``,
so loading one never runs code. It records what made it (actioncore and plugin versions, the
resolved experiment as TOML) and everything needed to continue a run exactly: model,
optimizer and scaler state, the RNG states, epoch, iteration and position inside the epoch.
"""
from __future__ import annotations

import contextlib
import os
import random
import shutil
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, StorageError
from ..weights.safe_load import safe_load

FORMAT = "actioncore-checkpoint"
FORMAT_VERSION = 1


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically: a reader sees the old file or the whole new one."""
    path = Path(path)
    # torch.save reports a failed write as a RuntimeError from its C++ zip writer
    with atomic_path(path, what="the checkpoint", kept="; the previous checkpoints are intact",
                     write_errors=(OSError, RuntimeError)) as tmp:
        with open(tmp, "wb") as f:
            torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **state}, f)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, what: str = "the file", kept: str = "",
                write_errors: tuple[type[BaseException], ...] = (OSError,)) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to; renamed to ``path`` when the block ends
    without an error, removed when it raises, so ``path`` is either the old file or the whole new
    one (a kill leaves only a ``.NAME.PID.tmp`` file, see :func:`remove_partial`).

    A refused write (``write_errors``: full disk, no permission) becomes a :class:`StorageError`
    naming ``path``, ``what`` was written and the reason, followed by ``kept``.
    """
    path = Path(path)
    tmp = path.with_name(f"{PARTIAL_PREFIX}{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        with open(tmp, "rb+") as f:  # writers that take a path (torch.jit.save, onnx) do not sync
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except write_errors as exc:
        raise StorageError(f"{path}: cannot write {what}: {write_failure(exc, path.parent)}{kept}") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


PARTIAL_PREFIX = "."
"""Checkpoints are written to ``.NAME.PID.tmp`` and renamed; a kill leaves such a file behind."""


def write_failure(exc: BaseException, folder: Path) -> str:
    """Why a write into ``folder`` failed, in words: the OS reason, or the free space when the
    writer (torch's zip writer) hides it."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if free is not None and free < 64 * 2**20:
        return f"no space left on the device ({free / 2**20:.1f} MiB free)"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def remove_partial(folder: Path) -> list[Path]:
    """Delete checkpoint files a killed write left half-written in ``folder``; returns them."""
    removed = []
    for leftover in folder.glob(f"{PARTIAL_PREFIX}*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed.append(leftover)
    return removed


def link_checkpoint(source: Path, alias: Path) -> Path:
    """Point ``alias`` (``latest.pth``, ``best.pth``) at ``source`` atomically, without copying."""
    tmp = alias.with_name(f"{PARTIAL_PREFIX}{alias.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, alias)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise StorageError(f"{alias}: cannot point it at {source.name}: {write_failure(exc, alias.parent)}") from exc
    _fsync_dir(alias.parent)
    return alias


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint (ours, or any plain state dict) safely; errors name the file."""
    path = Path(path)
    state = safe_load(path)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a dict of tensors, got {type(state).__name__}")
    if state.get("format") == FORMAT and state.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {state['format_version']} is newer than this "
                              f"actioncore reads ({FORMAT_VERSION}); upgrade actioncore")
    return state


def model_weights(state: Mapping[str, Any], path: str | os.PathLike[str] = "<checkpoint>") -> dict[str, torch.Tensor]:
    """The model's state dict from one of our checkpoints or from a bare state dict."""
    if state.get("format") == FORMAT:
        return dict(state["model"])
    for key in ("state_dict", "model"):
        if isinstance(state.get(key), Mapping):
            return dict(state[key])
    if all(isinstance(v, torch.Tensor) for v in state.values()):
        return dict(state)
    raise CheckpointError(f"{path}: no model weights found (keys: {', '.join(list(state)[:8])})")


_EPOCH_FILE = re.compile(r"epoch_(\d+)\.pth")


def prune_epochs(folder: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` ``epoch_N.pth`` files (aliases keep their data)."""
    if keep <= 0:
        return
    epochs = sorted((int(m.group(1)), p) for p in folder.glob("epoch_*.pth")
                    if (m := _EPOCH_FILE.fullmatch(p.name)))
    for _, path in epochs[:-keep]:
        path.unlink(missing_ok=True)
