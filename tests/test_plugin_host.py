"""Discovery, failure isolation, attribution and conflicts of the plugin host."""
from __future__ import annotations

import json
import types

import pytest

import actioncore
from actioncore.errors import PluginError
from actioncore.plugin.host import PluginHost, use_host


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(source, module.__dict__)
    return module


def test_broken_plugins_are_recorded_and_the_rest_keeps_working(broken_site):
    host = PluginHost()
    failures = {f.distribution: f for f in host.registry.failures}
    assert set(failures) >= {"acme-import-error", "acme-hook-error", "acme-duplicate"}
    assert failures["acme-import-error"].stage == "import"
    assert "no module named acme_native" in failures["acme-import-error"].error
    assert failures["acme-import-error"].entry_point == "import_error = acme_import_error"
    assert failures["acme-hook-error"].stage == "hook actioncore_backbones"
    assert "backbone registry exploded" in failures["acme-hook-error"].error
    assert failures["acme-duplicate"].stage == "conflict"
    assert "acme-duplicate" in failures["acme-duplicate"].error
    assert "actioncore-toy3d" in failures["acme-duplicate"].error
    # healthy parts of partly broken plugins still register, attributed to their distribution
    head = host.registry.get("head", "hook_error_head")
    assert head.distribution == "acme-hook-error"
    assert host.registry.get("backbone", "duplicate_own").distribution == "acme-duplicate"
    assert host.registry.get("task", "echo").distribution == "acme-task"
    with use_host(host):
        assert actioncore.build("head", "linear_head", in_channels=4, num_classes=2).fc.out_features == 2


def test_using_a_component_of_a_failed_plugin_fails_with_its_recorded_error(broken_site):
    host = PluginHost()
    with pytest.raises(PluginError, match="backbone registry exploded"):
        host.registry.get("backbone", "hook_error_net")
    with pytest.raises(PluginError, match="no module named acme_native"):
        host.registry.get("decoder", "acme_native_decoder")
    with pytest.raises(PluginError, match="registered by more than one distribution: "
                                          "actioncore-toy3d 0.1.0 and acme-duplicate 1.0"):
        host.registry.get("backbone", "toy3d")


def test_autoload_can_be_disabled_and_plugins_registered_explicitly(broken_site, monkeypatch):
    monkeypatch.setenv("ACTIONCORE_DISABLE_PLUGIN_AUTOLOAD", "1")
    host = PluginHost()
    assert host.failures == []
    assert list(host.distributions()) == ["actioncore"]
    assert host.registry.names("backbone") == []
    host.register("actioncore_toy3d.hooks")
    assert host.registry.get("backbone", "toy3d").distribution == "actioncore-toy3d"


def test_disabled_plugins_env_skips_named_distributions(broken_site, monkeypatch):
    monkeypatch.setenv("ACTIONCORE_DISABLED_PLUGINS", "acme-duplicate, import_error")
    host = PluginHost()
    assert {f.distribution for f in host.registry.failures} == {"acme-hook-error"}
    assert host.registry.get("backbone", "toy3d").distribution == "actioncore-toy3d"
    assert any("acme-duplicate" in d for d in host.disabled)


def test_misspelled_and_unmarked_hooks_are_failures_not_silence():
    host = PluginHost(autoload=False)
    typo = _module("typo_plugin", "import actioncore\n@actioncore.hookimpl\n"
                                  "def actioncore_backbone():\n    return {}\n")
    unmarked = _module("unmarked_plugin", "def actioncore_heads():\n    return {'x': dict}\n")
    assert host.register(typo, distribution="typo") is None
    assert host.register(unmarked, distribution="unmarked") is None
    errors = {f.distribution: f.error for f in host.failures}
    assert "actioncore_backbone (did you mean actioncore_backbones?)" in errors["typo"]
    assert "not marked with @actioncore.hookimpl" in errors["unmarked"]


def test_hook_returning_a_non_mapping_is_recorded():
    host = PluginHost(autoload=False)
    host.register(_module("listy", "import actioncore\n@actioncore.hookimpl\n"
                                   "def actioncore_heads():\n    return ['a']\n"), distribution="listy")
    (failure,) = host.registry.failures
    assert failure.stage == "hook actioncore_heads" and "expected a mapping" in failure.error


def test_unknown_name_lists_available_close_matches_and_install_hint():
    host = PluginHost(autoload=False)
    with pytest.raises(PluginError) as info:
        host.registry.get("backbone", "toy3d")
    # toy3d is installed (dev/install) but this host loads no plugin
    assert "provided by actioncore-toy3d, which is installed but not loaded" in str(info.value)
    host.register("actioncore_toy3d.hooks")
    with pytest.raises(PluginError) as info:
        host.registry.get("backbone", "toy_3d")
    message = str(info.value)
    assert "Did you mean 'toy3d'?" in message and "Available backbones: toy3d." in message


def test_unknown_kind_is_an_error():
    with pytest.raises(PluginError, match="Did you mean 'backbone'"):
        PluginHost(autoload=False).registry.names("backbones")


def test_banner_and_describe_name_loaded_distributions(broken_site):
    host = PluginHost()
    banner = host.banner()
    assert banner.startswith("plugins loaded: actioncore ")
    assert "actioncore-toy3d 0.1.0" in banner and "acme-import-error" in banner
    described = json.loads(json.dumps(host.describe()))
    toy = next(p for p in described["plugins"] if p["distribution"] == "actioncore-toy3d")
    assert toy["components"] == {"backbone": ["toy3d"], "head": ["linear_head"]}
    partial = next(p for p in described["plugins"] if p["distribution"] == "acme-hook-error")
    assert partial["status"] == "partial"
