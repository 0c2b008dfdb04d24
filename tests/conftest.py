"""Fixtures for kernel tests: fake installed distributions with entry points, and CLI runs."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from actioncore.builtin.synth import synthesize
from actioncore.testing import tiny_recognizer_toml

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


@pytest.fixture(autouse=True)
def weights_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty weights cache (ACTIONCORE_HOME), online: no test reads or
    writes the user's cache, and ``weights list`` shows nothing cached unless the test puts it there."""
    home = tmp_path_factory.mktemp("actioncore_home")
    monkeypatch.setenv("ACTIONCORE_HOME", str(home))
    monkeypatch.delenv("ACTIONCORE_OFFLINE", raising=False)
    return home


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


def run_actioncore(*args: str, env: dict[str, str] | None = None, check: bool = True,
                   cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m actioncore ARGS`` with a training-sized timeout; ``check`` asserts exit 0."""
    result = subprocess.run([sys.executable, "-m", "actioncore", *args], capture_output=True, text=True,
                            env=env, cwd=cwd, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture
def actioncore():
    """:func:`run_actioncore`, for tests that train through the command line."""
    return run_actioncore


@pytest.fixture
def echo_host(site_dir: SiteDir):
    """The process-wide host with the in-repo plugins and a tiny ``echo`` task discovered."""
    from actioncore.plugin.host import PluginHost, use_host

    site_dir.add("acme-task", {"acme_task": TASK_PLUGIN}, {"task": "acme_task"})
    with use_host(PluginHost()) as host:
        yield host


# -- a tiny recognition experiment on the embedded data set (engine and reliability tests) --


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    synthesize("recognition", root, seed=0, size="tiny")
    return root


PIPELINE = """[
  {{type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = {clips}, test_mode = {test}}},
  {{type = "decode"}},
  {{type = "resize", scale = [16, 16], keep_ratio = false}},
  {{type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]}},
  {{type = "format_shape", input_format = "NCTHW"}},
]"""


@pytest.fixture
def experiment_file(tiny_data):
    """``experiment_file(folder, epochs=2, extra="", workers=0, data="", test=False, root=None)``
    writes a tiny experiment on the tiny set (or on the copy of it at ``root``)."""
    return lambda folder, root=None, **kw: write_experiment(root or tiny_data, folder, **kw)


CHAOS_PLUGIN = """
import os, signal
import actioncore

@actioncore.hookimpl
def actioncore_after_iteration(run, outputs):
    if os.environ.get("CHAOS_KILL_AT") == str(run.iteration):
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("CHAOS_NAN_AT") == str(run.iteration):
        next(iter(run.model.parameters())).data.fill_(float("nan"))

@actioncore.hookimpl
def actioncore_checkpoint_saved(run, path, tags):
    if os.environ.get("CHAOS_KILL_AFTER_SAVING") == tags[0]:
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def chaos_env(site_dir):
    """Environment for CLI runs with a plugin that kills the process or poisons the weights."""
    site_dir.add("acme-chaos", {"acme_chaos": CHAOS_PLUGIN}, {"chaos": "acme_chaos"})
    return site_dir.env


def write_experiment(root: Path, folder: Path, *, epochs: int = 2, extra: str = "", workers: int = 0,
                     data: str = "", test: bool = False) -> Path:
    """The tiny experiment in ``folder/exp.toml``: ``data`` adds lines to ``[data]``, ``test`` a
    test split, ``extra`` tables at the end."""
    def split(name: str, test: bool) -> str:
        return textwrap.dedent(f"""
            [data.{name}]
            type = "video_list"
            ann_file = "{root / f'{name}.txt'}"
            root = "{root / 'videos'}"
            pipeline = {PIPELINE.format(clips=1, test='true' if test else 'false')}
        """)

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.toml"
    path.write_text('[task]\ntype = "recognition"\n' + tiny_recognizer_toml() + textwrap.dedent(f"""
        [data]
        batch_size = 8
        workers = {workers}
        [optim]
        lr = 0.05
        [schedule]
        epochs = {epochs}
        policy = "cosine"
        [runtime]
        work_dir = "{folder / 'wd'}"
        log_interval = 2
        deterministic = true
    """).replace("[data]\n", f"[data]\n{textwrap.dedent(data).strip()}\n", 1)
        + split("train", False) + split("val", True) + (split("test", True) if test else "") + textwrap.dedent(extra))
    return path


def third_party_venv(root: Path, *, keep: Callable[[str], bool] = lambda name: False,
                     paths: Sequence[Path] = ()) -> Path:
    """A venv without pip at ``root/venv`` (its python returned) that sees this environment's
    installed packages through a view of its site-packages, less editable installs, ``.pth``
    files and every actioncore distribution that ``keep`` (given the entry's name) does not
    accept; ``paths`` come before the view on its ``sys.path``. Installing into it with
    ``pip --python`` then reuses torch and the rest instead of downloading them."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv/bin/python"
    target = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    view = root / "view"
    view.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.startswith("__editable__") or entry.suffix == ".pth":
            continue
        if entry.name.lower().startswith("actioncore") and not keep(entry.name):
            continue
        (view / entry.name).symlink_to(entry)
    (target / "third_party_view.pth").write_text("".join(f"{p}\n" for p in (*paths, view)))
    return python


@pytest.fixture
def make_venv() -> Callable[..., Path]:
    """:func:`third_party_venv`."""
    return third_party_venv


@pytest.hookimpl(trylast=True)  # after `-m` deselection: the positions below are final
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist the tests marked ``slow`` (minutes each) are handed out first, so that the
    workers finish together instead of one running the longest training alone at the end.

    xdist's load scheduler first gives each worker a block of consecutive tests (a quarter of its
    share) and runs them in order, then hands out the rest one by one. The slow tests are spread
    longest first (``slow(seconds=N)``, else 60) onto the worker with the least work so far, and
    each worker's slow tests open its block, so that the longest trainings start at once on
    different workers rather than queue behind each other on one."""
    # the workers collect (the controller only schedules by position) and see their count here;
    # their config.option.numprocesses is None
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers < 1:
        return

    def seconds(item: pytest.Item) -> float:
        return float(item.get_closest_marker("slow").kwargs.get("seconds", 60))

    slow = sorted((i for i in items if i.get_closest_marker("slow")), key=seconds, reverse=True)
    light = [i for i in items if not i.get_closest_marker("slow")]
    queues: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for item in slow:
        k = loads.index(min(loads))
        queues[k].append(item)
        loads[k] += seconds(item)
    block = max(len(items) // workers // 4, 2)  # xdist's first chunk per worker (scheduler/load.py)
    laid: list[pytest.Item] = []
    for queue in queues:
        fill = max(block - len(queue), 0)
        laid += queue + light[:fill]
        light = light[fill:]
    items[:] = laid + light


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    """The script ``benchmarks/NAME.py`` as a module (benchmarks are scripts, not a package);
    its folder goes on ``sys.path`` as when it runs, for the scripts that import each other."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.append(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
