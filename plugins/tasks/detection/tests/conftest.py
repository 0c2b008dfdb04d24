from pathlib import Path

import pytest

from actioncore.sdk.data import synthesize


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory) -> Path:
    """``data/synth_det`` (the embedded detection set) under a folder the example paths start at."""
    base = tmp_path_factory.mktemp("det")
    synthesize("detection", base / "data" / "synth_det", seed=0)
    return base
