"""Reading experiment files: TOML, ``include`` inheritance, ``--set`` overrides, key origins.

Every key remembers the file (or override) it came from, so that an error about a value set in
an included base file names that file.
"""
from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ConfigError

Origins = dict[tuple, str]
"""key path -> the file or ``--set`` override that set it."""

_KEY = re.compile(r"[A-Za-z0-9_-]+")

MAX_NESTING = 64
"""Tables and arrays nested deeper than this are refused: no experiment needs them, and the
parser and the merge would otherwise end in a RecursionError instead of naming the file."""
MAX_INCLUDE_DEPTH = 32
"""Longest include chain (a file including a file including ...), for the same reason."""


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: experiment file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc}") from None
    return _parse(text, str(path))


def _parse(text: str, source: str, *, subject: str = "") -> dict[str, Any]:
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {subject}not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: arrays or tables are nested too deeply to read") from None
    _check_nesting(table, source)
    return table


def _check_nesting(table: dict[str, Any], source: str) -> None:
    """Refuse values nested deeper than :data:`MAX_NESTING`, naming the first such key."""
    stack: list[tuple[Any, tuple]] = [(table, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_NESTING:
            shown = ".".join(map(str, path[:4]))
            raise ConfigError(f"{source}: '{shown}...' is nested more than {MAX_NESTING} levels deep")
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        stack.extend((sub, (*path, key)) for key, sub in items)


def read_experiment(path: str | Path) -> tuple[dict[str, Any], Origins]:
    """The merged table of ``path`` and everything it includes, with each key's origin."""
    return _read(Path(path), ())


def _read(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], Origins]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ConfigError(f"{chain[-1]}: include cycle: {cycle}")
    if len(chain) > MAX_INCLUDE_DEPTH:
        raise ConfigError(f"{chain[0]}: the include chain is longer than {MAX_INCLUDE_DEPTH} files "
                          f"(it reaches {path})")
    table = read_toml(path)
    includes = table.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ConfigError(f"{path}: include: expected an array of file paths, got {includes!r}")
    merged: dict[str, Any] = {}
    origins: Origins = {}
    for include in includes:
        target = path.parent / include
        if not target.is_file():
            raise ConfigError(f"{path}: include: file not found: {include} (looked at {target})")
        base, base_origins = _read(target, (*chain, resolved))
        _merge(merged, base, origins, base_origins, ())
    own_origins: Origins = {}
    _record(table, str(path), (), own_origins)
    _merge(merged, table, origins, own_origins, ())
    return merged, origins


def _record(value: Any, source: str, path: tuple, origins: Origins) -> None:
    origins[path] = source
    if isinstance(value, dict):
        for key, sub in value.items():
            _record(sub, source, (*path, key), origins)


def _merge(into: dict, new: dict, origins: Origins, new_origins: Origins, path: tuple) -> None:
    """Deep-merge tables; arrays and scalars of ``new`` replace what was there."""
    for key, value in new.items():
        sub = (*path, key)
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            origins[sub] = new_origins.get(sub, origins.get(sub, ""))
            _merge(into[key], value, origins, new_origins, sub)
        else:
            into[key] = copy.deepcopy(value)
            for p in [p for p in origins if p[:len(sub)] == sub]:
                del origins[p]
            origins.update({p: s for p, s in new_origins.items() if p[:len(sub)] == sub})


def parse_override(text: str) -> tuple[tuple[str | int, ...], Any]:
    """``a.b.c=value`` -> (("a", "b", "c"), value); the value is read as TOML, else a string."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text}: expected KEY=VALUE, e.g. --set data.batch_size=4")
    parts: list[str | int] = []
    for part in key.split("."):
        if part.isdigit():
            parts.append(int(part))
        elif _KEY.fullmatch(part):
            parts.append(part)
        else:
            raise ConfigError(f"--set {text}: bad key path '{key}': parts are bare TOML keys "
                              "or array indices separated by dots")
    try:
        value = _parse(f"v = {raw}", f"--set {text}", subject="value is ")["v"]
    except ConfigError:
        if not raw or raw[0] in "[{\"'" or raw[-1] in "]}\"'":
            raise
        value = raw
    return tuple(parts), value


def apply_override(table: dict[str, Any], origins: Origins, text: str) -> None:
    path, value = parse_override(text)
    node: Any = table
    for i, part in enumerate(path[:-1]):
        where = ".".join(map(str, path[: i + 1]))
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ConfigError(f"--set {text}: '{where}' is not an item of an array here")
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise ConfigError(f"--set {text}: '{where}' is inside a value that is not a table")
            node = node.setdefault(part, {})
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ConfigError(f"--set {text}: no array item {last} to set")
    elif not isinstance(node, dict):
        raise ConfigError(f"--set {text}: the parent of '{last}' is not a table")
    node[last] = value
    for p in [p for p in origins if p[:len(path)] == path]:
        del origins[p]
    _record(value, f"--set {text}", path, origins)


def origin_of(origins: Origins, path: tuple) -> str:
    """The source of the deepest recorded prefix of ``path``."""
    for end in range(len(path), -1, -1):
        found = origins.get(tuple(path[:end]))
        if found:
            return found
    return ""
