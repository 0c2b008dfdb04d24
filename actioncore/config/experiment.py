"""The experiment: one TOML file, read into these attrs classes.

Sections that hold components (``task``, ``model``, ``data.train``, ...) are
:class:`ComponentSpec` values whose parameters follow the registered factory's signature; the
fixed sections (``data``, ``optim``, ``schedule``, ``runtime``) are declared here. Unknown keys
are errors everywhere.
"""
from __future__ import annotations

from typing import Any, Literal

import attrs

from ..types import Dataset, Decoder, Model, Task, ViewsDataset
from .structure import ComponentSpec, KeyProblem


def at_least(minimum: int | float) -> Any:
    """An attrs validator: the value (when not None) is ``>= minimum``; checked at load time, so
    ``actioncore config`` names the key instead of a run failing epochs later."""

    def check(_: Any, attribute: attrs.Attribute, value: int | float | None) -> None:
        if value is not None and value < minimum:
            raise KeyProblem(attribute.name, f"must be at least {minimum}, got {value}")

    return check


@attrs.define
class PluginsSection:
    require: list[str] = attrs.Factory(list)
    """Distributions the experiment needs, as requirement strings (``actioncore-tsm>=0.1``)."""


@attrs.define
class DataSection:
    batch_size: int = attrs.field(default=8, validator=at_least(1))
    """Clips per process and iteration."""
    workers: int = attrs.field(default=4, validator=at_least(0))
    """DataLoader worker processes per process; 0 decodes in the main process."""
    decoder: Decoder | None = None
    """The one place the video decoder is chosen; ``decode`` steps use it. None: ``pyav``."""
    on_error: Literal["raise", "skip"] = "raise"
    """``skip`` replaces a bad sample, counts it and reports every bad file after the epoch."""
    max_consecutive_bad: int = attrs.field(default=32, validator=at_least(1))
    """Under ``skip``, stop after this many bad samples in a row: the data set itself is broken."""
    timeout: float = attrs.field(default=600.0, validator=at_least(0))
    """Seconds one sample may take to decode and prepare before the run stops naming the file
    (a decoder that hangs); 0 waits forever."""
    pin_memory: bool = False
    persistent_workers: bool = True
    prefetch_factor: int = attrs.field(default=2, validator=at_least(1))
    val_batch_size: int | None = attrs.field(default=None, validator=at_least(1))
    test_batch_size: int | None = attrs.field(default=None, validator=at_least(1))
    train: ViewsDataset | None = None
    """The (labeled) training clips. ``strong_pipeline`` here gives each clip a strong view too,
    for tasks that train on strong views of labeled clips (``semi_recognition``)."""
    val: Dataset | None = None
    test: Dataset | None = None
    unlabeled: ViewsDataset | None = None
    """Clips whose labels training does not use (semi-supervised tasks): ``pipeline`` makes the
    weak view, ``strong_pipeline`` continues it into the strong view (see :mod:`actioncore.data.views`).
    Its labels, when the list has them, are only compared with pseudo-labels, and are not checked
    against ``model.head.num_classes`` (the list may be another data set's)."""


@attrs.define
class ParamRule:
    """Multipliers for the parameters one ``[optim.custom_keys]`` entry names."""

    lr_mult: float = 1.0
    decay_mult: float = 1.0


@attrs.define
class OptimSection:
    type: Literal["sgd", "adam", "adamw"] = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0001
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    head_lr_mult: float = 1.0
    """Learning-rate multiplier for the head's parameters (fine-tuning recipes use 10)."""
    norm_decay_mult: float = 1.0
    """Weight-decay multiplier for normalisation layers' parameters (0 turns it off)."""
    bias_decay_mult: float = 1.0
    bias_lr_mult: float = 1.0
    """Learning-rate multiplier for biases outside normalisation layers (TSN/TSM recipes use 2)."""
    custom_keys: dict[str, ParamRule] = attrs.Factory(dict)
    """Parameters whose name contains a key take that key's multipliers instead of the rules
    above; the longest matching key wins (MMAction2's ``paramwise_cfg.custom_keys``). Example:
    ``[optim.custom_keys."backbone.pos_embed"] decay_mult = 0.0``."""
    grad_clip: float | None = None
    """Clip the global gradient norm to this value."""
    accumulate: int = attrs.field(default=1, validator=at_least(1))
    """Iterations whose gradients add up before one optimizer step."""
    layer_decay_rate: float | None = None
    """Layer-wise learning-rate decay (MMAction2's ``LearningRateDecayOptimizerConstructor``, e.g.
    0.75): block ``i`` of ``backbone.blocks`` learns at ``rate ** (layer_decay_num_layers - i)``
    times ``lr``, the embeddings at ``rate ** (layer_decay_num_layers + 1)``; weight decay is off
    for biases and 1-D tensors. Replaces the multiplier rules above (``actioncore.engine.layer_decay``)."""
    layer_decay_num_layers: int = attrs.field(default=0, validator=at_least(0))
    """The number of blocks the decay counts (MMAction2's ``paramwise_cfg.num_layers``)."""
    custom_keys_combine: Literal["longest", "multiply"] = "longest"
    """How several ``custom_keys`` matching one parameter combine: ``longest`` (the longest key
    alone, MMAction2's default constructor) or ``multiply`` (every matching key's multipliers
    multiplied, MMAction2's ``SwinOptimWrapperConstructor``: e.g. ``backbone`` lr 0.1 and
    ``norm`` decay 0 both apply to a backbone norm)."""


@attrs.define
class ScheduleSection:
    epochs: int = attrs.field(default=1, validator=at_least(1))
    policy: Literal["constant", "step", "multistep", "cosine"] = "constant"
    step: int = attrs.field(default=1, validator=at_least(1))
    """``step`` policy: decay every this many epochs."""
    milestones: list[int] = attrs.Factory(list)
    """``multistep`` policy: epochs at which the rate is multiplied by ``gamma``."""
    gamma: float = 0.1
    min_lr: float = 0.0
    """``cosine`` policy: the rate at the end."""
    warmup_epochs: float = attrs.field(default=0.0, validator=at_least(0))
    warmup_start_factor: float = 0.1


@attrs.define
class RuntimeSection:
    work_dir: str = ""
    """Where checkpoints and logs go; empty means ``work_dirs/<experiment file name>``."""
    seed: int = attrs.field(default=0, validator=at_least(0))
    device: str = attrs.field(default="auto")
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``: a run option, never a model concern."""
    amp: bool = False
    deterministic: bool = False
    log_interval: int = attrs.field(default=20, validator=at_least(1))
    checkpoint_interval: int = attrs.field(default=1, validator=at_least(1))
    """Epochs between checkpoints (``epoch_N.pth``; ``latest.pth`` points at the newest)."""
    checkpoint_every_iters: int = attrs.field(default=0, validator=at_least(0))
    """Also save ``latest.pth`` every this many iterations inside an epoch (0: only at epoch ends)."""
    eval_interval: int = attrs.field(default=1, validator=at_least(1))
    keep_checkpoints: int = 3
    best_metric: str | None = None
    load_from: str | None = None
    sync_bn: bool = False
    channels_last: bool = False
    """Convolution weights (and so activations) in channels-last layout: faster convolutions on
    CPU and GPU for most CNNs (see ``benchmarks/models_vs_mmaction2.py``); same numbers."""

    @device.validator
    def _check_device(self, _: attrs.Attribute, value: str) -> None:
        if value not in ("auto", "cpu", "cuda") and not (value.startswith("cuda:") and value[5:].isdigit()):
            raise ValueError(f"expected 'auto', 'cpu', 'cuda' or 'cuda:N', got {value!r}")


@attrs.define
class Experiment:
    """A whole experiment. Build it with :func:`actioncore.load_config`."""

    task: Task | None = None
    """Runs the experiment (``run``, ``test``, ``infer``); data-only commands do without one."""
    model: Model | None = None
    plugins: PluginsSection = attrs.Factory(PluginsSection)
    data: DataSection = attrs.Factory(DataSection)
    optim: OptimSection = attrs.Factory(OptimSection)
    schedule: ScheduleSection = attrs.Factory(ScheduleSection)
    runtime: RuntimeSection = attrs.Factory(RuntimeSection)


__all__ = ["ComponentSpec", "DataSection", "Experiment", "OptimSection", "PluginsSection",
           "RuntimeSection", "ScheduleSection"]
