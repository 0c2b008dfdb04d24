"""``actioncore plugin new``: the generated package installs, is discovered and passes its tests."""
from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
import tomllib

import pytest

from actioncore.cli import main
from actioncore.plugin.host import PluginHost, use_host
from actioncore.plugin.scaffold import EXAMPLE_TABLES, SUPPORTED_KINDS
from actioncore.testing import assert_component_contract


@pytest.mark.parametrize("kind", SUPPORTED_KINDS)
def test_scaffold_of_every_kind_honours_the_contract(kind, tmp_path, monkeypatch, capsys):
    name = f"demo_{kind}"
    assert main(["plugin", "new", name, "--kind", kind, "--out", str(tmp_path), "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    root = tmp_path / f"actioncore-demo-{kind}"
    assert created["path"] == str(root) and created["distribution"] == f"actioncore-demo-{kind}"
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["actioncore"] == {name: f"actioncore_{name}.hooks"}
    monkeypatch.syspath_prepend(str(root))
    hooks = importlib.import_module(f"actioncore_{name}.hooks")
    host = PluginHost(autoload=False)
    host.register(hooks, distribution=created["distribution"])
    with use_host(host):
        assert assert_component_contract(host, kind, name, EXAMPLE_TABLES[kind]) is not None
        # the generated test's own checks of the built component (how the kernel calls it) pass
        spec = importlib.util.spec_from_file_location(f"generated_{name}", root / "tests" / f"test_{name}.py")
        generated = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(generated)
        generated.test_component_honours_the_contract(host)


def test_scaffold_rejects_bad_names_kinds_and_existing_folders(tmp_path, capsys):
    assert main(["plugin", "new", "Acme-1", "--kind", "backbone", "--out", str(tmp_path)]) == 2
    assert "lower-case letters" in capsys.readouterr().err
    assert main(["plugin", "new", "acme", "--kind", "dataset_thing", "--out", str(tmp_path)]) == 2
    assert "supported kinds are backbone" in capsys.readouterr().err
    assert main(["plugin", "new", "acme", "--kind", "head", "--out", str(tmp_path)]) == 0
    assert main(["plugin", "new", "acme", "--kind", "head", "--out", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_scaffold_round_trip_through_pip_install(tmp_path, site_dir, cli):
    assert main(["plugin", "new", "acme", "--kind", "backbone", "--out", str(tmp_path)]) == 0
    root = tmp_path / "actioncore-acme"
    installed = _pip("install", "--no-deps", "--no-build-isolation", "--quiet", str(root))
    assert installed.returncode == 0, installed.stderr
    try:
        listed = cli("components", "backbone", "--json", env=site_dir.env())
        assert listed.returncode == 0, listed.stderr
        entry = next(c for c in json.loads(listed.stdout)["backbone"] if c["name"] == "acme")
        assert entry["distribution"] == "actioncore-acme" and entry["version"] == "0.1.0"
        # its own tests pass against the installed package, run from the package folder
        tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                               cwd=root, capture_output=True, text=True, timeout=300, env=site_dir.env())
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert "3 passed" in tests.stdout
    finally:
        _pip("uninstall", "--yes", "--quiet", "actioncore-acme")


def test_scaffold_accepts_dashes_in_the_name(tmp_path, capsys):
    assert main(["plugin", "new", "my-net", "--kind", "head", "--out", str(tmp_path), "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["distribution"] == "actioncore-my-net" and created["package"] == "actioncore_my_net"
    project = tomllib.loads((tmp_path / "actioncore-my-net" / "pyproject.toml").read_text())
    assert project["project"]["name"] == "actioncore-my-net"
    assert project["project"]["entry-points"]["actioncore"] == {"my_net": "actioncore_my_net.hooks"}
    assert project["tool"]["actioncore"]["provides"] == {"head": ["my_net"]}
    assert "class MyNetHead" in (tmp_path / "actioncore-my-net" / "actioncore_my_net" / "component.py").read_text()
    for bad in ("my--net", "my-", "my_-net", "my net"):
        assert main(["plugin", "new", bad, "--kind", "head", "--out", str(tmp_path)]) == 2
        assert "single '-' or '_'" in capsys.readouterr().err
