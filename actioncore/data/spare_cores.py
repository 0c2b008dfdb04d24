"""How many of its CPUs other processes leave to this one, measured from the kernel's CPU counters.

A second thread of work pays only where a core would otherwise idle: on a 2-core machine with a
busy neighbour, a helper thread competes with the neighbour and the hand-offs between threads
wait for wake-ups (the deferred read of a SlowFast clip: 1.24-1.28x with a free core, 0.98-1.0x
without; a first design lost 8.5% there). The load average
lags by a minute; the idle counters in ``/proc/stat`` answer for the last fraction of a second.
This process's own CPU time is left out, so its own helper threads never make it look busy.
Linux only; elsewhere the answer is "unknown" and callers stay on one thread.
"""
from __future__ import annotations

import os
import time

__all__ = ["SpareCores", "spare_cores"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _usable_cpus(cpu_max: str) -> tuple[set[int], float]:
    """This process's CPU set, and the cores its cgroup (v2) quota allows (can be fewer)."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    limit = float(len(cpus))
    try:
        with open(cpu_max) as f:
            quota, period = f.read().split()
        if quota != "max":
            limit = min(limit, int(quota) / int(period))
    except (OSError, ValueError):
        pass
    return cpus, limit


class SpareCores:
    """Cores of this process's CPU set not used by other processes, averaged over the time since
    the previous reading once at least ``interval`` seconds have passed (the previous answer
    until then). ``None`` where the counters cannot be read, or before a first interval."""

    def __init__(self, *, interval: float = 0.25, stat: str = "/proc/stat",
                 own_stat: str = "/proc/self/stat", cpu_max: str = "/sys/fs/cgroup/cpu.max") -> None:
        self.interval = interval
        self._stat, self._own_stat = stat, own_stat
        self._cpus, self._limit = _usable_cpus(cpu_max)
        self._last = self._read()
        self._estimate: float | None = None

    def estimate(self) -> float | None:
        if self._last is None:
            return None
        now = time.monotonic()
        if now - self._last[0] < self.interval:
            return self._estimate
        reading = self._read()
        if reading is None:
            self._last = None
            return None
        (then, busy_then, own_then), (now, busy, own) = self._last, reading
        if now <= then:
            return self._estimate
        others = max(0, (busy - busy_then) - (own - own_then)) / _TICKS / (now - then)
        self._last = reading
        self._estimate = max(0.0, self._limit - others)
        return self._estimate

    def _read(self) -> tuple[float, int, int] | None:
        """(monotonic seconds, busy ticks of the CPU set, this process's ticks)."""
        try:
            with open(self._stat, "rb") as f:
                lines = f.read().splitlines()
            with open(self._own_stat, "rb") as f:
                own_fields = f.read().rpartition(b")")[2].split()
        except OSError:
            return None
        busy = 0
        for line in lines[1:]:
            if not line.startswith(b"cpu"):
                break
            name, *fields = line.split()
            if int(name[3:]) in self._cpus:
                # user nice system idle iowait irq softirq steal: all but idle and iowait are busy
                ticks = [int(v) for v in fields[:8]]
                busy += sum(ticks) - ticks[3] - ticks[4]
        # After "pid (comm)": state is field 3, utime and stime fields 14 and 15 of proc(5).
        own = int(own_fields[11]) + int(own_fields[12])
        return time.monotonic(), busy, own


_sensor: tuple[int, SpareCores] | None = None


def spare_cores() -> SpareCores:
    """This process's sensor (a forked loader worker makes its own)."""
    global _sensor
    if _sensor is None or _sensor[0] != os.getpid():
        _sensor = (os.getpid(), SpareCores())
    return _sensor[1]
