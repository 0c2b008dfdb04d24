"""Fixtures for kernel tests: fake installed distributions with entry points, and CLI runs."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TASK_PLUGIN = '''
import json
from pathlib import Path
import actioncore

class EchoTask:
    """A task that records what it was asked to do: enough to test the kernel's run path."""

    def __init__(self, *, greeting: str = "hello"):
        self.greeting = greeting

    def run(self, experiment, *, resume=False):
        work_dir = Path(experiment.runtime.work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        (work_dir / "echo.json").write_text(json.dumps({"greeting": self.greeting, "resume": resume}))
        return {"top1": 1.0}

@actioncore.hookimpl
def actioncore_tasks():
    return {"echo": EchoTask}
'''


class SiteDir:
    """A folder on sys.path holding fake installed distributions (dist-info + modules)."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, dist: str, modules: dict[str, str], entry_points: dict[str, str],
            version: str = "1.0") -> None:
        for name, source in modules.items():
            path = self.root / (name.replace(".", "/") + ".py")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
        (info / "entry_points.txt").write_text(f"[actioncore]\n{lines}")
        importlib.invalidate_caches()

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.pop("ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD", None)
        env.update(extra)
        return env


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SiteDir:
    site = SiteDir(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site.root))
    monkeypatch.delenv("ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("ACTIONCORE_DISABLED_PLUGINS", raising=False)
    return site


@pytest.fixture
def broken_site(site_dir: SiteDir) -> SiteDir:
    """Three broken plugins beside a healthy one: import error, raising hook, duplicate name."""
    site_dir.add("acme-import-error", {"acme_import_error": "raise ImportError('no module named acme_native')"},
                 {"import_error": "acme_import_error"})
    site_dir.add("acme-hook-error", {"acme_hook_error": '''
        import actioncore

        @actioncore.hookimpl
        def actioncore_backbones():
            raise RuntimeError("backbone registry exploded")

        @actioncore.hookimpl
        def actioncore_heads():
            return {"hook_error_head": dict}
        '''}, {"hook_error": "acme_hook_error"})
    site_dir.add("acme-duplicate", {"acme_duplicate": '''
        import actioncore

        @actioncore.hookimpl
        def actioncore_backbones():
            return {"toy3d": dict, "duplicate_own": dict}
        '''}, {"duplicate": "acme_duplicate"})
    site_dir.add("acme-task", {"acme_task": TASK_PLUGIN}, {"task": "acme_task"})
    return site_dir


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actioncore", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def echo_host(site_dir: SiteDir):
    """The process-wide host with the in-repo plugins and a tiny ``echo`` task discovered."""
    from actioncore.plugin.host import PluginHost, use_host

    site_dir.add("acme-task", {"acme_task": TASK_PLUGIN}, {"task": "acme_task"})
    with use_host(PluginHost()) as host:
        yield host
