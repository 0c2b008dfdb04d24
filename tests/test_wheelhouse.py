"""A model plugin installed from built wheels, alone, trains its shipped example outside the repo.

``dev/wheels`` builds the kernel's and the plugins' wheels (only those actioncore-slowfast pulls in,
to stay quick) and checks them with twine; pip then installs actioncore-slowfast from that
wheelhouse into a fresh venv, resolving its actioncore dependencies there (``--no-index``), while
torch and the other third-party packages come from this test environment through a view of its
site-packages that leaves out every actioncore distribution and editable install. In that venv,
with no checkout on ``sys.path``: ``actioncore examples --copy``, ``data synth`` and one epoch of
``actioncore run`` on the copied example.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "actioncore-slowfast"
PULLED_IN = {"actioncore", "actioncore-cls-heads", "actioncore-lists", "actioncore-recognition", "actioncore-resnet3d",
             PLUGIN}
"""What ``pip install actioncore-slowfast`` brings from the wheelhouse (its dependency closure)."""
EXAMPLE = "quickstart_slowfast"


def _dist_name(wheel: Path) -> str:
    return canonicalize_name(wheel.name.split("-")[0])


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("wheelhouse")
    built = subprocess.run(["bash", str(REPO / "dev/wheels"), str(out), *sorted(PULLED_IN)], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "PYTHON": sys.executable})
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out, built.stdout


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD",
                                                             "ACTIONCORE_DISABLED_PLUGINS")}
    result = subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def test_the_wheels_carry_license_readme_and_examples_and_pass_twine_check(wheelhouse):
    out, log = wheelhouse
    wheels = sorted(out.glob("*.whl"))
    assert {_dist_name(w) for w in wheels} == PULLED_IN
    assert log.count("PASSED") == len(wheels) and "WARNING" not in log and "ERROR" not in log
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
            headers, _, body = archive.read(f"{info}/METADATA").decode().partition("\n\n")
            assert archive.read(f"{info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
        fields = re.findall(r"^([\w-]+): (.*)$", headers, flags=re.M)
        assert ("License-Expression", "Apache-2.0") in fields and ("License-File", "LICENSE") in fields
        assert ("Description-Content-Type", "text/markdown") in fields
        assert len([v for k, v in fields if k == "Project-URL"]) == 4 and any(k == "Classifier" for k, _ in fields)
        folder = REPO if _dist_name(wheel) == "actioncore" else \
            next(p.parent for p in REPO.glob("plugins/*/*/pyproject.toml") if p.parent.name ==
                 _dist_name(wheel).removeprefix("actioncore-").replace("-", "_"))
        assert body.strip() == (folder / "README.md").read_text().strip()
        assert not [n for n in names if n.startswith(("tests/", "plugins/", "examples/"))]
    with zipfile.ZipFile(next(out.glob("actioncore_slowfast-*.whl"))) as archive:
        assert f"actioncore_slowfast/examples/{EXAMPLE}.toml" in archive.namelist()


def test_a_model_plugin_installs_from_the_wheelhouse_and_trains_its_example(wheelhouse, tmp_path, make_venv):
    out, _ = wheelhouse
    python = make_venv(tmp_path)  # torch and the rest from here, no actioncore distribution, no checkout
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                                "--disable-pip-version-check", "--no-index", "--find-links", str(out), PLUGIN],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    line = next(l for l in installed.stdout.splitlines() if l.startswith("Successfully installed"))
    assert {canonicalize_name(d.rsplit("-", 1)[0]) for d in line.split()[2:]} == PULLED_IN

    work = tmp_path / "user"
    work.mkdir()
    where = _run(python, "-c", "import actioncore, actioncore_slowfast, sys; "
                 "print(actioncore.__file__, actioncore_slowfast.__file__, *sys.path, sep='\\n')", cwd=work)
    site = str(tmp_path / "venv")
    assert all(p.startswith(site) for p in where.stdout.splitlines()[:2])
    assert not [p for p in where.stdout.splitlines()[2:] if p.startswith(str(REPO))]

    listed = json.loads(_run(python, "-m", "actioncore", "examples", "--json", "--copy", "configs", EXAMPLE,
                             cwd=work).stdout)
    assert [(e["name"], e["distribution"]) for e in listed] == [(EXAMPLE, PLUGIN)]
    assert listed[0]["path"].startswith(site)
    _run(python, "-m", "actioncore", "data", "synth", "recognition", "--out", "data/synth", "--size", "tiny",
         cwd=work)
    ran = _run(python, "-m", "actioncore", "run", f"configs/{EXAMPLE}.toml", "--work-dir", "run", "--json",
               "--set", "schedule.epochs=1", "--set", "schedule.warmup_epochs=0", "--set", "data.workers=0",
               "--set", "data.batch_size=8", "--set", "runtime.device='cpu'", cwd=work)
    metrics = json.loads(ran.stdout)
    assert 0.0 <= metrics["top1"] <= 1.0, metrics
    assert (work / "run/log.jsonl").is_file()
    assert "actioncore-slowfast 0.1.0" in (work / "run/log.jsonl").read_text() + ran.stderr
