"""One in-repo plugin pip-installed alone into a venv that has only the kernel, then uninstalled.

The venv sees the kernel and the third-party packages of the test environment through a view
of its site-packages that leaves out every other actioncore plugin distribution.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from actioncore.plugin.manifests import read_manifest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SINGLE = {  # distribution: the in-repo distributions it depends on, installed with it
    "actioncore-toy3d": (),
    # its pathways are built from resnet3d's blocks; its examples' head is actioncore-cls-heads'
    "actioncore-slowfast": ("actioncore-resnet3d", "actioncore-cls-heads"),
}
IN_REPO = {m.distribution: m for m in (read_manifest(p.parent, shown_as=p.parent.relative_to(REPO))
                                       for p in REPO.glob("plugins/*/*/pyproject.toml")) if m is not None}


def _kernel_only_venv(make_venv, root: Path) -> Path:
    kernel_info = f"actioncore-{metadata.version('actioncore')}.dist-info"
    # editable installs, the kernel's included, come back through REPO
    return make_venv(root, keep=lambda name: name == kernel_info, paths=[REPO])


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD")}
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.mark.parametrize("distribution", SINGLE)
def test_installing_one_plugin_alone_shows_exactly_its_components(distribution, tmp_path, make_venv):
    folder, provided = IN_REPO[distribution].folder, IN_REPO[distribution].provides
    dependencies = SINGLE[distribution]
    python = _kernel_only_venv(make_venv, tmp_path)
    before = json.loads(_run(python, "-m", "actioncore", "components", "--json", cwd=tmp_path).stdout)
    assert {c["distribution"] for entries in before.values() for c in entries} == {"actioncore"}
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                                "--no-deps", "--no-build-isolation", "--no-index", str(REPO / folder),
                                *(str(REPO / IN_REPO[d].folder) for d in dependencies)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    after = json.loads(_run(python, "-m", "actioncore", "components", "--json", cwd=tmp_path).stdout)
    mine = {kind: sorted(c["name"] for c in entries if c["distribution"] == distribution) for kind, entries in after.items()}
    assert {k: v for k, v in mine.items() if v} == {k: sorted(v) for k, v in provided.items()}
    assert {c["distribution"] for entries in after.values() for c in entries} == {"actioncore", distribution,
                                                                                  *dependencies}

    kind, names = next(iter(provided.items()))
    experiment = tmp_path / "exp.toml"
    experiment.write_text(f'[plugins]\nrequire = ["{distribution}"]\n')
    assert _run(python, "-m", "actioncore", "config", str(experiment), cwd=tmp_path).returncode == 0
    removed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "uninstall", "--yes",
                              "--quiet", distribution], capture_output=True, text=True, timeout=600)
    assert removed.returncode == 0, removed.stderr
    missing = _run(python, "-m", "actioncore", "config", str(experiment), cwd=tmp_path)
    assert missing.returncode == 2
    assert f"requires {distribution}, which is not installed: pip install {distribution} " \
           f"(from a checkout: pip install -e {folder})" in missing.stderr


def test_a_plugin_copied_out_of_the_repository_passes_its_own_tests(tmp_path, make_venv):
    # x3d's tests read its shipped examples, build through the recognition task and the shared heads
    import shutil

    copy = tmp_path / "x3d"
    shutil.copytree(REPO / "plugins/backbones/x3d", copy, ignore=shutil.ignore_patterns("*.egg-info", "build"))
    python = _kernel_only_venv(make_venv, tmp_path)
    dependencies = [str(REPO / IN_REPO[d].folder) for d in ("actioncore-cls-heads", "actioncore-lists",
                                                             "actioncore-recognition")]
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                                "--no-deps", "--no-build-isolation", "--no-index", str(copy), *dependencies],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    tests = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=copy)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout.splitlines()[-1] and "failed" not in tests.stdout.splitlines()[-1]
