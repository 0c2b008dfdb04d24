"""Build helpers of the plugin API that need the process-wide plugin host."""
from __future__ import annotations

import logging
from typing import Any

from ..config.build import instantiate
from ..config import structure
from ..plugin.host import current_host
from ..runlog import LOGGER_NAME


def build_spec(spec: Any, path: str = "") -> Any:
    """Build a parsed component spec (or a list/dict of them, e.g. a pipeline) with the
    installed plugins; ``path`` is the key path errors name (``data.test.pipeline``)."""
    return instantiate(spec, current_host().registry, path)


def component_spec(table: Any, kind: str, path: str = "") -> Any:
    """Parse a component table (or a bare name) of ``kind`` against the installed plugins, as
    the experiment loader does; problems raise one ConfigError naming ``path``."""
    return structure.component_spec(current_host().registry, table, kind, path)


def get_logger() -> logging.Logger:
    """The run's logger: what a task logs here goes to the console and ``WORK_DIR/run.log``."""
    return logging.getLogger(LOGGER_NAME)
