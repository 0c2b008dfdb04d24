"""The plugin-author kit: the actioncore_host fixture and the contract check catch real mistakes."""
from __future__ import annotations

import types

import pytest

from actioncore.plugin.host import PluginHost
from actioncore.testing import assert_component_contract

pytest_plugins = ["pytester"]


def _host_with(source: str) -> PluginHost:
    module = types.ModuleType("kit_plugin")
    exec("import actioncore\n" + source, module.__dict__)
    host = PluginHost(autoload=False)
    host.register(module, distribution="kit-plugin")
    return host


def test_contract_rejects_untyped_parameters():
    host = _host_with("class Net:\n    def __init__(self, *, width=3):\n        pass\n"
                      "@actioncore.hookimpl\ndef actioncore_backbones():\n    return {'net': Net}\n")
    with pytest.raises(AssertionError, match=r"without a type annotation: \['width'\]"):
        assert_component_contract(host, "backbone", "net")


def test_contract_rejects_defaults_that_do_not_fit_their_type():
    host = _host_with("class Net:\n    def __init__(self, *, width: int = 'wide'):\n        pass\n"
                      "@actioncore.hookimpl\ndef actioncore_backbones():\n    return {'net': Net}\n")
    with pytest.raises(AssertionError, match="width"):
        assert_component_contract(host, "backbone", "net")


def test_contract_reports_plugin_failures():
    host = _host_with("@actioncore.hookimpl\ndef actioncore_backbones():\n    raise ValueError('nope')\n")
    with pytest.raises(AssertionError, match="nope"):
        assert_component_contract(host, "backbone", "net")


def test_fixture_reads_the_ini_option(pytester):
    pytester.makeini("[pytest]\nactioncore_plugins =\n    actioncore_toy3d.hooks\n")
    pytester.makepyfile(test_it="""
        def test_host(actioncore_host):
            import actioncore
            assert list(actioncore_host.distributions()) == ["actioncore", "actioncore-toy3d"]
            assert actioncore.build("backbone", "toy3d").out_channels == 16
    """)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
