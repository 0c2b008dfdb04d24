"""The import rules between the kernel and plugins, checked with import-linter and over the AST.

The rules (docs/plugins.md, "Who may import what"):

1. the kernel (``actioncore``) imports no plugin;
2. a plugin's code imports from the kernel only its public API: ``actioncore`` itself and
   ``actioncore.sdk`` (and, in its tests, ``actioncore.testing`` and ``actioncore.cli``);
3. a plugin imports another plugin only if its distribution declares that one as a dependency,
   only through the other's top-level package, and only names listed in its ``__all__``;
4. the declared dependencies between plugin distributions have no cycle.

import-linter checks 1-3 on the installed packages' import graph (``lint-imports`` with contracts
generated from the plugins' ``pyproject.toml``); the AST check adds what a graph cannot see: the
tests folders (not packages) and the imported names' presence in ``__all__``.
"""
from __future__ import annotations

import ast
import functools
import graphlib
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

KERNEL = "actioncore"
PUBLIC_KERNEL_MODULES = ("actioncore", "actioncore.sdk")
"""What a plugin's package code may import from the kernel (with submodules of ``actioncore.sdk``)."""
PUBLIC_KERNEL_MODULES_IN_TESTS = (*PUBLIC_KERNEL_MODULES, "actioncore.testing", "actioncore.cli")
"""What a plugin's tests may import from the kernel besides."""


@attrs.frozen
class PluginSource:
    """A plugin distribution as its folder declares it."""

    distribution: str
    folder: Path
    packages: tuple[str, ...]
    dependencies: frozenset[str]
    """Canonical names of the distributions it depends on (``dependencies`` and the ``test`` extra)."""


def read_plugin(folder: Path) -> PluginSource:
    """The distribution in ``folder`` (its ``pyproject.toml`` and top-level packages)."""
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    requirements = list(project.get("dependencies", [])) + list(project.get("optional-dependencies", {}).get("test", []))
    packages = tuple(sorted(p.name for p in folder.iterdir() if (p / "__init__.py").is_file()))
    return PluginSource(distribution=canonicalize_name(project["name"]), folder=folder, packages=packages,
                        dependencies=frozenset(canonicalize_name(Requirement(r).name) for r in requirements))


def find_plugins(root: Path) -> list[PluginSource]:
    """Every plugin distribution under ``root/plugins/<kind>/<name>/``."""
    return [read_plugin(p.parent) for p in sorted(root.glob("plugins/*/*/pyproject.toml"))]


def _section(key: str, **options: Iterable[str] | str) -> str:
    lines = [f"[importlinter:contract:{key}]"]
    for key, value in options.items():
        if isinstance(value, str):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} =\n" + "\n".join(f"    {v}" for v in value))
    return "\n".join(lines)


def kernel_internal_modules(kernel_dir: Path) -> list[str]:
    """The kernel's top-level modules that plugins must not import (all but the public ones)."""
    public = {m.split(".")[1] for m in PUBLIC_KERNEL_MODULES_IN_TESTS if "." in m}
    names = {p.stem for p in kernel_dir.glob("*.py") if p.stem not in ("__init__", "__main__")}
    names |= {p.parent.name for p in kernel_dir.glob("*/__init__.py")}
    return sorted(f"{KERNEL}.{n}" for n in names - public)


def importlinter_config(plugins: list[PluginSource], kernel_dir: Path) -> str:
    """An import-linter configuration (INI) with one contract per rule and plugin."""
    all_packages = [pkg for p in plugins for pkg in p.packages]
    sections = ["[importlinter]\nroot_packages =\n" + "\n".join(f"    {m}" for m in [KERNEL, *all_packages])]
    sections.append(_section("kernel-imports-no-plugin", name="The kernel imports no plugin", type="forbidden",
                             source_modules=[KERNEL], forbidden_modules=all_packages))
    sections.append(_section("kernel-internals", name="Only the kernel imports its internal modules",
                             type="protected", protected_modules=kernel_internal_modules(kernel_dir),
                             allowed_importers=[KERNEL]))
    for plugin in plugins:
        others = [pkg for p in plugins if p.distribution not in plugin.dependencies
                  and p.distribution != plugin.distribution for pkg in p.packages]
        if others:
            sections.append(_section(f"{plugin.distribution}-declared",
                                     name=f"{plugin.distribution} imports only the plugins it declares",
                                     type="forbidden", source_modules=list(plugin.packages), forbidden_modules=others,
                                     allow_indirect_imports="True"))
        for package in plugin.packages:
            submodules = sorted(f"{package}.{p.stem}" for p in (plugin.folder / package).glob("*.py")
                                if p.stem != "__init__")
            submodules += sorted(f"{package}.{p.parent.name}" for p in (plugin.folder / package).glob("*/__init__.py"))
            if submodules:
                sections.append(_section(f"{package}-private", name=f"only {package} imports its submodules",
                                         type="protected", protected_modules=submodules, allowed_importers=[package]))
    return "\n\n".join(sections) + "\n"


def run_import_linter(plugins: list[PluginSource], kernel_dir: Path, workdir: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` with the generated contracts; exit status 0 when every contract is kept."""
    config = workdir / ".importlinter"
    config.write_text(importlinter_config(plugins, kernel_dir))
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), str(config), "--no-cache"], capture_output=True, text=True,
                          cwd=workdir)


# ------------------------------------------------------------------------------------------------
# What the import graph cannot see: tests folders and the names taken from another plugin.
# ------------------------------------------------------------------------------------------------


@attrs.frozen
class ImportFrom:
    path: Path
    line: int
    module: str
    names: tuple[str, ...]


def _imports(path: Path) -> Iterator[ImportFrom]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield ImportFrom(path, node.lineno, alias.name, ())
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield ImportFrom(path, node.lineno, node.module, tuple(a.name for a in node.names))


@functools.cache
def _exported(package_dir: Path) -> frozenset[str]:
    tree = ast.parse((package_dir / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def _public_kernel(module: str, allowed: tuple[str, ...]) -> bool:
    return module in allowed or (module.startswith("actioncore.sdk.") and not re.search(r"\._", module)) \
        or any(module.startswith(a + ".") for a in allowed if a == "actioncore.testing")


def layering_problems(plugins: list[PluginSource], kernel_dir: Path) -> list[str]:
    """Every import that breaks a rule, as ``file:line: what``; also a cycle among the plugins."""
    owner = {pkg: p for p in plugins for pkg in p.packages}
    problems = []
    for path in sorted(kernel_dir.rglob("*.py")):
        for imp in _imports(path):
            if imp.module.split(".")[0] in owner:
                problems.append(f"{path}:{imp.line}: the kernel imports the plugin module {imp.module}")
    for plugin in plugins:
        for path in sorted(f for top in (*plugin.packages, "tests") for f in (plugin.folder / top).rglob("*.py")):
            in_tests = path.relative_to(plugin.folder).parts[0] == "tests"
            allowed = PUBLIC_KERNEL_MODULES_IN_TESTS if in_tests else PUBLIC_KERNEL_MODULES
            for imp in _imports(path):
                top = imp.module.split(".")[0]
                if top == KERNEL and not _public_kernel(imp.module, allowed):
                    problems.append(f"{path}:{imp.line}: imports the kernel's internal module {imp.module} "
                                    f"(plugins use {', '.join(allowed)})")
                other = owner.get(top)
                if other is None or other is plugin:
                    continue
                if other.distribution not in plugin.dependencies:
                    problems.append(f"{path}:{imp.line}: imports {top} but {plugin.distribution} does not "
                                    f"declare {other.distribution} as a dependency")
                if imp.module != top:
                    problems.append(f"{path}:{imp.line}: imports {imp.module}, a module inside {top}; "
                                    f"import its public names from {top}")
                    continue
                private = sorted(set(imp.names) - _exported(other.folder / top))
                if private:
                    problems.append(f"{path}:{imp.line}: imports {', '.join(private)} from {top}, "
                                    f"which does not list them in __all__")
    graph = {p.distribution: {d for d in p.dependencies if d in {q.distribution for q in plugins}} for p in plugins}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        problems.append(f"the plugin distributions depend on each other in a cycle: {' -> '.join(exc.args[1])}")
    return problems
