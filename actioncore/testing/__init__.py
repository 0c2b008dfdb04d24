"""Tools for testing plugins: a pytest plugin (installed as ``pytest11``) and contract checks.

``actioncore_host`` is a fixture giving a :class:`~actioncore.plugin.host.PluginHost` that does
not auto-discover and registers exactly the plugin modules under test, named by the
``actioncore_plugins`` ini option, an ``@pytest.mark.actioncore_plugins("pkg.hooks")`` marker,
or an overridden ``actioncore_plugin_modules`` fixture. While the test runs it is the
process-wide host, so ``actioncore.build`` and ``load_config`` see exactly that plugin.

``weights_server`` is a fixture giving a :class:`FileServer`: a loopback HTTP server for zoo
entries' downloads (``Range`` requests, request counts, dropped connections, wrong bytes).
"""
from .contract import assert_component_contract
from .fileserver import FileServer
from .manifest import assert_manifest_matches
from .media import write_tone_video
from .training import fixed_batch_losses, tiny_recognizer_toml, tiny_run_toml
from .weights import count_parameters, randomise_norms

__all__ = ["write_tone_video", "FileServer", "assert_component_contract", "assert_manifest_matches", "count_parameters", "fixed_batch_losses",
           "randomise_norms", "tiny_recognizer_toml", "tiny_run_toml"]
