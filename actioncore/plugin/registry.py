"""Registered components, one flat name space per kind, each name attributed to its distribution."""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, Callable

import attrs

from ..errors import PluginError
from ..hookspecs import KINDS
from .manifests import provider_of
from .records import PluginFailure


@attrs.frozen
class Component:
    """A name in a kind, the factory behind it and the distribution that registered it."""

    kind: str
    name: str
    factory: Callable[..., Any]
    distribution: str
    version: str
    entry_point: str

    @property
    def qualname(self) -> str:
        f = self.factory
        return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"


class ComponentRegistry:
    """Every usable component plus what went wrong while collecting them.

    Built by :class:`actioncore.plugin.host.PluginHost`; read-only afterwards. A name that two
    distributions register is kept out of the usable set: building it fails naming both.
    """

    def __init__(self, failures: Iterable[PluginFailure] = ()):
        self._components: dict[str, dict[str, Component]] = {kind: {} for kind in KINDS}
        self._conflicts: dict[tuple[str, str], list[Component]] = {}
        self.failures: list[PluginFailure] = list(failures)

    def add(self, component: Component) -> PluginFailure | None:
        """Add a component; returns the failure to record when its name is already taken."""
        key = (component.kind, component.name)
        if key in self._conflicts:
            self._conflicts[key].append(component)
            return self._conflict_failure(component, self._conflicts[key][0])
        taken = self._components[component.kind].get(component.name)
        if taken is None:
            self._components[component.kind][component.name] = component
            return None
        if taken.distribution == component.distribution and taken.factory is component.factory:
            return None
        del self._components[component.kind][component.name]
        self._conflicts[key] = [taken, component]
        return self._conflict_failure(component, taken)

    @staticmethod
    def _conflict_failure(component: Component, taken: Component) -> PluginFailure:
        return PluginFailure(
            distribution=component.distribution, version=component.version,
            entry_point=component.entry_point, stage="conflict", kind=component.kind,
            error=(f"{component.kind} '{component.name}' is registered by both "
                   f"{taken.distribution} ({taken.qualname}) and "
                   f"{component.distribution} ({component.qualname})"))

    def names(self, kind: str) -> list[str]:
        return sorted(self._components[_check_kind(kind)])

    def items(self, kind: str | None = None) -> list[Component]:
        kinds = KINDS if kind is None else (_check_kind(kind),)
        return [self._components[k][n] for k in kinds for n in sorted(self._components[k])]

    def __contains__(self, key: tuple[str, str]) -> bool:
        kind, name = key
        return name in self._components.get(kind, {})

    def get(self, kind: str, name: str) -> Component:
        """The component, or a :class:`PluginError` saying why not and what would help."""
        found = self._components[_check_kind(kind)].get(name)
        if found is not None:
            return found
        conflict = self._conflicts.get((kind, name))
        if conflict:
            owners = " and ".join(f"{c.distribution} {c.version}" for c in conflict)
            raise PluginError(
                f"{kind} '{name}' is registered by more than one distribution: {owners}. "
                "Uninstall one of them, or disable one with "
                "ACTIONCORE_DISABLED_PLUGINS=<distribution>.")
        raise PluginError(self._unknown_message(kind, name))

    def _unknown_message(self, kind: str, name: str) -> str:
        available = self.names(kind)
        parts = [f"unknown {kind} '{name}'."]
        close = difflib.get_close_matches(name, available, n=3, cutoff=0.6)
        if close:
            parts.append("Did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
        parts.append(f"Available {kind}s: " + (", ".join(available) if available else "none") + ".")
        provider = provider_of(kind, name)
        relevant = [f for f in self.failures if f.stage != "conflict" and f.kind in (None, kind)]
        failed_provider = [f for f in relevant if provider and f.distribution == provider.distribution]
        if failed_provider:
            parts.append(f"It is provided by {provider.distribution}, which failed to load: "
                         f"{failed_provider[0].error}")
        elif provider and provider.installed:
            parts.append(f"It is provided by {provider.distribution}, which is installed but not loaded "
                         "(is ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD=1 set, or is it listed in "
                         "ACTIONCORE_DISABLED_PLUGINS?).")
        elif provider:
            parts.append(f"It is provided by {provider.distribution}: {provider.install_hint()}.")
        elif relevant:
            parts.append("These plugins failed and may provide it: "
                         + "; ".join(f.describe() for f in relevant) + ".")
        return " ".join(parts)


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise PluginError(f"unknown component kind '{kind}'.{hint} Kinds: {', '.join(KINDS)}.")
    return kind
