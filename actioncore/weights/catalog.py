"""The model zoo as the registry holds it: every plugin's ``weights`` entries, looked up by name.

``actioncore weights list/show`` print from here; the download service, the cache and
``--weights NAME`` will resolve names through :func:`find_weights` too, so that an unknown name
fails the same way everywhere (close matches, and the distribution to install when a manifest
names it).
"""
from __future__ import annotations

import difflib
import re
from typing import Any

from ..errors import ConfigError
from ..plugin.host import current_host
from ..plugin.manifests import provider_of
from .cache import cached_file, converted_file
from .imported import DISTRIBUTION, imported_weights
from .zoo import WeightsEntry

KIND = "weights"


def registered_weights(*, task: str | None = None) -> list[tuple[WeightsEntry, str]]:
    """``(entry, distribution)`` for every registered checkpoint, by name, then the user's imported
    ones (distribution ``imported``; a plugin's entry of the same name hides one); only ``task``'s if given."""
    registry = current_host().registry
    found = [(c.factory, c.distribution) for c in registry.items(KIND)]
    found += [(e, DISTRIBUTION) for name, e in imported_weights().items() if (KIND, name) not in registry]
    return [(e, d) for e, d in found if task is None or e.task == task]


def find_weights(name: str) -> tuple[WeightsEntry, str]:
    """The entry called ``name`` and its distribution.

    :raises ConfigError: for an unknown name, with close matches (and names containing it), the
        distribution to install when a plugin's manifest lists the name, and plugins that failed.
    """
    registry = current_host().registry
    if (KIND, name) in registry:
        component = registry.get(KIND, name)
        return component.factory, component.distribution
    imported = imported_weights()
    if name in imported:
        return imported[name], DISTRIBUTION
    known = registry.names(KIND) + sorted(imported)
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    # 'tsn_r50_k400' finds tsn_...-r50_..._kinetics400-rgb: every word of the name, k400 spelled out
    tokens = [re.sub(r"^k(\d{3})$", r"kinetics\1", t) for t in re.split(r"[_\-\s]+", name.lower()) if t]
    close += [k for k in known if tokens and all(t in k.lower() for t in tokens) and k not in close][:5 - len(close)]
    parts = [f"unknown weights '{name}'."]
    if close:
        parts.append("Did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
    provider = provider_of(KIND, name)
    if provider is not None:
        parts.append(f"It is provided by {provider.distribution}: {provider.install_hint()}.")
    failed = [f.describe() for f in registry.failures if f.kind in (None, KIND)]
    if failed:
        parts.append("These plugins failed and may provide it: " + "; ".join(failed) + ".")
    parts.append(f"'actioncore weights list' shows the {len(known)} known checkpoints.")
    raise ConfigError(" ".join(parts))


def summary(entry: WeightsEntry, distribution: str) -> dict[str, Any]:
    """One row of ``actioncore weights list``: what a user picks a checkpoint by, and the
    experiment that builds its model (``package/examples/x.toml`` and the overrides; ``None``
    when no experiment fits, which ``fits`` explains in ``weights show``)."""
    return {"name": entry.name, "architecture": entry.architecture, "task": entry.task,
            "dataset": entry.dataset, "top1": entry.metrics.get("top1"), "size": entry.file_size,
            "cached": "yes" if is_cached(entry) else "no", "distribution": distribution,
            "experiment": (f"{entry.package}/{entry.experiment}" if entry.package else entry.experiment) or None,
            "overrides": list(entry.overrides)}


def is_cached(entry: WeightsEntry) -> bool:
    """Whether the entry's source file or its conversion to our layout is in the cache (using it
    needs no download)."""
    return cached_file(entry).is_file() or converted_file(entry).is_file()


def experiment_label(row: dict[str, Any]) -> str:
    """The experiment column of the ``weights list`` table: the example's file name, ``+N``
    for N overrides, ``-`` for none."""
    if row["experiment"] is None:
        return "-"
    name = row["experiment"].rsplit("/", 1)[-1]
    return f"{name} +{len(row['overrides'])}" if row["overrides"] else name


def human_size(size: int | None) -> str:
    """``97.8 MB``, or ``?`` when the entry does not know its file size."""
    if size is None:
        return "?"
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


__all__ = ["experiment_label", "find_weights", "human_size", "is_cached", "registered_weights", "summary"]
