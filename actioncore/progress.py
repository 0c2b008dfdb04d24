"""Progress bars (tqdm) on a terminal; the plain log lines everywhere else.

A bar is drawn only when stderr is a terminal, so CI logs, ``2> file`` and pipes keep exactly
the lines they had. ``--no-progress`` (any command) or ``ACTIONCORE_NO_PROGRESS=1`` forces the
plain lines on a terminal too. Log records reach the console through :class:`BarSafeHandler`,
which writes with ``tqdm.write``: an open bar is cleared, the line printed, the bar redrawn below
it, so bars and log lines never tear each other.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

ENV_NO_PROGRESS = "ACTIONCORE_NO_PROGRESS"
"""Set to anything but ``""`` or ``"0"`` to turn bars off (as ``--no-progress`` does)."""

_plain = False


def progress_enabled(stream: IO[str] | None = None) -> bool:
    """Whether to draw bars on ``stream`` (default: the current ``sys.stderr``)."""
    if _plain or os.environ.get(ENV_NO_PROGRESS, "") not in ("", "0"):
        return False
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # a closed stream
        return False


@contextlib.contextmanager
def plain_output(plain: bool = True) -> Iterator[None]:
    """Inside the block, no bars when ``plain`` (the command line's ``--no-progress``)."""
    global _plain
    previous, _plain = _plain, plain or _plain
    try:
        yield
    finally:
        _plain = previous


def progress_bar(*, total: int | None, desc: str, unit: str = "it", initial: int = 0,
                 enabled: bool = True, leave: bool = False) -> tqdm:
    """A bar on stderr, or a disabled one (every call a no-op) off a terminal or when not
    ``enabled`` (e.g. on a rank other than 0)."""
    from tqdm import tqdm  # here: the command line's parsing stays import-light

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr, leave=leave,
                dynamic_ncols=True, disable=not (enabled and progress_enabled()))


def set_postfix(bar: tqdm, **values: Any) -> None:
    """Update the bar's ``key=value`` tail without redrawing twice (a no-op when disabled)."""
    if not bar.disable:
        bar.set_postfix(values, refresh=False)


class BarSafeHandler(logging.StreamHandler):
    """A console handler that writes through ``tqdm.write`` so that open bars stay intact.

    With no bar open ``tqdm.write`` is a plain write of the line and a newline: the output is
    byte for byte that of :class:`logging.StreamHandler`.
    """

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except Exception:
            self.handleError(record)


__all__ = ["ENV_NO_PROGRESS", "BarSafeHandler", "plain_output", "progress_bar", "progress_enabled", "set_postfix"]
