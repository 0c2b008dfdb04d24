"""The two deployment formats: writing a module to a file and running that file again.

ONNX goes through torch's dynamo exporter (``torch.onnx.export(..., dynamo=True)``: the
TorchScript-based one cannot export TSM's temporal shift) and is run back with onnxruntime;
TorchScript is ``torch.jit.trace`` under ``no_grad`` and is run back with ``torch.jit.load``.
Both need only CPU. The ONNX packages are the kernel's ``export`` extra.
"""
from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ..errors import ExportError

Runner = Callable[[torch.Tensor], list[np.ndarray]]
"""An exported file loaded again: batch in, its outputs (in order) out."""

EXTRA = "actioncore[export]"
ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")


def flat_outputs(outputs: Any) -> list[np.ndarray]:
    """A model's tensor, or tuple/list of tensors, as float32 NumPy arrays in order."""
    if isinstance(outputs, torch.Tensor):
        outputs = [outputs]
    if not isinstance(outputs, (tuple, list)) or not all(isinstance(o, torch.Tensor) for o in outputs):
        raise ExportError(f"the model returns {type(outputs).__name__}; an exported model must return a tensor "
                          "or a tuple of tensors (the task adapter's export_example chooses the module)")
    return [o.detach().float().cpu().numpy() for o in outputs]


def require_onnx() -> dict[str, Any]:
    """The ONNX packages, imported; a clear error naming the extra when one is missing."""
    modules = {}
    for name in ONNX_PACKAGES:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError as exc:
            raise ExportError(f"--format onnx needs the packages {', '.join(ONNX_PACKAGES)} (missing: {name}: {exc}); "
                              f"install them with: pip install '{EXTRA}'") from None
    return modules


class Format(Protocol):
    name: str
    runtime: str

    def write(self, module: nn.Module, example: torch.Tensor, path: Path, *, input_name: str,
              output_names: Sequence[str], dynamic_batch: bool, opset: int | None) -> dict[str, Any]:
        """Export ``module`` traced on ``example`` to ``path``; returns facts for the sidecar."""

    def load(self, path: Path, *, input_name: str) -> Runner:
        """``path`` loaded by its runtime."""


def _reason(exc: BaseException) -> str:
    """The exporter's own explanation, without its tracebacks, log lines and advice to file a
    bug: the dynamo exporter's "Exception summary" (each chained error, which names the failing
    ONNX operator and the value it could not take), else the message's first lines."""
    text = str(exc)
    if "Exception summary" in text:
        chain = [line.strip() for line in text.split("Exception summary", 1)[1].splitlines()
                 if line.strip().startswith("<class")]
        return " <- ".join(re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>:", r"\1:", line)[:300] for line in chain[:3])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("File ", "Traceback", "[torch.onnx]"))]
    text = " ".join(lines[:6])
    return f"{type(exc).__name__}: {text[:1200]}" if text else type(exc).__name__


class OnnxFormat:
    name = "onnx"

    @property
    def runtime(self) -> str:
        return f"onnxruntime {require_onnx()['onnxruntime'].__version__}"

    def write(self, module: nn.Module, example: torch.Tensor, path: Path, *, input_name: str,
              output_names: Sequence[str], dynamic_batch: bool, opset: int | None) -> dict[str, Any]:
        onnx = require_onnx()["onnx"]
        dynamic = ({0: torch.export.Dim("batch", min=1)},) if dynamic_batch else None
        options: dict[str, Any] = {} if opset is None else {"opset_version": opset}
        try:
            with torch.no_grad():
                program = torch.onnx.export(module, (example,), dynamo=True, verbose=False, input_names=[input_name],
                                            output_names=list(output_names), dynamic_shapes=dynamic, **options)
        except Exception as exc:  # the exporter's many error types; none of them is a bug of ours
            raise ExportError(f"torch's dynamo ONNX exporter cannot export {type(module).__name__}: {_reason(exc)}") from exc
        program.save(str(path), external_data=False)
        model = onnx.load(str(path), load_external_data=False)
        used = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
        return {"opset": used, "exporter": f"torch.onnx.export(dynamo=True), torch {torch.__version__}"}

    def load(self, path: Path, *, input_name: str) -> Runner:
        ort = require_onnx()["onnxruntime"]
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda x: [np.asarray(o) for o in session.run(None, {input_name: x.numpy()})]


class TorchScriptFormat:
    name = "torchscript"
    runtime = f"torch.jit.load, torch {torch.__version__}"

    def write(self, module: nn.Module, example: torch.Tensor, path: Path, *, input_name: str,
              output_names: Sequence[str], dynamic_batch: bool, opset: int | None) -> dict[str, Any]:
        try:
            with torch.no_grad(), warnings.catch_warnings():
                # trace is deprecated in favour of torch.export, and warns about every Python int it
                # records; the check against the eager model after export is what tells
                warnings.simplefilter("ignore")
                traced = torch.jit.trace(module, example, check_trace=False)
        except Exception as exc:
            raise ExportError(f"torch.jit.trace cannot trace {type(module).__name__}: {_reason(exc)}") from exc
        traced.save(str(path))
        return {"exporter": f"torch.jit.trace, torch {torch.__version__}"}

    def load(self, path: Path, *, input_name: str) -> Runner:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # deprecated with torch.jit.trace
            loaded = torch.jit.load(str(path), map_location="cpu").eval()

        def run(x: torch.Tensor) -> list[np.ndarray]:
            with torch.no_grad():
                return flat_outputs(loaded(x))
        return run


FORMATS: dict[str, Format] = {"onnx": OnnxFormat(), "torchscript": TorchScriptFormat()}
