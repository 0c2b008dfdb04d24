"""What the kernel remembers about each plugin: where it came from and how loading went."""
from __future__ import annotations

import attrs


@attrs.frozen
class PluginFailure:
    """A plugin that failed to import, to register, or whose registration hook raised."""

    distribution: str
    version: str
    entry_point: str
    """``name = module`` as written in the distribution's metadata, or the module registered."""
    stage: str
    """``import``, ``register``, ``hook actioncore_backbones``, ``conflict``, ..."""
    error: str
    """``ExceptionType: message``, one line."""
    traceback: str = ""
    kind: str | None = None
    """The component kind affected, when the failure touches one kind only."""

    def describe(self) -> str:
        return (f"{self.distribution} {self.version} (entry point {self.entry_point}) "
                f"failed at {self.stage}: {self.error}")


@attrs.define
class PluginRecord:
    """One registered plugin module and the components it contributed."""

    name: str
    distribution: str
    version: str
    entry_point: str
    module: str
    status: str = "loaded"
    """``loaded``, ``failed`` (nothing registered) or ``partial`` (a hook failed)."""
    components: dict[str, list[str]] = attrs.field(factory=dict)
