"""Early stopping on a validation metric, with mmengine's ``EarlyStoppingHook`` rules."""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from ..config.experiment import EarlyStoppingSection
from ..errors import ConfigError
from ..runlog import LOGGER_NAME

log = logging.getLogger(LOGGER_NAME)


class EarlyStopping:
    """Counts evaluations without an improvement of at least ``min_delta`` over the best value;
    :meth:`check` returns why to stop (``patience`` reached, the ``stopping_threshold`` passed, a
    non-finite value) or None. Its state travels in checkpoints (:meth:`state`)."""

    def __init__(self, cfg: EarlyStoppingSection):
        self.cfg = cfg
        self.rule = cfg.rule or ("less" if "loss" in cfg.monitor.lower() else "greater")
        self.sign = 1.0 if self.rule == "greater" else -1.0
        self.best = -math.inf * self.sign
        self.wait = 0

    def better(self, a: float, b: float) -> bool:
        return a > b if self.rule == "greater" else a < b

    def check(self, metrics: Mapping[str, float]) -> str | None:
        cfg = self.cfg
        if cfg.monitor not in metrics:
            message = (f"hooks.early_stopping.monitor = '{cfg.monitor}' is not among the metrics: "
                       f"{', '.join(metrics)}")
            if cfg.strict:
                raise ConfigError(message)
            log.warning("%s; not stopping", message)
            return None
        value = float(metrics[cfg.monitor])
        if cfg.check_finite and not math.isfinite(value):
            return f"{cfg.monitor} = {value} is not finite (best so far {self.best:.4f})"
        if cfg.stopping_threshold is not None and self.better(value, cfg.stopping_threshold):
            self.best = value
            return f"{cfg.monitor} = {value:.4f} is {self.rule} than stopping_threshold {cfg.stopping_threshold}"
        if self.better(self.best + self.sign * cfg.min_delta, value):
            self.wait += 1
            if self.wait >= cfg.patience:
                return (f"{cfg.monitor} did not improve by {cfg.min_delta} in the last {self.wait} evaluations "
                        f"(best {self.best:.4f})")
            return None
        self.best, self.wait = value, 0
        return None

    def state(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait}

    def restore(self, state: Mapping[str, Any]) -> None:
        self.best, self.wait = float(state["best"]), int(state["wait"])
