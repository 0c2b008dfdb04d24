"""The run log: ``WORK_DIR/run.log`` plus the console, opened with the list of loaded plugins."""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from .errors import ActionCoreError, StorageError
from .plugin.host import PluginHost
from .progress import BarSafeHandler

LOGGER_NAME = "actioncore"
FILE_ONLY = "actioncore_file_only"
"""Set on a log record (``extra={FILE_ONLY: True}``) that belongs in run.log but not on the
console, such as the cause of a failure the command line prints itself."""


def prepare_work_dir(work_dir: Path) -> None:
    """Create the work dir, or say in one line why it cannot be used (exit status 1)."""
    if work_dir.exists() and not work_dir.is_dir():
        raise StorageError(f"runtime.work_dir {work_dir}: exists and is not a directory")
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"runtime.work_dir {work_dir}: cannot create it: {exc.strerror or exc}") from None
    if not os.access(work_dir, os.W_OK | os.X_OK):
        raise StorageError(f"runtime.work_dir {work_dir}: not writable by this user")


def write_work_file(path: Path, text: str) -> None:
    """Write a small file of the work dir (``experiment.toml``), a failure being one line."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def record_failure(logger: logging.Logger, exc: BaseException) -> None:
    """Write why a run stopped into run.log (the console gets it from the command line):
    the message for a user or system error, the whole traceback for anything else."""
    if isinstance(exc, KeyboardInterrupt):
        logger.error("run interrupted", extra={FILE_ONLY: True})
    elif isinstance(exc, ActionCoreError):
        logger.error("run stopped: %s: %s", type(exc).__name__, exc, extra={FILE_ONLY: True})
    else:
        logger.error("run stopped by an unexpected error", exc_info=exc, extra={FILE_ONLY: True})


@contextlib.contextmanager
def run_log(work_dir: Path, host: PluginHost, *, main_process: bool = True) -> Iterator[logging.Logger]:
    """Log to the console and, on the main process, to ``work_dir/run.log``; first line: plugins."""
    logger = logging.getLogger(LOGGER_NAME)
    if getattr(logger, "_actioncore_run", False):  # nested (api.run around Trainer.fit): one log
        yield logger
        return
    logger._actioncore_run = True
    logger.setLevel(logging.INFO)
    logger.propagate = False
    console = BarSafeHandler(sys.stderr)  # log lines print above an open progress bar
    console.addFilter(lambda record: not getattr(record, FILE_ONLY, False))
    handlers: list[logging.Handler] = [console]
    if main_process:
        prepare_work_dir(work_dir)
        try:
            handlers.append(logging.FileHandler(work_dir / "run.log", encoding="utf-8"))
        except OSError as exc:
            raise StorageError(f"{work_dir / 'run.log'}: cannot write the run log: {exc.strerror or exc}") from None
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    try:
        logger.info(host.banner())
        yield logger
    finally:
        logger._actioncore_run = False
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
