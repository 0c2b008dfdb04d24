"""Every distribution (the kernel and each plugin) is a complete package on its own.

Read from the pyproject files and the source, without building: the license file ships, the
README is the long description, the metadata is complete and consistent, every third-party
module the code imports is a declared dependency (and the kernel declares none it does not
import), every dependency on the kernel or a sibling has a version range, and a model plugin
depends on everything its shipped examples name, so that ``pip install actioncore-<model>``
and running one of its examples needs nothing else. tests/test_wheelhouse.py builds the wheels
and installs one plugin from them into a fresh environment.
"""
from __future__ import annotations

import ast
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
import trove_classifiers
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from actioncore.config.loading import read_experiment
from actioncore.plugin.host import PluginHost
from actioncore.plugin.manifests import read_manifest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = [REPO, *sorted(p.parent for p in REPO.glob("plugins/*/*/pyproject.toml"))]
KERNEL = "actioncore"
SPLITS = ("train", "val", "test", "unlabeled")

MODULE_TO_DISTRIBUTION = {"PIL": "pillow", "tomli_w": "tomli-w", "tensorboardX": "tensorboardx"}
"""Import names that differ from their distribution's; the installed metadata answers the rest."""


def _id(folder: Path) -> str:
    return "kernel" if folder == REPO else folder.name


@cache
def project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())


def _name(folder: Path) -> str:
    return canonicalize_name(project(folder)["project"]["name"])


DISTRIBUTIONS = {_name(f): f for f in FOLDERS}


def requirements(folder: Path, *, extras: bool = False) -> list[Requirement]:
    meta = project(folder)["project"]
    texts = list(meta.get("dependencies", []))
    if extras:
        texts += [t for group in meta.get("optional-dependencies", {}).values() for t in group]
    return [Requirement(t) for t in texts]


def closure(name: str) -> set[str]:
    """``name`` and every in-repo distribution it depends on, directly or through others."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += [canonicalize_name(r.name) for r in requirements(DISTRIBUTIONS[current])
                     if canonicalize_name(r.name) in DISTRIBUTIONS]
    return seen


def packages(folder: Path) -> list[str]:
    return [p.rstrip("*") for p in project(folder)["tool"]["setuptools"]["packages"]["find"]["include"]]


def imported_modules(folder: Path) -> dict[str, str]:
    """Top-level module of every absolute import in the package code -> a file importing it."""
    found: dict[str, str] = {}
    for package in packages(folder):
        for path in sorted((folder / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for top in {n.split(".")[0] for n in names} - set(sys.stdlib_module_names) - {package}:
                    found.setdefault(top, str(path.relative_to(REPO)))
    return found


@cache
def _installed_modules() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def distribution_of(module: str) -> str:
    known = MODULE_TO_DISTRIBUTION.get(module) or next(iter(_installed_modules().get(module, [])), None)
    assert known, f"no distribution known for the module '{module}': add it to MODULE_TO_DISTRIBUTION"
    return canonicalize_name(known)


@pytest.mark.parametrize("folder", FOLDERS, ids=_id)
def test_license_readme_and_metadata_are_complete(folder):
    meta = project(folder)["project"]
    name = meta["name"]
    assert project(folder)["build-system"]["requires"] == ["setuptools>=77"]  # PEP 639 license expressions
    assert (meta["license"], meta["license-files"]) == ("Apache-2.0", ["LICENSE"]), name
    assert (folder / "LICENSE").read_bytes() == (REPO / "LICENSE").read_bytes(), name
    assert "Apache License\n                           Version 2.0, January 2004" in (REPO / "LICENSE").read_text()
    assert meta["readme"] == {"file": "README.md", "content-type": "text/markdown"}, name
    readme = (folder / "README.md").read_text()
    assert readme.startswith("# ") and len(readme) > 500, f"{name}: README.md is its PyPI page; say what it does"
    assert len(meta["description"]) > 20 and meta["requires-python"] == ">=3.11"
    assert meta["authors"] and len(meta["keywords"]) >= 3
    assert meta["classifiers"] and set(meta["classifiers"]) <= trove_classifiers.classifiers, name
    assert not [c for c in meta["classifiers"] if c.startswith("License ::")]  # the expression says it (PEP 639)
    assert "Programming Language :: Python :: 3.11" in meta["classifiers"]


@pytest.mark.parametrize("folder", FOLDERS, ids=_id)
def test_project_urls_point_at_one_place(folder):
    urls = project(folder)["project"]["urls"]
    home = project(REPO)["project"]["urls"]["Homepage"]
    assert list(urls) == ["Homepage", "Documentation", "Source", "Issues"]
    assert urls["Homepage"] == home and urls["Issues"] == f"{home}/issues"
    where = "" if folder == REPO else "/" + folder.relative_to(REPO).as_posix()
    assert urls["Source"] == f"{home}/tree/main{where}"
    assert urls["Documentation"] == (f"{home}/tree/main/docs" if folder == REPO else f"{urls['Source']}#readme")


@pytest.mark.parametrize("folder", FOLDERS, ids=_id)
def test_every_imported_third_party_module_is_declared(folder):
    declared = {canonicalize_name(r.name) for r in requirements(folder, extras=True)}
    missing = {m: f for m, f in imported_modules(folder).items() if distribution_of(m) not in declared}
    assert not missing, f"{_name(folder)} imports {missing} without declaring the distributions"


@pytest.mark.parametrize("folder", FOLDERS, ids=_id)
def test_no_third_party_dependency_is_declared_that_nothing_imports(folder):
    # siblings may be declared for the examples' sake; third-party packages only where imported
    imported = {distribution_of(m) for m in imported_modules(folder)}
    unused = [str(r) for r in requirements(folder) if canonicalize_name(r.name) not in DISTRIBUTIONS
              and canonicalize_name(r.name) not in imported]
    assert not unused, f"{_name(folder)} declares {unused}, which none of its modules imports"


@pytest.mark.parametrize("folder", FOLDERS[1:], ids=_id)
def test_dependencies_on_the_kernel_and_siblings_have_version_ranges(folder):
    kernel_floors = {canonicalize_name(r.name): r.specifier for r in requirements(REPO)}
    for requirement in requirements(folder):
        name = canonicalize_name(requirement.name)
        if name in DISTRIBUTIONS:
            target = Version(project(DISTRIBUTIONS[name])["project"]["version"])
            bounds = {s.operator for s in requirement.specifier}
            assert {">=", "<"} <= bounds, f"{_name(folder)}: '{requirement}' needs a range like '{name}>=0.1,<1'"
            assert requirement.specifier.contains(target), f"{_name(folder)}: '{requirement}' excludes {target}"
        else:  # third-party: the kernel's floor, where the kernel depends on it too
            assert requirement.specifier == kernel_floors.get(name, requirement.specifier), str(requirement)
            assert any(s.operator == ">=" for s in requirement.specifier), f"{_name(folder)}: '{requirement}'"
    assert KERNEL in {canonicalize_name(r.name) for r in requirements(folder)}


def test_the_dependency_graph_has_no_cycle():
    for name in DISTRIBUTIONS:
        others = {canonicalize_name(r.name) for r in requirements(DISTRIBUTIONS[name])} & set(DISTRIBUTIONS)
        assert not any(name in closure(o) for o in others), f"{name} depends on itself through {others}"


EXAMPLES = sorted((folder, path) for folder in FOLDERS[1:] for package in packages(folder)
                  for path in (folder / package / "examples").glob("*.toml"))


@pytest.mark.parametrize("folder", [f for f in FOLDERS[1:] if any(f == e[0] for e in EXAMPLES)], ids=_id)
def test_the_examples_ship_in_the_wheel(folder):
    data = project(folder)["tool"]["setuptools"]["package-data"]
    assert all("examples/*.toml" in data.get(package, []) for package in packages(folder)
               if (folder / package / "examples").is_dir()), _name(folder)


@cache
def _kernel_components() -> set[tuple[str, str]]:
    return {(c.kind, c.name) for c in PluginHost(autoload=False).registry.items()}


def named_components(table: dict) -> list[tuple[str, str]]:
    """(kind, name) of the components an experiment names at the fixed key paths."""
    model = table.get("model", {})
    named = [("task", table.get("task", {}).get("type")), ("model", model.get("type")),
             ("backbone", model.get("backbone", {}).get("type")), ("head", model.get("head", {}).get("type"))]
    for split in SPLITS:
        spec = table.get("data", {}).get(split, {})
        named.append(("dataset", spec.get("type")))
        named += [("transform", step.get("type")) for key in ("pipeline", "strong_pipeline")
                  for step in spec.get(key, [])]
    return [(kind, name) for kind, name in named if name]


@pytest.mark.parametrize("folder,path", EXAMPLES, ids=lambda v: v.stem if isinstance(v, Path) and v.suffix else "")
def test_a_plugin_depends_on_everything_its_examples_need(folder, path):
    table, _ = read_experiment(path)
    have = closure(_name(folder))
    required = {canonicalize_name(Requirement(r).name) for r in table.get("plugins", {}).get("require", [])}
    assert required <= have, f"{path.relative_to(REPO)} requires {sorted(required - have)}, which " \
                             f"{_name(folder)} does not depend on"
    provided = {(kind, name) for dist in have - {KERNEL}
                for kind, names in read_manifest(DISTRIBUTIONS[dist]).provides.items() for name in names}
    missing = [c for c in named_components(table) if c not in provided | _kernel_components()]
    assert not missing, f"{path.relative_to(REPO)} uses {missing}, which nothing {_name(folder)} depends on provides"
