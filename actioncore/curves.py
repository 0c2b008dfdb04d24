"""``actioncore plot``: training curves (loss, learning rate, metrics) from a run's ``log.jsonl``.

The run loggers (``actioncore/builtin/loggers.py``) append one JSON object per event to
``WORK_DIR/log.jsonl``: ``train`` events every ``runtime.log_interval`` iterations (loss, lr,
clips/s, ...) and ``evaluation`` events after each validation and the test (metrics by split).
This draws one panel per quantity with matplotlib (the Agg canvas: no display needed), the x axis in
iterations or epochs. A resumed run appends to the same file, so its curves continue.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError, DataError

EXTRA = "actioncore[plot]"
PANEL_INCHES = (8.0, 2.5)
"""Width and height of one panel; the figure is one panel wide and one panel high per quantity."""
_NOT_METRICS = {"event", "time", "split", "epoch", "iteration", "skipped_samples"}
_TRAIN_PANELS = ("loss", "lr")

XAxis = Literal["iteration", "epoch"]


def read_log(path: Path) -> list[dict[str, Any]]:
    """The events of ``log.jsonl``; a missing, unreadable, empty or malformed file is a DataError naming it."""
    if not path.is_file():
        raise DataError(f"{path}: no such log; a run writes WORK_DIR/log.jsonl (is WORK_DIR a run's work dir?)",
                        path=str(path))
    events = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}", path=str(path)) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not a JSON object: {exc.msg}", path=str(path)) from None
        if not isinstance(event, dict) or "event" not in event:
            raise DataError(f"{path}:{number}: not a log event (no 'event' key)", path=str(path))
        events.append(event)
    if not any(e["event"] in ("train", "evaluation") for e in events):
        raise DataError(f"{path}: no training or evaluation events to plot (the run logged none yet)",
                        path=str(path))
    return events


def iterations_per_epoch(events: list[dict[str, Any]]) -> float | None:
    """From any event logged at an epoch's end (a checkpoint or an evaluation after epoch E >= 1)."""
    for e in events:
        if e["event"] in ("checkpoint", "evaluation") and isinstance(e.get("epoch"), int) and e["epoch"] >= 1:
            if e.get("iteration", 0) > 0 and e["iteration"] % e["epoch"] == 0:
                return e["iteration"] / e["epoch"]
    return None


def series(events: list[dict[str, Any]]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """``{quantity: {line label: [(iteration, value), ...]}}``: ``loss`` and ``lr`` of training
    (and every other logged training number), each metric with one line per split."""
    out: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for e in events:
        if e["event"] == "train":
            label = "train"
        elif e["event"] == "evaluation":
            label = e.get("split", "val")
        else:
            continue
        for key, value in e.items():
            if key in _NOT_METRICS or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                out[key][label].append((int(e.get("iteration", 0)), float(value)))
    return out


def plot_curves(work_dir: str | Path, out: str | Path, *, metrics: list[str] | None = None,
                x: XAxis = "iteration", dpi: int = 100) -> dict[str, Any]:
    """Draw ``WORK_DIR/log.jsonl`` into ``out`` (PNG, PDF or SVG by its suffix); returns a report.

    Panels: ``loss``, ``lr``, then every evaluation metric (or ``metrics``, in that order).
    """
    if x not in ("iteration", "epoch"):
        raise ConfigError(f"plot --x: iteration or epoch, got '{x}'")
    if dpi < 10:
        raise ConfigError(f"plot --dpi must be >= 10, got {dpi}")
    log = Path(work_dir) / "log.jsonl"
    events = read_log(log)
    data = series(events)
    evaluated = [k for k in data if k not in _TRAIN_PANELS and any(label != "train" for label in data[k])]
    if metrics is None:
        panels = [k for k in _TRAIN_PANELS if k in data] + evaluated
    else:
        unknown = [m for m in metrics if m not in data]
        if unknown:
            raise ConfigError(f"plot --metrics: {', '.join(unknown)} not in {log}; it has {', '.join(sorted(data))}")
        panels = list(metrics)
    scale, unit = 1.0, "iteration"
    if x == "epoch":
        per_epoch = iterations_per_epoch(events)
        if per_epoch is None:
            raise DataError(f"{log}: no epoch has ended yet, so iterations cannot be turned into epochs "
                            "(plot with --x iteration)", path=str(log))
        scale, unit = 1.0 / per_epoch, "epoch"
    figure = _figure_class()(figsize=(PANEL_INCHES[0], PANEL_INCHES[1] * len(panels)), dpi=dpi)
    axes = figure.subplots(len(panels), 1, squeeze=False, sharex=True)
    for ax, name in zip(axes[:, 0], panels):
        for label, points in data[name].items():
            xs = [i * scale for i, _ in points]
            ys = [v for _, v in points]
            ax.plot(xs, ys, label=label, marker="o" if len(points) < 30 else None, markersize=3)
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        if name == "lr":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        if len(data[name]) > 1 or next(iter(data[name])) != "train":
            ax.legend(loc="best", fontsize="small")
    axes[-1, 0].set_xlabel(unit)
    figure.suptitle(str(Path(work_dir)), fontsize="small")
    figure.tight_layout()
    out = Path(out)
    try:
        figure.savefig(out, dpi=dpi)
    except OSError as exc:
        raise DataError(f"{out}: cannot write the plot: {exc.strerror or exc}", path=str(out)) from None
    width, height = (round(v * dpi) for v in (PANEL_INCHES[0], PANEL_INCHES[1] * len(panels)))
    return {"path": str(out), "log": str(log), "panels": panels, "x": unit, "size": [width, height],
            "points": {name: sum(len(p) for p in data[name].values()) for name in panels}}


def _figure_class() -> Any:
    """matplotlib's Figure, drawn by the Agg canvas: files only, no display and no pyplot state
    (nothing global changes in a notebook that also plots)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError(f"actioncore plot needs matplotlib; install it with: pip install '{EXTRA}'") from None
    return Figure


__all__ = ["EXTRA", "iterations_per_epoch", "plot_curves", "read_log", "series"]
