"""Checking a plugin's ``[tool.actioncore.provides]`` manifest against what its hooks register."""
from __future__ import annotations

import tomllib
from pathlib import Path

from ..plugin.host import PluginHost
from ..plugin.manifests import read_manifest


def registered_components(folder: str | Path) -> dict[str, list[str]]:
    """``{kind: sorted names}`` that the hook modules named by ``folder``'s entry points register."""
    folder = Path(folder)
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    modules = project.get("entry-points", {}).get("actioncore", {})
    host = PluginHost(autoload=False)
    for module in modules.values():
        host.register(module, distribution=project["name"])
    host.registry  # names are attributed to their distribution when the registry is collected
    assert not host.failures, f"{project['name']}: " + "; ".join(f.describe() for f in host.failures)
    records = {r.distribution: r.components for r in host.records}
    return {kind: sorted(names) for kind, names in records.get(project["name"], {}).items() if names}


def assert_manifest_matches(folder: str | Path) -> None:
    """The plugin in ``folder`` says in ``[tool.actioncore.provides]`` exactly what it registers,
    so that install hints (``unknown backbone 'x' ... pip install ...``) are right."""
    manifest = read_manifest(Path(folder))
    assert manifest is not None, f"{folder}/pyproject.toml has no [tool.actioncore.provides] table"
    declared = {kind: sorted(names) for kind, names in manifest.provides.items() if names}
    registered = registered_components(folder)
    assert declared == registered, (f"{manifest.distribution}: [tool.actioncore.provides] says {declared}, "
                                    f"its hooks register {registered}")
