"""benchmarks/data_vs_mmaction2.py --busy: the CPU burner runs beside the block and is stopped
when it ends, also when it ends with an error (the benchmark itself needs MMAction2: not in CI)."""
import sys
import time
from pathlib import Path

import pytest

from .conftest import load_benchmark



@pytest.fixture(scope="module")
def data_benchmark():
    return load_benchmark("data_vs_mmaction2")


def _running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_burner_spins_beside_the_block_and_stops_on_error(data_benchmark):
    with pytest.raises(RuntimeError, match="stop"):
        with data_benchmark.cpu_burner(True) as busy:
            pid = busy["pid"]
            deadline = time.monotonic() + 10
            while data_benchmark.process_cpu_seconds(pid) < 0.2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _running(pid)
            raise RuntimeError("stop")
    assert not _running(pid)
    assert busy["burner_cpu_s"] >= 0.2 and 0 < busy["burner_core_share"] <= 1.05
    with data_benchmark.cpu_burner(False) as quiet:
        pass
    assert quiet == {}
