"""``runtime.compile``: the model's forward through :func:`torch.compile`."""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

from torch import nn

from ..errors import ConfigError


def cpp_compiler() -> str | None:
    """The C++ compiler TorchInductor would build CPU kernels with (``$CXX``, else the first of
    ``c++``, ``g++``, ``clang++`` on PATH), or None."""
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def compile_model(model: nn.Module) -> nn.Module:
    """Compile ``model``'s forward in place (:meth:`torch.nn.Module.compile`) and return it.

    In place, not wrapped: the class, attributes and state-dict keys stay the model's own, so
    checkpoints, hooks and adapters that reach into ``model.head`` see the plain model. The first
    iteration in each mode (training, evaluation) takes longer, while TorchInductor generates and
    builds its kernels; on the CPU they are C++, so a compiler must be installed: checked here, at
    the start of the run, rather than as a build error after the data is loaded."""
    if cpp_compiler() is None:
        raise ConfigError("runtime.compile: torch.compile builds C++ kernels and no C++ compiler was found "
                          "($CXX, c++, g++ or clang++ on PATH); install one or set runtime.compile = false")
    model.compile()
    return model


@contextlib.contextmanager
def frozen_weights(enabled: bool = True) -> Iterator[None]:
    """Inside, a compiled model's calls without gradients compile with the weights as constants.

    ``enabled=False`` changes nothing (a run without ``runtime.compile``), so callers need no branch.

    TorchInductor's freezing then folds BatchNorm into the convolutions and gives oneDNN prepacked
    weights with fused activations: on the CPU about half the eager time of a video CNN's forward
    (README, Performance). For inference only (``actioncore test``, ``bench model``): a graph
    compiled here keeps the weights it first saw, so the model must be loaded before and must not
    train after; a training run's validation stays unfrozen. Freezing is decided when Dynamo
    traces, at a first call, which is why this wraps the calls rather than the compile."""
    if not enabled:
        yield
        return
    import torch._dynamo.config as dynamo_config  # not imported by runs that do not compile
    import torch._inductor.config as inductor_config

    # A new input shape (a smaller last batch) recompiles for that shape: freezing fails on graphs
    # with symbolic sizes (torch 2.14, MViT's pooled attention).
    with inductor_config.patch(freezing=True), dynamo_config.patch(automatic_dynamic_shapes=False):
        yield
