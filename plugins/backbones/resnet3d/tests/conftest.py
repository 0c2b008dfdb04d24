from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "recognition"


@pytest.fixture(scope="session")
def examples() -> Path:
    return EXAMPLES
