"""TOML values to typed Python values, strictly, with errors that carry the full key path.

cattrs does the structuring. On top of its defaults this converter is strict about scalars
(``"50"`` is not an int, ``true`` is not a number), reads component tables against the
registered factory's signature, and turns cattrs' exception groups into ``path: message`` lines.
"""
from __future__ import annotations

import collections.abc
import datetime
import difflib
import enum
import pathlib
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (AttributeValidationNote, ClassValidationError, ForbiddenExtraKeysError,
                           IterableValidationError, IterableValidationNote)

from ..errors import PluginError
from ..plugin.registry import ComponentRegistry
from ..types import component_kind, component_marker
from .schema import schema_of


DEFAULT_TYPES = {"model": "sequential"}
"""The type a component table of this kind gets when it names none."""

_TOML_VALUES = (str, int, float, bool, list, dict, datetime.date, datetime.time)


class ValueProblem(ValueError):
    """A value that does not fit its key; the message is shown as is."""


class KeyProblem(ValueProblem):
    """A value out of its range, found by the section's validator: the message names the key."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


class UnknownKey(ValueProblem):
    pass


@attrs.define
class ComponentSpec:
    """A component as configured: its kind, registered name and structured parameters.

    ``params`` holds every parameter the factory takes, the defaults filled in, so that the
    resolved experiment records exactly what was built.
    """

    kind: str
    type: str
    params: dict[str, Any] = attrs.field(factory=dict)
    extra: dict[str, Any] = attrs.field(factory=dict)
    """Keys the table holds for the kernel beside the factory's parameters (see
    :class:`~actioncore.types.ComponentOf`); :func:`~actioncore.config.build.instantiate` ignores them."""


def describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r}"


def type_name(annotation: Any) -> str:
    kind = component_kind(annotation)
    if kind:
        return f"a {kind} table"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _strict(expected: type, accept: tuple[type, ...]):
    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and expected is not bool or not isinstance(value, accept):
            raise ValueProblem(f"expected {expected.__name__}, got {describe(value)}")
        return expected(value)

    return structure


def _is_union(t: Any) -> bool:
    return get_origin(t) in (Union, types.UnionType)


def _plain(value: Any) -> bool:
    """Whether a default can be written to TOML and read back as the same value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def make_converter(registry: ComponentRegistry) -> cattrs.Converter:
    """A converter that structures experiments against the components in ``registry``."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(int, _strict(int, (int,)))
    conv.register_structure_hook(float, _strict(float, (int, float)))
    conv.register_structure_hook(str, _strict(str, (str,)))
    conv.register_structure_hook(bool, _strict(bool, (bool,)))
    conv.register_structure_hook(pathlib.Path, lambda v, _: pathlib.Path(_strict(str, (str,))(v, _)))
    conv.register_unstructure_hook(pathlib.Path, str)

    def structure_literal(value: Any, t: Any) -> Any:
        allowed = get_args(t)
        if value not in allowed or type(value) is not type(allowed[allowed.index(value)]):
            raise ValueProblem("expected one of " + ", ".join(repr(a) for a in allowed)
                               + f", got {describe(value)}")
        return value

    conv.register_structure_hook_func(lambda t: get_origin(t) is Literal, structure_literal)

    def structure_union(value: Any, t: Any) -> Any:
        members = get_args(t)
        if value is None:
            if type(None) in members:
                return None
            raise ValueProblem(f"expected {type_name(t)}, got nothing")
        problems = []
        for member in members:
            if member is type(None):
                continue
            try:
                return conv.structure(value, member)
            except Exception as exc:
                problems.append(exc)
        if len(problems) == 1:
            raise problems[0]
        names = " or ".join(type_name(m) for m in members if m is not type(None))
        raise ValueProblem(f"expected {names}, got {describe(value)}")

    conv.register_structure_hook_func(_is_union, structure_union)

    def structure_tuple(value: Any, t: Any) -> tuple:
        args = get_args(t)
        if not isinstance(value, (list, tuple)):
            raise ValueProblem(f"expected an array ({type_name(t)}), got {describe(value)}")
        if args and args[-1] is not Ellipsis and len(args) != len(value):
            raise ValueProblem(f"expected {len(args)} values ({type_name(t)}), got {len(value)}")
        if not args:
            return tuple(value)
        item_types = [args[0]] * len(value) if args[-1] is Ellipsis else list(args)
        return tuple(conv.structure(v, it) for v, it in zip(value, item_types))

    conv.register_structure_hook_func(
        lambda t: t is tuple or get_origin(t) is tuple, structure_tuple)

    def structure_dict(value: Any, t: Any) -> dict:
        if not isinstance(value, dict):
            raise ValueProblem(f"expected a table ({type_name(t)}), got {describe(value)}")
        key_type, value_type = (get_args(t) + (Any, Any))[:2]
        out = {}
        errors: list[Exception] = []
        for key, item in value.items():
            if key_type is int and isinstance(key, str) and key.lstrip("-").isdigit():
                key = int(key)  # TOML keys are strings; dict[int, ...] tables write them as "86"
            try:
                out[conv.structure(key, key_type)] = conv.structure(item, value_type)
            except Exception as exc:  # keep the key in the error's path: optim.custom_keys.<key>.x
                exc.__notes__ = [*getattr(exc, "__notes__", []),
                                 AttributeValidationNote(f"Structuring table @ key {key}", str(key), value_type)]
                errors.append(exc)
        if errors:
            raise ClassValidationError(f"invalid {type_name(t)} table", errors, dict)
        return out

    conv.register_structure_hook_func(
        lambda t: t is dict or get_origin(t) in (dict, collections.abc.Mapping), structure_dict)

    def structure_component(value: Any, t: Any) -> ComponentSpec:
        marker = component_marker(t)
        return structure_component_table(conv, registry, value, marker.kind, extra=dict(marker.extra))

    conv.register_structure_hook_func(lambda t: component_kind(t) is not None, structure_component)
    conv.register_structure_hook(typing.Any, lambda v, _: v)

    def unstructure_component(spec: ComponentSpec) -> dict[str, Any]:
        return {"type": spec.type, **{k: conv.unstructure(v) for k, v in (spec.params | spec.extra).items()}}

    conv.register_unstructure_hook(ComponentSpec, unstructure_component)
    conv.register_unstructure_hook(enum.Enum, lambda e: e.value)
    return conv


def structure_component_table(conv: cattrs.Converter, registry: ComponentRegistry, value: Any,
                              kind: str, *, extra: dict[str, Any] | None = None) -> Any:
    """Read ``{type = "name", ...}`` (or the bare string ``"name"``) as a component of ``kind``.

    ``extra`` maps keys the table may hold beside the factory's parameters to their annotations.
    """
    extra = extra or {}
    if isinstance(value, ComponentSpec) or not isinstance(value, _TOML_VALUES):
        return value  # composed in Python: already a spec or a built object
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict):
        raise ValueProblem(f'expected a {kind} table like {{type = "name", ...}}, got {describe(value)}')
    errors: list[Exception] = []

    def fail(exc: Exception, key: str, annotation: Any = Any) -> None:
        exc.__notes__ = [*getattr(exc, "__notes__", []),
                         AttributeValidationNote(f"Structuring {kind} @ key {key}", key, annotation)]
        errors.append(exc)

    name = value.get("type", DEFAULT_TYPES.get(kind))
    if name is None:
        raise ValueProblem(f"missing key 'type' (which {kind} to build)")
    if not isinstance(name, str):
        fail(ValueProblem(f"expected the name of a {kind}, got {describe(name)}"), "type")
        raise ClassValidationError(f"invalid {kind}", errors, ComponentSpec)
    try:
        schema = schema_of(registry.get(kind, name).factory)
    except PluginError as exc:
        fail(exc, "type")
        raise ClassValidationError(f"invalid {kind}", errors, ComponentSpec) from None
    params: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    failed: set[str] = set()
    for key, raw in value.items():
        if key == "type":
            continue
        if key in extra:
            try:
                kept[key] = conv.structure(raw, extra[key])
            except Exception as exc:
                fail(exc, key, extra[key])
            continue
        param = schema.params.get(key)
        if param is None:
            if schema.accepts_extra:
                params[key] = raw
                continue
            fail(UnknownKey(_unknown_key_message(key, f"{kind} '{name}'", [*schema.params, *extra])), key)
            continue
        try:
            params[key] = conv.structure(raw, param.annotation)
        except Exception as exc:
            failed.add(key)
            fail(exc, key, param.annotation)
    for param in schema.params.values():
        if param.name in params or param.name in failed:
            continue
        if param.required:
            fail(ValueProblem(f"missing required key ({type_name(param.annotation)})"), param.name)
        elif param.default is not None and _plain(param.default):
            params[param.name] = param.default
    if errors:
        raise ClassValidationError(f"invalid {kind} '{name}'", errors, ComponentSpec)
    return ComponentSpec(kind=kind, type=name, params=params, extra=kept)


def _unknown_key_message(key: str, where: str, known: Any) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    listing = ", ".join(known) if known else "none"
    return f"unknown key in {where}.{hint} Known keys: {listing}."


def iter_errors(exc: BaseException, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple, str]]:
    """Flatten a cattrs error tree into ``(key path, message)`` pairs."""
    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            yield from iter_errors(sub, (*path, note.name))
        for sub in without:
            yield from iter_errors(sub, path)
    elif isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            index = note.index if isinstance(note, IterableValidationNote) else "?"
            yield from iter_errors(sub, (*path, index))
        for sub in without:
            yield from iter_errors(sub, path)
    elif isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            yield from iter_errors(sub, path)
    elif isinstance(exc, ForbiddenExtraKeysError):
        known = [f.name for f in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        section = format_path(path) or "the top level"
        for key in sorted(exc.extra_fields):
            yield (*path, key), _unknown_key_message(key, f"[{section}]" if path else section, known)
    elif isinstance(exc, KeyError):
        yield path, "missing required key"
    elif isinstance(exc, KeyProblem):
        yield (*path, exc.key), str(exc)
    elif isinstance(exc, (ValueProblem, PluginError)):
        yield path, str(exc)
    else:
        yield path, f"{type(exc).__name__}: {exc}"


def format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def component_spec(registry: ComponentRegistry, table: Any, kind: str, where: str = "", *,
                   extra: dict[str, Any] | None = None) -> Any:
    """:func:`structure_component_table` with its problems as one :class:`ConfigError`.

    ``where`` prefixes every key path (``model.backbone``); ``extra`` as there.
    """
    from ..errors import ConfigError

    try:
        return structure_component_table(make_converter(registry), registry, table, kind, extra=extra)
    except (ConfigError, PluginError):
        raise
    except Exception as exc:
        lines = [".".join(p for p in (where, format_path(path)) if p) + f": {message}"
                 for path, message in iter_errors(exc)]
        raise ConfigError("\n".join(lines)) from None
