"""The plugin host: pluggy's manager, guarded discovery, and the registry built from both.

Each entry point is loaded and registered in its own ``try``; a plugin that fails is kept as a
:class:`PluginFailure` and never takes the others down. The registry is collected lazily, by
calling each plugin's registration hooks one at a time, so that a hook that raises loses only
its own plugin's components of that kind.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import traceback
from collections.abc import Iterator, Mapping
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from .. import hookspecs
from ..lifecycle import Lifecycle
from ..weights.zoo import registration_problems
from .records import PluginFailure, PluginRecord
from .registry import Component, ComponentRegistry

AUTOLOAD_ENV = "ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD"
DISABLED_ENV = "ACTIONCORE_DISABLED_PLUGINS"
ENTRY_POINT_GROUP = "actioncore"
KERNEL_DISTRIBUTION = "actioncore"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _kernel_version() -> str:
    try:
        return metadata.version(KERNEL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


class PluginHost:
    """Loads plugins and answers what is registered and what failed.

    :param autoload: discover the ``actioncore`` entry-point group; by default on unless
        ``ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD=1``. The kernel's own components are always there.
    """

    def __init__(self, *, autoload: bool | None = None):
        self.pm = pluggy.PluginManager("actioncore")
        self.pm.add_hookspecs(hookspecs)
        self.lifecycle = Lifecycle(self.pm)
        self.records: list[PluginRecord] = []
        self.failures: list[PluginFailure] = []
        self.disabled: list[str] = []
        self._registry: ComponentRegistry | None = None
        from ..builtin import hooks, loggers

        for module in (hooks, loggers):
            self.register(module, distribution=KERNEL_DISTRIBUTION, version=_kernel_version(),
                          name=module.__name__)
        if autoload is None:
            autoload = os.environ.get(AUTOLOAD_ENV, "").strip() not in ("1", "true", "yes")
        if autoload:
            self.discover()

    # -- discovery ---------------------------------------------------------------------------

    def discover(self) -> None:
        """Load every entry point of the ``actioncore`` group, each in its own guard."""
        skip = {s.strip() for s in os.environ.get(DISABLED_ENV, "").split(",") if s.strip()}
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist_name = ep.dist.metadata["Name"] if ep.dist else "<unknown distribution>"
            version = ep.dist.version if ep.dist else "?"
            if ep.name in skip or dist_name in skip:
                self.disabled.append(f"{dist_name} ({ep.name})")
                continue
            if any(r.name == ep.name and r.distribution == dist_name for r in self.records):
                continue
            spec = f"{ep.name} = {ep.value}"
            try:
                plugin = ep.load()
            except BaseException as exc:  # a plugin may raise anything at import, even SystemExit
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self._fail(PluginFailure(dist_name, version, spec, "import", _one_line(exc),
                                         traceback.format_exc()))
                continue
            self.register(plugin, distribution=dist_name, version=version, name=ep.name,
                          entry_point=spec)

    def register(self, plugin: ModuleType | object | str, *, distribution: str | None = None,
                 version: str | None = None, name: str | None = None,
                 entry_point: str | None = None) -> PluginRecord | None:
        """Register a hook module (or its import path) by hand, as tests and notebooks do.

        Returns the record, or None when the plugin failed (the failure is recorded).
        """
        module_name = plugin if isinstance(plugin, str) else getattr(plugin, "__name__", repr(plugin))
        distribution = distribution or _distribution_of(module_name)
        version = version or _version_of(distribution)
        name = name or module_name
        entry_point = entry_point or module_name
        try:
            if isinstance(plugin, str):
                plugin = importlib.import_module(plugin)
            unknown = _unknown_hooks(plugin)
            if unknown:
                raise ValueError("bad hook functions: " + "; ".join(unknown))
            self.pm.register(plugin, name=name)
        except Exception as exc:
            stage = "import" if isinstance(plugin, str) else "register"
            self._fail(PluginFailure(distribution, version, entry_point, stage, _one_line(exc),
                                     traceback.format_exc()))
            return None
        record = PluginRecord(name=name, distribution=distribution, version=version,
                              entry_point=entry_point, module=module_name)
        self.records.append(record)
        self._registry = None
        return record

    def _fail(self, failure: PluginFailure) -> None:
        self.failures.append(failure)
        self._registry = None

    # -- the registry -------------------------------------------------------------------------

    @property
    def registry(self) -> ComponentRegistry:
        if self._registry is None:
            self._registry = self._collect()
        return self._registry

    def _collect(self) -> ComponentRegistry:
        for record in self.records:
            record.components = {}
            if record.status == "partial":
                record.status = "loaded"
        self.failures = [f for f in self.failures if f.stage in ("import", "register")]
        registry = ComponentRegistry()
        by_name = {r.name: r for r in self.records}
        for kind, hook_name in hookspecs.REGISTRATION_HOOKS.items():
            for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
                record = by_name[impl.plugin_name]
                try:
                    provided = impl.function()
                    if provided is None:
                        continue
                    if not isinstance(provided, Mapping):
                        raise TypeError(f"returned {type(provided).__name__}, expected a mapping "
                                        "of name -> factory")
                    if kind == "weights":
                        bad = registration_problems(provided)
                        if bad:
                            raise TypeError("values must be WeightsEntry objects keyed by their own name; "
                                            "bad entries: " + ", ".join(bad))
                    bad = [repr(n) for n, f in provided.items()
                           if not isinstance(n, str) or not (callable(f) or kind == "weights")]
                    if bad:
                        raise TypeError("names must be strings and factories callable; bad entries: "
                                        + ", ".join(bad))
                except Exception as exc:
                    record.status = "partial"
                    self.failures.append(PluginFailure(
                        record.distribution, record.version, record.entry_point,
                        f"hook {hook_name}", _one_line(exc), traceback.format_exc(), kind=kind))
                    continue
                for comp_name, factory in provided.items():
                    conflict = registry.add(Component(kind, comp_name, factory,
                                                      record.distribution, record.version,
                                                      record.entry_point))
                    if conflict:
                        self.failures.append(conflict)
                    record.components.setdefault(kind, []).append(comp_name)
        registry.failures = list(self.failures)
        return registry

    # -- reports ------------------------------------------------------------------------------

    def distributions(self) -> dict[str, str]:
        """Loaded distributions and their versions, the kernel first."""
        out: dict[str, str] = {}
        for record in self.records:
            out.setdefault(record.distribution, record.version)
        return out

    def banner(self) -> str:
        """The first line of every run log: what was loaded, what failed."""
        loaded = ", ".join(f"{d} {v}" for d, v in self.distributions().items())
        line = f"plugins loaded: {loaded}"
        if self.failures:
            line += "; failed: " + "; ".join(f.describe() for f in self.failures)
        return line

    def describe(self) -> dict[str, Any]:
        """Everything ``actioncore plugins --json`` prints."""
        registry = self.registry
        return {
            "plugins": [
                {"name": r.name, "distribution": r.distribution, "version": r.version,
                 "entry_point": r.entry_point, "status": r.status, "components": r.components}
                for r in self.records
            ],
            "failures": [
                {"distribution": f.distribution, "version": f.version, "entry_point": f.entry_point,
                 "stage": f.stage, "kind": f.kind, "error": f.error}
                for f in registry.failures
            ],
            "disabled": list(self.disabled),
        }


def _unknown_hooks(plugin: object) -> list[str]:
    known = set(hookspecs.REGISTRATION_HOOKS.values()) | {
        n for n in dir(hookspecs) if n.startswith("actioncore_")}
    unknown = []
    for attr in dir(plugin):
        value = getattr(plugin, attr)
        if not attr.startswith("actioncore_") or not callable(value):
            continue
        if attr not in known:
            close = difflib.get_close_matches(attr, sorted(known), n=1)
            unknown.append(f"{attr}" + (f" (did you mean {close[0]}?)" if close else ""))
        elif not hasattr(value, "actioncore_impl"):
            unknown.append(f"{attr} is not marked with @actioncore.hookimpl")
    return unknown


def _distribution_of(module_name: str) -> str:
    top = module_name.split(".")[0]
    dists = metadata.packages_distributions().get(top)
    return dists[0] if dists else f"<{top}>"


def _version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "0+local"


_current: PluginHost | None = None


def current_host() -> PluginHost:
    """The process-wide host, created (and plugins discovered) on first use."""
    global _current
    if _current is None:
        _current = PluginHost()
    return _current


@contextlib.contextmanager
def use_host(host: PluginHost) -> Iterator[PluginHost]:
    """Make ``host`` the process-wide host inside the block (tests, notebooks)."""
    global _current
    previous, _current = _current, host
    try:
        yield host
    finally:
        _current = previous
