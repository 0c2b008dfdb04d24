"""``actioncore export``: an experiment's trained model as an ONNX or TorchScript file, checked.

The task's adapter says what is exported (``export_example``: the inference forward and the shape
of its input, from the experiment's test pipeline); the kernel loads the checkpoint into the
model, writes the file atomically, runs it with its runtime on a random input against the eager
model (an :class:`ExportError` above ``tolerance``), and writes ``FILE.json`` beside it: how a
deployment feeds the model and reads its outputs.
"""
from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..api import _adapter_with_weights
from ..config import dump_experiment
from ..config.experiment import Experiment
from ..engine.checkpoint import atomic_path
from ..errors import ConfigError, ExportError
from ..plugin.host import current_host
from ..weights.download import file_sha256
from .example import ExportExample
from .formats import FORMATS, Format, flat_outputs

TRACE_BATCH = 2
"""The batch a ``--dynamic-batch`` export is traced at (torch.export specialises a size of 1)."""
CHECK_BATCHES = (1, 3)
"""The batches a ``--dynamic-batch`` export is checked at, besides none it was traced at."""
SEED = 0


def sidecar_path(out: Path) -> Path:
    """``model.onnx`` -> ``model.onnx.json``."""
    return out.with_name(out.name + ".json")


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,8,3,224,224"`` or ``"1x8x3x224x224"`` -> a tuple of positive ints."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        shape = ()
    if not shape or any(d < 1 for d in shape):
        raise ConfigError(f"--input-shape {text!r}: give positive sizes, batch first, e.g. 1,8,3,224,224")
    return shape


def export_example(experiment: Experiment, checkpoint: str | Path) -> ExportExample:
    """The task adapter's example, its model holding the checkpoint's weights, in eval mode."""
    adapter, model = _adapter_with_weights(
        experiment, checkpoint, step="export_example", error=ExportError,
        no_model="the experiment has no [model] to export (a model-free step such as BSN's "
                 "proposal generation has nothing to deploy)",
        missing="does not say what to export: its adapter has no export_example(model)")
    example = adapter.export_example(model)
    example.module.eval()
    return example


def _random(shape: Sequence[int], batch: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((batch, *shape[1:]), generator=generator)


@contextlib.contextmanager
def fixed_draws() -> Iterator[None]:
    """NumPy's and torch's global generators seeded alike for one forward, then restored. A model
    that draws random numbers in evaluation (TRN samples relation tuples at every call, as MMAction2
    does) is exported with the draws of this seed, and the eager reference makes the same draws."""
    state = np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            np.random.seed(SEED)
            torch.manual_seed(SEED)
            yield
    finally:
        np.random.set_state(state)


def _eager(example: ExportExample, x: torch.Tensor) -> list:
    try:
        with torch.no_grad(), fixed_draws():
            outputs = flat_outputs(example.module(x))
    except (RuntimeError, ValueError) as exc:
        raise ExportError(f"the model does not run on an input of shape {list(x.shape)} "
                          f"({example.layout or 'batch first'}){_batch_note(x)}: {exc}") from exc
    if len(outputs) != len(example.outputs):
        raise ExportError(f"the model returns {len(outputs)} output(s), the task names {len(example.outputs)} "
                          f"({', '.join(example.outputs)})")
    return outputs


def _batch_note(x: torch.Tensor) -> str:
    return f"; --dynamic-batch traces at batch {TRACE_BATCH}" if x.shape[0] == TRACE_BATCH else ""


def verify(fmt: Format, path: Path, example: ExportExample, shape: Sequence[int], batches: Sequence[int], *,
           tolerance: float) -> dict[str, Any]:
    """Run the written file and the eager model on the same random inputs; the largest difference
    per output; an :class:`ExportError` naming the output and batch where it exceeds ``tolerance``."""
    run = fmt.load(path, input_name=example.input_name)
    worst = {name: 0.0 for name in example.outputs}
    for i, batch in enumerate(batches):
        x = _random(shape, batch, SEED + 1 + i)
        expected = _eager(example, x)
        try:
            got = run(x)
        except Exception as exc:  # the runtime's own error types
            raise ExportError(f"{fmt.runtime} cannot run the exported model at batch {batch}: "
                              f"{type(exc).__name__}: {str(exc).strip()[:800]}") from exc
        for name, want, have in zip(example.outputs, expected, got):
            if have.shape != want.shape:
                raise ExportError(f"{fmt.name} output '{name}' at batch {batch}: shape {list(have.shape)}, "
                                  f"the eager model's {list(want.shape)}")
            diff = float(abs(have.astype("float64") - want.astype("float64")).max()) if want.size else 0.0
            if not diff <= tolerance:  # also catches NaN
                raise ExportError(f"{fmt.name} output '{name}' at batch {batch} differs from the eager model's by "
                                  f"up to {diff:.3g} (tolerance {tolerance:g})")
            worst[name] = max(worst[name], diff)
    return {"runtime": fmt.runtime, "batch_sizes": list(batches), "tolerance": tolerance,
            "max_abs_diff": max(worst.values(), default=0.0), "max_abs_diff_per_output": worst}


def export_experiment(experiment: Experiment, checkpoint: str | Path, *, format: str, out: str | Path,
                      dynamic_batch: bool = False, opset: int | None = None,
                      input_shape: Sequence[int] | None = None, tolerance: float = 1e-4,
                      experiment_file: str | None = None) -> dict[str, Any]:
    """Export, check and describe; returns the report ``actioncore export --json`` prints."""
    if format not in FORMATS:
        raise ConfigError(f"--format {format!r}: one of {', '.join(FORMATS)}")
    if opset is not None and format != "onnx":
        raise ConfigError("--opset applies to --format onnx only")
    if not tolerance > 0:
        raise ConfigError(f"--tolerance must be positive, got {tolerance}")
    fmt, out = FORMATS[format], Path(out)
    example = export_example(experiment, checkpoint)
    shape = tuple(input_shape) if input_shape else example.input_shape
    traced = _random(shape, TRACE_BATCH if dynamic_batch else shape[0], SEED)
    produced = _eager(example, traced)  # a wrong --input-shape fails here, in the model's words
    batches = CHECK_BATCHES if dynamic_batch else (shape[0],)
    with atomic_path(out, what=f"the {format} model") as tmp:
        start = time.perf_counter()
        try:
            with fixed_draws():
                facts = fmt.write(example.module, traced, tmp, input_name=example.input_name,
                                  output_names=list(example.outputs), dynamic_batch=dynamic_batch, opset=opset)
            seconds = time.perf_counter() - start
            check = verify(fmt, tmp, example, shape, batches, tolerance=tolerance)
        except ExportError as exc:
            if dynamic_batch:  # a size the model computes from the batch that the format needs fixed
                raise ExportError(f"{exc}. With --dynamic-batch the batch size is symbolic; the model may "
                                  "need a fixed one: export without --dynamic-batch") from exc
            raise
    report = {"format": format, "path": str(out), "size_bytes": out.stat().st_size, "sha256": file_sha256(out),
              "export_seconds": round(seconds, 3), **facts,
              "input": {"name": example.input_name, "dtype": "float32",
                        "shape": (["batch"] if dynamic_batch else [shape[0]]) + list(shape[1:]),
                        "layout": example.layout},
              "outputs": [{"name": name, "description": text,
                           "shape": (["batch"] if dynamic_batch else [shape[0]]) + list(array.shape[1:])}
                          for (name, text), array in zip(example.outputs.items(), produced)],
              "dynamic_batch": dynamic_batch, "verification": check}
    sidecar = sidecar_path(out)
    document = {**report, "path": out.name, "preprocessing": dict(example.preprocessing), "classes": example.classes,
                "experiment": {"file": experiment_file, "task": experiment.task.type, "model": experiment.model.type,
                               "toml": dump_experiment(experiment, current_host().registry)},
                "checkpoint": str(checkpoint), "versions": current_host().distributions()}
    with atomic_path(sidecar, what="the export's description") as tmp:
        tmp.write_text(json.dumps(document, indent=1, default=str) + "\n", encoding="utf-8")
    return {**report, "sidecar": str(sidecar)}
