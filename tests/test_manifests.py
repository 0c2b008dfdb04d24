"""Every in-repo plugin's manifest says what it registers; install hints come from manifests alone."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from actioncore.errors import PluginError
from actioncore.plugin import manifests
from actioncore.plugin.host import PluginHost
from actioncore.testing import assert_manifest_matches

REPO = Path(__file__).resolve().parents[1]
FOLDERS = sorted(p.parent for p in REPO.glob("plugins/*/*/pyproject.toml"))


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_manifest_matches_what_the_plugin_registers(folder):
    assert_manifest_matches(folder)


def test_a_wrong_manifest_is_caught(tmp_path):
    folder = tmp_path / "toy3d"
    folder.mkdir()
    text = (REPO / "plugins/backbones/toy3d/pyproject.toml").read_text()
    (folder / "pyproject.toml").write_text(text.replace('backbone = ["toy3d"]', 'backbone = ["toy3d", "ghost"]'))
    with pytest.raises(AssertionError, match="ghost"):
        assert_manifest_matches(folder)


def test_the_kernel_keeps_no_table_of_plugins():
    kernel = REPO / "actioncore"
    mentioned = [str(p.relative_to(REPO)) for p in kernel.rglob("*.py")
                 if any(f"plugins/{kind}/" in p.read_text() for kind in ("backbones", "heads", "datasets", "tasks"))]
    assert mentioned == []


def test_hint_for_a_plugin_found_only_in_an_installed_folder(tmp_path, monkeypatch):
    # a plugin installed from a folder (PEP 610 direct_url.json) is found through its metadata
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "actioncore-acme"
        [tool.actioncore.provides]
        backbone = ["acme_net"]
    """))

    class Dist:
        metadata = {"Name": "actioncore-acme"}

        @staticmethod
        def read_text(name):
            return json.dumps({"url": folder.as_uri(), "dir_info": {"editable": True}}) if name == "direct_url.json" else None

    class EntryPoint:
        dist = Dist()

    monkeypatch.setattr(manifests.metadata, "entry_points", lambda group: [EntryPoint()])
    manifests.manifests.cache_clear()
    try:
        host = PluginHost(autoload=False)
        with pytest.raises(PluginError, match=r"It is provided by actioncore-acme, which is installed but not"):
            host.registry.get("backbone", "acme_net")
    finally:
        manifests.manifests.cache_clear()
