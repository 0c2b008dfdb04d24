"""The user catalog: checkpoints imported with ``actioncore weights import``, kept beside the cache.

``ACTIONCORE_HOME/imported.toml`` holds one ``[[weights]]`` table per imported entry (the same
tables as a plugin's ``weights.toml``); :func:`~actioncore.weights.catalog.find_weights` and
``weights list`` see them as the distribution ``imported``. The file is rewritten whole and
atomically under the cache lock, so two imports at once both land.
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from ..errors import ConfigError
from .cache import file_lock, weights_home
from .zoo import ImportedWeightsEntry, WeightsEntry, entry_from_table

DISTRIBUTION = "imported"
"""What ``weights list`` / ``show`` give as an imported entry's distribution."""


def catalog_file() -> Path:
    """``ACTIONCORE_HOME/imported.toml`` (it may not exist)."""
    return weights_home() / "imported.toml"


def imported_weights() -> dict[str, ImportedWeightsEntry]:
    """``{name: entry}`` of the user catalog (empty when nothing was imported).

    :raises ConfigError: naming the catalog file when it cannot be read or holds a bad entry.
    """
    path = catalog_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the imported weights: {exc.strerror or exc}") from None
    try:
        tables = tomllib.loads(text).get("weights", [])
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: cannot read the imported weights: {exc}") from None
    entries = [entry_from_table(t, package="", source=str(path), kind=ImportedWeightsEntry) for t in tables]
    return {e.name: e for e in entries}


def record_import(entry: ImportedWeightsEntry, *, replace: bool = False) -> None:
    """Add ``entry`` to the user catalog (replacing one of its name only when ``replace``).

    :raises ConfigError: when the name is imported already and ``replace`` is false.
    """
    path = catalog_file()
    with file_lock(path):
        entries = imported_weights()
        if entry.name in entries and not replace:
            raise ConfigError(f"weights '{entry.name}' were imported already (from {entries[entry.name].url}); "
                              "pass --replace to import over them, or choose another --name")
        entries[entry.name] = entry
        tables = [_table(e) for e in entries.values()]
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(tomli_w.dumps({"weights": tables}), encoding="utf-8")
        os.replace(tmp, path)


def _table(entry: WeightsEntry) -> dict[str, Any]:
    """The entry as a ``[[weights]]`` table: TOML has no null, so unknown values are left out."""
    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: clean(v) for k, v in value.items() if v is not None}
        return value

    table = clean(entry.to_dict())
    table.pop("package")
    return table


__all__ = ["DISTRIBUTION", "catalog_file", "imported_weights", "record_import"]
