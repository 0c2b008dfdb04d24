"""The kernel knows no plugin, plugins use only the public API and what they declare (docs/plugins.md)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import actioncore
from actioncore.testing.layering import find_plugins, layering_problems, read_plugin, run_import_linter

REPO = Path(__file__).resolve().parents[1]
KERNEL_DIR = Path(actioncore.__file__).parent


def test_import_linter_keeps_every_contract(tmp_path):
    result = run_import_linter(find_plugins(REPO), KERNEL_DIR, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: " in result.stdout and " broken" not in result.stdout.split("Contracts: ")[-1].split("kept")[0]


def test_no_import_breaks_a_rule_in_code_or_tests():
    assert layering_problems(find_plugins(REPO), KERNEL_DIR) == []


def _bad_plugin(tmp_path: Path) -> Path:
    folder = tmp_path / "plugins" / "backbones" / "badplug"
    (folder / "actioncore_badplug").mkdir(parents=True)
    (folder / "tests").mkdir()
    (folder / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "actioncore-badplug"
        version = "0.1"
        dependencies = ["actioncore", "actioncore-tsn"]
    """))
    (folder / "actioncore_badplug" / "__init__.py").write_text(textwrap.dedent("""
        from actioncore.data.sample import VideoSample
        from actioncore_tsm import ResNetTSM
        from actioncore_tsn.resnet import ResNet
        from actioncore_tsn import _private_name
    """))
    (folder / "tests" / "test_bad.py").write_text("from actioncore.engine.trainer import Trainer\n")
    return folder


def test_the_rules_catch_each_kind_of_bad_import(tmp_path):
    bad = read_plugin(_bad_plugin(tmp_path))
    problems = "\n".join(layering_problems([*find_plugins(REPO), bad], KERNEL_DIR))
    assert "imports the kernel's internal module actioncore.data.sample" in problems
    assert "imports actioncore_tsm but actioncore-badplug does not declare actioncore-tsm" in problems
    assert "imports actioncore_tsn.resnet, a module inside actioncore_tsn" in problems
    assert "imports _private_name from actioncore_tsn, which does not list them in __all__" in problems
    assert "test_bad.py:1: imports the kernel's internal module actioncore.engine.trainer" in problems


def test_a_dependency_cycle_is_reported(tmp_path):
    plugins = find_plugins(REPO)
    tsn = next(p for p in plugins if p.distribution == "actioncore-tsn")
    looped = [p if p is not tsn else type(p)(p.distribution, p.folder, p.packages, p.dependencies | {"actioncore-tsm"})
              for p in plugins]
    assert any("in a cycle" in p for p in layering_problems(looped, KERNEL_DIR))


def test_import_linter_breaks_on_a_plugin_that_reaches_into_the_kernel(tmp_path, monkeypatch):
    bad = read_plugin(_bad_plugin(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(bad.folder))
    result = run_import_linter([*find_plugins(REPO), bad], KERNEL_DIR, tmp_path)
    assert result.returncode == 1
    assert "actioncore_badplug -> actioncore.data.sample" in result.stdout
    assert "actioncore_badplug -> actioncore_tsm" in result.stdout
    assert "actioncore_badplug -> actioncore_tsn.resnet" in result.stdout
