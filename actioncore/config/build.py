"""Building components from their specs: nested components first, then the factory."""
from __future__ import annotations

from typing import Any

from .structure import ComponentSpec
from ..errors import ActionCoreError, ConfigError
from ..plugin.registry import ComponentRegistry


def instantiate(spec: Any, registry: ComponentRegistry, path: str = "") -> Any:
    """Build ``spec`` (a :class:`ComponentSpec`, or a list/dict/tuple holding some)."""
    if isinstance(spec, ComponentSpec):
        component = registry.get(spec.kind, spec.type)
        where = path or spec.kind
        kwargs = {k: instantiate(v, registry, f"{where}.{k}") for k, v in spec.params.items()}
        try:
            return component.factory(**kwargs)
        except ActionCoreError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: building {spec.kind} '{spec.type}' "
                              f"(from {component.distribution}) failed: {type(exc).__name__}: {exc}") from exc
    if isinstance(spec, list):
        return [instantiate(v, registry, f"{path}[{i}]") for i, v in enumerate(spec)]
    if isinstance(spec, tuple):
        return tuple(instantiate(v, registry, f"{path}[{i}]") for i, v in enumerate(spec))
    if isinstance(spec, dict):
        return {k: instantiate(v, registry, f"{path}.{k}") for k, v in spec.items()}
    return spec
