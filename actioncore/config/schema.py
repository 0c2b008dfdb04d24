"""A factory's keyword parameters, with their types and defaults: the component's config schema."""
from __future__ import annotations

import inspect
import typing
from typing import Any, Callable

import attrs

from ..errors import PluginError

REQUIRED = inspect.Parameter.empty


@attrs.frozen
class Param:
    name: str
    annotation: Any
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@attrs.frozen
class Schema:
    params: dict[str, Param]
    accepts_extra: bool
    """The factory takes ``**kwargs``: unknown keys go to it unconverted."""


_cache: dict[Any, Schema] = {}


def schema_of(factory: Callable[..., Any]) -> Schema:
    """Read the schema from the factory's signature; classes are read through ``__init__``."""
    try:
        return _cache[factory]
    except (KeyError, TypeError):
        pass
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        signature = inspect.signature(factory)
        hints = typing.get_type_hints(target, include_extras=True)
    except (NameError, TypeError, ValueError) as exc:
        name = getattr(factory, "__qualname__", repr(factory))
        raise PluginError(f"cannot read the parameters of {name}: {exc}") from exc
    params: dict[str, Param] = {}
    accepts_extra = False
    for p in signature.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            accepts_extra = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            params[p.name] = Param(p.name, hints.get(p.name, Any), p.default)
    schema = Schema(params, accepts_extra)
    try:
        _cache[factory] = schema
    except TypeError:
        pass
    return schema
