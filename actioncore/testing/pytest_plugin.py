"""pytest plugin for plugin authors (registered through the ``pytest11`` entry point)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ..plugin.host import PluginHost, use_host

if TYPE_CHECKING:
    from .fileserver import FileServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("actioncore_plugins", type="linelist", default=[],
                  help="hook modules the actioncore_host fixture registers, e.g. acme_actioncore.hooks")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "actioncore_plugins(*modules): hook modules for actioncore_host")
    _share_cores_between_xdist_workers()


def _share_cores_between_xdist_workers() -> None:
    """Under pytest-xdist (``-n N``) each worker computes with an equal share of the cores as
    intra-op threads: N workers with a thread per core each would oversubscribe the machine N
    times, and OpenMP threads spin badly when they share cores. Processes a test starts (trainings
    through the command line) get the same share through ``OMP_NUM_THREADS`` unless it is set:
    with every core each, a training beside the other workers' tests ran 2x slower than its CPU
    time (the TSM temporal-modelling test: 722 s in CI for about 6 CPU minutes)."""
    import os

    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not workers or not workers.isdigit():
        return
    import torch  # only in xdist workers: a plain pytest run in an environment with actioncore stays light

    share = max(1, (os.cpu_count() or 1) // int(workers))
    torch.set_num_threads(share)
    os.environ.setdefault("OMP_NUM_THREADS", str(share))


@pytest.fixture
def actioncore_plugin_modules(request: pytest.FixtureRequest) -> list[str]:
    """The plugin modules under test; override this fixture in a conftest to choose them."""
    marker = request.node.get_closest_marker("actioncore_plugins")
    if marker is not None:
        return list(marker.args)
    return list(request.config.getini("actioncore_plugins"))


@pytest.fixture
def actioncore_host(actioncore_plugin_modules: list[str]) -> Iterator[PluginHost]:
    """A plugin host without discovery that has exactly the plugins under test registered."""
    host = PluginHost(autoload=False)
    for module in actioncore_plugin_modules:
        host.register(module)
    with use_host(host):
        yield host


@pytest.fixture(scope="module")
def torch_one_thread() -> Iterator[None]:
    """One intra-op thread for the module's tests, restored afterwards. Tiny models gain nothing
    from more, OpenMP threads spin badly when test suites share the cores, and PyTorch's CPU
    convolution dispatch depends on the thread count (``actioncore.ops`` tests need one)."""
    import torch  # here, not at import: every pytest run in an environment with actioncore loads this plugin

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def weights_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    """A :class:`~actioncore.testing.fileserver.FileServer` on the loopback serving a fresh empty
    folder (``weights_server.root``: put checkpoints there), stopped after the test. Register a zoo
    entry with ``url=weights_server.url("file.pth")`` to test downloads without the internet; the
    server counts requests, records their ``Range`` headers and can drop connections
    (``drop_after``) or serve wrong bytes (``serve_wrong_bytes``)."""
    from .fileserver import FileServer

    with FileServer(tmp_path_factory.mktemp("weights_server")) as server:
        yield server
