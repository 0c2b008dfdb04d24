import pytest


@pytest.fixture(autouse=True, scope="module")
def single_thread(torch_one_thread):
    """Tiny models gain nothing from intra-op threads (actioncore's ``torch_one_thread``)."""
