"""The in-repo plugin catalog (used for install hints) matches what the plugins register."""
from __future__ import annotations

import tomllib
from pathlib import Path

from actioncore.plugin.catalog import IN_REPO_PLUGINS
from actioncore.plugin.host import PluginHost

REPO = Path(__file__).resolve().parents[1]


def test_catalog_lists_every_in_repo_plugin_with_its_components():
    found = {}
    for pyproject in sorted(REPO.glob("plugins/*/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        found[project["name"]] = str(pyproject.parent.relative_to(REPO))
    assert {d: folder for d, (folder, _) in IN_REPO_PLUGINS.items()} == found
    host = PluginHost(autoload=False)
    for dist, (folder, provided) in IN_REPO_PLUGINS.items():
        for module in tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]["entry-points"]["actioncore"].values():
            host.register(module)
        host.registry  # components are attributed when the registry is collected
        registered = {r.distribution: r.components for r in host.records}
        assert {k: sorted(v) for k, v in registered[dist].items()} == {k: sorted(v) for k, v in provided.items()}
