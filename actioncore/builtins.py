"""The kernel's own components, registered like any plugin's under the distribution ``actioncore``."""
from __future__ import annotations

from collections.abc import Mapping

from . import hookimpl
from .hookspecs import Factory


@hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    from .compose import Sequential

    return {"sequential": Sequential}
