"""Every hook is documented, and the lifecycle facade calls each with the documented arguments."""
from __future__ import annotations

import inspect
import types
from pathlib import Path

import pytest

from actioncore import hookspecs
from actioncore.lifecycle import RunState
from actioncore.plugin.host import PluginHost

HOOKS = [n for n, f in vars(hookspecs).items() if n.startswith("actioncore_") and inspect.isfunction(f)]


def test_registration_hooks_cover_every_kind():
    assert set(hookspecs.REGISTRATION_HOOKS.values()) <= set(HOOKS)
    assert {"backbone", "head", "neck", "dataset", "transform", "decoder", "task", "metric"} <= set(hookspecs.KINDS)


@pytest.mark.parametrize("name", HOOKS)
def test_hookspec_is_documented_and_typed(name):
    func = getattr(hookspecs, name)
    doc = inspect.getdoc(func) or ""
    assert "Who implements this" in doc, f"{name} does not say who implements it"
    signature = inspect.signature(func)
    assert signature.return_annotation is not inspect.Signature.empty
    for param in signature.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{name}({param.name}) is untyped"
        assert f":param {param.name}:" in doc, f"{name} does not document {param.name}"


def test_lifecycle_facade_calls_every_lifecycle_hook(tmp_path):
    calls = []
    plugin = types.ModuleType("recorder")
    import actioncore

    def recorder(hook_name):
        names = list(inspect.signature(getattr(hookspecs, hook_name)).parameters)
        scope = {"calls": calls}
        exec(f"def {hook_name}({', '.join(names)}):\n"
             f"    calls.append(({hook_name!r}, dict({', '.join(f'{n}={n}' for n in names)})))", scope)
        return actioncore.hookimpl(scope[hook_name])

    lifecycle_hooks = [h for h in HOOKS if h not in hookspecs.REGISTRATION_HOOKS.values()]
    for hook_name in lifecycle_hooks:
        setattr(plugin, hook_name, recorder(hook_name))
    host = PluginHost(autoload=False)
    assert host.register(plugin, distribution="recorder") is not None, host.failures
    run = RunState(experiment=None, work_dir=tmp_path / "wd", iteration=3)
    host.lifecycle.run_start(run)
    host.lifecycle.after_iteration(run, {"loss": 1.5})
    host.lifecycle.after_epoch(run)
    host.lifecycle.after_evaluation(run, "val", {"top1": 0.5})
    host.lifecycle.checkpoint_saved(run, Path("wd/latest.pth"), ["latest"])
    error = RuntimeError("boom")
    host.lifecycle.run_end(run, "failed", error)
    assert [c[0] for c in calls] == ["actioncore_run_start", "actioncore_after_iteration",
                                     "actioncore_after_epoch", "actioncore_after_evaluation",
                                     "actioncore_checkpoint_saved", "actioncore_run_end"]
    assert sorted(c[0] for c in calls) == sorted(lifecycle_hooks)
    assert calls[1][1] == {"run": run, "outputs": {"loss": 1.5}}
    assert calls[3][1] == {"run": run, "split": "val", "metrics": {"top1": 0.5}}
    assert calls[4][1] == {"run": run, "path": "wd/latest.pth", "tags": ("latest",)}
    assert calls[5][1] == {"run": run, "status": "failed", "error": error}
