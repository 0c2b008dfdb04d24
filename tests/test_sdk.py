"""The plugin API: every public name resolves, and the Task protocol describes the in-repo tasks."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MODULES = ("actioncore.sdk", "actioncore.sdk.data", "actioncore.sdk.layers", "actioncore.sdk.weights",
           "actioncore.sdk.engine")


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_resolves(name):
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if getattr(module, n, None) is None]
    assert missing == [] and module.__doc__


def test_importing_the_sdk_does_not_import_torch():
    code = "import sys, actioncore.sdk; from actioncore.sdk import hookimpl, Factory; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


@pytest.mark.actioncore_plugins("actioncore_recognition.hooks", "actioncore_bsn_pgm.hooks")
def test_task_protocol(actioncore_host):
    from actioncore.sdk import Task, build

    assert isinstance(build("task", "recognition"), Task)
    # a task may leave out steps: BSN's PGM only runs, and the kernel says so when asked to evaluate
    pgm = build("task", "bsn_pgm", tem_results_dir="t", ann_files=["a.json"])
    assert not isinstance(pgm, Task) and callable(pgm.run)
