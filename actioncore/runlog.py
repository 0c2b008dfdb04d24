"""The run log: ``WORK_DIR/run.log`` plus the console, opened with the list of loaded plugins."""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from .plugin.host import PluginHost

LOGGER_NAME = "actioncore"


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
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if main_process:
        work_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(work_dir / "run.log", encoding="utf-8"))
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
