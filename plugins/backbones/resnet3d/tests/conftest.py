from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_resnet3d" / "examples"


@pytest.fixture(scope="session")
def examples() -> Path:
    return EXAMPLES
