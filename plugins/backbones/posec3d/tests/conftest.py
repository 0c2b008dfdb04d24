import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Tiny models gain nothing from intra-op threads, and OpenMP threads spin badly when test
    suites share the cores; restored afterwards for other plugins' tests in the same session."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
