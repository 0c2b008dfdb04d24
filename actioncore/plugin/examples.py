"""The example experiments installed plugins ship, found without importing the plugins.

A plugin keeps its examples in its package, ``<package>/examples/*.toml`` (package data, so
they come with the wheel). Each distribution of the ``actioncore`` entry-point group is looked
up by the top-level package its entry points name (``importlib.util.find_spec``, which locates
the package without running it), so a plugin that fails to import still lists its examples.
``actioncore examples`` lists them and copies them out, with the files they ``include``.
"""
from __future__ import annotations

import difflib
import fnmatch
import importlib.util
import shutil
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs

from ..config.loading import read_experiment
from ..errors import ActionCoreError, ConfigError, StorageError
from .host import ENTRY_POINT_GROUP

EXAMPLES_FOLDER = "examples"


@attrs.frozen
class Example:
    """One shipped experiment file and what it trains."""

    name: str
    """The file name without ``.toml``: what ``actioncore examples --copy DIR NAME`` selects."""
    distribution: str
    version: str
    path: Path
    task: str | None
    model: str | None
    """The backbone's type, else the model's (``None`` for a model-free step)."""
    requires: tuple[str, ...]
    """Its ``[plugins] require`` list."""
    files: tuple[Path, ...]
    """The file and every file it includes (what a copy needs)."""
    error: str | None = None
    """Why it could not be read, if it could not (the listing goes on)."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "distribution": self.distribution, "version": self.version,
                "path": str(self.path), "task": self.task, "model": self.model, "requires": list(self.requires),
                **({"error": self.error} if self.error else {})}


def _packages() -> dict[tuple[str, str], str]:
    """(distribution, top-level package) of every entry point of the group -> the version."""
    found: dict[tuple[str, str], str] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is None:
            continue
        package = ep.value.split(":")[0].split(".")[0].strip()
        found.setdefault((ep.dist.metadata["Name"], package), ep.dist.version)
    return found


def _folder(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    return next((Path(p) / EXAMPLES_FOLDER for p in locations if (Path(p) / EXAMPLES_FOLDER).is_dir()), None)


def read_example(path: Path, *, distribution: str, version: str) -> Example:
    """``path`` described from its merged table (includes resolved); unreadable files are kept
    with their error so that one broken example does not hide the others."""
    try:
        table, origins = read_experiment(path)
    except ActionCoreError as exc:
        return Example(name=path.stem, distribution=distribution, version=version, path=path, task=None,
                       model=None, requires=(), files=(path,), error=str(exc))
    model = table.get("model") if isinstance(table.get("model"), dict) else {}
    backbone = model.get("backbone") if isinstance(model.get("backbone"), dict) else {}
    task = table.get("task") if isinstance(table.get("task"), dict) else {}
    plugins = table.get("plugins") if isinstance(table.get("plugins"), dict) else {}
    files = {path.resolve(): None}
    files.update({Path(source).resolve(): None for source in origins.values() if Path(source).is_file()})
    return Example(name=path.stem, distribution=distribution, version=version, path=path,
                   task=task.get("type"), model=backbone.get("type") or model.get("type"),
                   requires=tuple(r for r in plugins.get("require", ()) if isinstance(r, str)),
                   files=tuple(files))


def installed_examples() -> list[Example]:
    """Every example of every installed plugin distribution, sorted by distribution and name."""
    examples = []
    for (distribution, package), version in _packages().items():
        folder = _folder(package)
        if folder is not None:
            examples += [read_example(p, distribution=distribution, version=version)
                         for p in sorted(folder.glob("*.toml"))]
    return sorted(examples, key=lambda e: (e.distribution, e.name))


def select(examples: Sequence[Example], patterns: Iterable[str]) -> list[Example]:
    """The examples whose name (or file name) matches one of ``patterns`` (names or shell globs);
    all of them when there are none. A pattern matching nothing is a ConfigError with close names."""
    patterns = list(patterns)
    if not patterns:
        return list(examples)
    chosen: dict[Path, Example] = {}
    for pattern in patterns:
        hits = [e for e in examples if fnmatch.fnmatchcase(e.name, pattern) or fnmatch.fnmatchcase(e.path.name, pattern)]
        if not hits:
            close = difflib.get_close_matches(pattern.removesuffix(".toml"), sorted({e.name for e in examples}), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; 'actioncore examples' lists them"
            raise ConfigError(f"no installed example matches '{pattern}'{hint}")
        chosen.update({e.path: e for e in hits})
    return list(chosen.values())


def copy_examples(examples: Sequence[Example], target: Path, *, force: bool = False) -> dict[Path, list[Path]]:
    """Copy each example and the files it includes into ``target``, keeping their places relative
    to the example's folder (so includes still resolve). An existing different file is kept
    unless ``force``; two distributions' examples of one name are refused. Returns the written
    (or identical, already there) files per example."""
    owners: dict[str, Example] = {}
    for example in examples:
        other = owners.setdefault(example.path.name, example)
        if other.distribution != example.distribution:
            raise ConfigError(f"--copy: {other.distribution} and {example.distribution} both ship "
                              f"'{example.path.name}'; copy them one at a time into different folders")
    plan: dict[Path, list[tuple[Path, Path]]] = {}
    for example in examples:
        base = example.path.resolve().parent
        pairs = []
        for source in example.files:
            try:
                relative = source.relative_to(base)
            except ValueError:
                raise ConfigError(f"{example.path}: includes {source}, outside its examples folder; "
                                  "it cannot be copied with it") from None
            destination = target / relative
            if destination.exists() and not force and destination.read_bytes() != source.read_bytes():
                raise ConfigError(f"--copy: {destination} exists and differs from {example.distribution}'s "
                                  f"{relative}; pass --force to overwrite it")
            pairs.append((source, destination))
        plan[example.path] = pairs
    copied: dict[Path, list[Path]] = {}
    try:
        for example in examples:
            for source, destination in plan[example.path]:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)
            copied[example.path] = [d for _, d in plan[example.path]]
    except OSError as exc:
        raise StorageError(f"--copy: cannot write into {target}: {exc}") from None
    return copied
