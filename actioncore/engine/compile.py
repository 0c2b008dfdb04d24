"""``runtime.compile``: the model's forward through :func:`torch.compile`."""
from __future__ import annotations

import os
import shutil

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
