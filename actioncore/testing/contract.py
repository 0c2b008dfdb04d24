"""Checks that a registered component honours the plugin contract of SPEC §3."""
from __future__ import annotations

import inspect
import tomllib
from typing import Any

import tomli_w

from ..config.build import instantiate
from ..config import drop_none
from ..config.structure import component_spec, make_converter
from ..errors import ConfigError
from ..config.schema import schema_of
from ..plugin.host import PluginHost


def assert_component_contract(host: PluginHost, kind: str, name: str,
                              table: dict[str, Any] | str | None = None) -> Any:
    """Assert that ``kind``/``name`` is registered, typed, builds from a TOML table and round-trips.

    :param table: the component's parameters, as a dict or TOML text (without ``type``).
    :returns: the built component, for further checks by the caller.
    """
    failures = host.registry.failures
    assert not failures, "plugin failures: " + "; ".join(f.describe() for f in failures)
    component = host.registry.get(kind, name)
    factory = component.factory
    signature = inspect.signature(factory)
    positional = [p.name for p in signature.parameters.values() if p.kind is p.POSITIONAL_ONLY]
    assert not positional, f"{name}: positional-only parameters cannot be configured: {positional}"
    schema = schema_of(factory)
    raw_annotations = {p.name: p.annotation for p in signature.parameters.values()}
    untyped = [n for n in schema.params if raw_annotations.get(n) is inspect.Parameter.empty]
    assert not untyped, f"{name}: parameters without a type annotation: {untyped}"
    if isinstance(table, str):
        table = tomllib.loads(table)
    table = dict(table or {})
    conv = make_converter(host.registry)
    spec = _structure(host, {"type": name, **table}, kind)
    for param in schema.params.values():
        if not param.required and param.name in spec.params and param.name not in table:
            try:
                fits = conv.structure(conv.unstructure(param.default), param.annotation) == param.default
            except Exception:
                fits = False
            assert fits, f"{name}.{param.name}: default {param.default!r} does not fit its annotation"
    text = tomli_w.dumps(drop_none(conv.unstructure(spec)))  # as experiment files are written
    again = _structure(host, tomllib.loads(text), kind)
    assert again == spec, f"{name}: config does not round-trip through TOML:\n{text}"
    return instantiate(spec, host.registry, kind)



def _structure(host: PluginHost, table: dict[str, Any], kind: str) -> Any:
    try:
        return component_spec(host.registry, table, kind, kind)
    except ConfigError as exc:
        raise AssertionError(f"{kind} '{table.get('type')}' does not build from {table}: {exc}") from None
