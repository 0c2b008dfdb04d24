"""The experiment: one TOML file, read into these attrs classes.

Sections that hold components (``task``, ``model``, ``data.train``, ...) are
:class:`ComponentSpec` values whose parameters follow the registered factory's signature; the
fixed sections (``data``, ``optim``, ``schedule``, ``runtime``) are declared here. Unknown keys
are errors everywhere.
"""
from __future__ import annotations

from typing import Any, Literal

import attrs

from ..types import Dataset, Decoder, Model, Task, TrainDataset, ViewsDataset
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
    train: TrainDataset | None = None
    """The (labeled) training clips. ``strong_pipeline`` here gives each clip a strong view too,
    for tasks that train on strong views of labeled clips (``semi_recognition``). ``sources``,
    ``times``, ``sample_by_class`` and ``power`` compose and balance it (docs/training.md)."""
    val: Dataset | None = None
    test: Dataset | None = None
    unlabeled: ViewsDataset | None = None
    """Clips whose labels training does not use (semi-supervised tasks): ``pipeline`` makes the
    weak view, ``strong_pipeline`` continues it into the strong view (see :mod:`actioncore.data.views`).
    Its labels, when the list has them, are only compared with pseudo-labels, and are not checked
    against ``model.head.num_classes`` (the list may be another data set's)."""
    num_repeats: int = attrs.field(default=1, validator=at_least(1))
    """Repeated augmentation (MMAction2's ``RepeatAugDataset``, MViT recipes: 2): each training
    batch holds ``batch_size`` videos, each this many times with its own augmentation; an epoch
    keeps its number of iterations (:class:`~actioncore.data.loader.EpochSampler`)."""
    sample_once: bool = False
    """With ``num_repeats`` > 1: the copies of a video read the same frames and differ only in
    what follows the frame sampling (MMAction2's ``RepeatAugDataset(sample_once=True)``, its MViT
    recipes). Each copy still decodes them itself."""


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
    policy: Literal["constant", "step", "multistep", "cosine", "poly", "cyclic"] = "constant"
    step: int = attrs.field(default=1, validator=at_least(1))
    """``step`` policy: decay every this many epochs."""
    milestones: list[int] = attrs.Factory(list)
    """``multistep`` policy: epochs at which the rate is multiplied by ``gamma``."""
    gamma: float = 0.1
    min_lr: float = 0.0
    """``cosine`` policy: the rate at the end."""
    warmup_epochs: float = attrs.field(default=0.0, validator=at_least(0))
    warmup_start_factor: float = 0.1
    power: float = attrs.field(default=1.0, validator=at_least(0))
    """``poly`` policy: ``lr = (base - min_lr) * (1 - iteration / total) ** power + min_lr`` every
    iteration (mmcv's ``PolyLrUpdaterHook``, ``by_epoch=False``; MMAction2 recipes use 0.9)."""
    target_ratio: tuple[float, float] = (10.0, 1e-4)
    """``cyclic`` policy: the peak and the end of each cycle, as multiples of ``optim.lr``
    (mmcv's ``CyclicLrUpdater``: up from ``lr`` to ``lr * target_ratio[0]``, down to ``lr * target_ratio[1]``)."""
    cyclic_times: int = attrs.field(default=1, validator=at_least(1))
    """``cyclic`` policy: cycles over the run."""
    step_ratio_up: float = attrs.field(default=0.4)
    """``cyclic`` policy: the share of each cycle spent rising, in ``[0, 1)``."""
    anneal_strategy: Literal["cos", "linear"] = "cos"
    """``cyclic`` policy: the shape of each phase."""
    cosine_after_warmup: bool = False
    """``cosine`` policy: mmengine's chain ``LinearLR(begin=0, end=warmup_epochs)`` then
    ``CosineAnnealingLR(begin=warmup_epochs, T_max=cosine_epochs, eta_min=min_lr)``, both
    ``convert_to_iter_based`` (MMAction2 1.x transformer recipes): the cosine starts after the
    warm-up instead of spanning every epoch under it (see :class:`~actioncore.engine.optim.LRSchedule`)."""
    cosine_epochs: float | None = attrs.field(default=None, validator=attrs.validators.optional(at_least(0)))
    """``cosine_after_warmup``: the cosine's ``T_max`` in epochs (None: ``epochs - warmup_epochs``;
    MMAction2's MViT recipes use ``epochs``, so their rate stops above ``min_lr``)."""

    @step_ratio_up.validator
    def _check_ratio_up(self, attribute: attrs.Attribute, value: float) -> None:
        if not 0 <= value < 1:
            raise KeyProblem(attribute.name, f"must be in [0, 1), got {value}")


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
    compile: bool = False
    """Run the model's forward through :func:`torch.compile` (TorchInductor) for training and
    evaluation: faster steps after a first one that compiles (a minute or more for a ResNet-50 on
    the CPU, where a C++ compiler is needed); checkpoints are unchanged. ``actioncore test`` also
    freezes the loaded weights into the graphs (BatchNorm folded, prepacked oneDNN convolutions):
    about half the eager inference time of the video CNNs on the CPU. Measured per model with
    ``benchmarks/models_vs_mmaction2.py --compile`` (README, Performance)."""

    @device.validator
    def _check_device(self, _: attrs.Attribute, value: str) -> None:
        if value not in ("auto", "cpu", "cuda") and not (value.startswith("cuda:") and value[5:].isdigit()):
            raise ValueError(f"expected 'auto', 'cpu', 'cuda' or 'cuda:N', got {value!r}")


@attrs.define
class EmaSection:
    """``[hooks.ema]``: an exponential moving average of the weights (MMAction2 1.x's ``EMAHook``
    with mmengine's ``ExponentialMovingAverage``), evaluated and saved as the checkpoint's model."""

    momentum: float = attrs.field(default=0.0002)
    """Weight of the current weights in each update: ``ema = (1 - momentum) * ema + momentum * w``."""
    interval: int = attrs.field(default=1, validator=at_least(1))
    """Update every this many iterations (the first update copies the weights)."""
    begin_iter: int = attrs.field(default=0, validator=at_least(0))
    """Before this iteration the average is a copy of the weights."""
    update_buffers: bool = False
    """Average the buffers (BN statistics) too; otherwise they are copied from the model."""

    @momentum.validator
    def _check_momentum(self, attribute: attrs.Attribute, value: float) -> None:
        if not 0 < value < 1:
            raise KeyProblem(attribute.name, f"must be in (0, 1), got {value}")


@attrs.define
class PreciseBNSection:
    """``[hooks.precise_bn]``: before evaluation, batch-norm running statistics recomputed as the
    average over ``num_iters`` training batches (MMAction2 0.24's ``PreciseBNHook``)."""

    num_iters: int = attrs.field(default=200, validator=at_least(1))
    interval: int = attrs.field(default=1, validator=at_least(1))
    """Every this many epochs."""


@attrs.define
class EarlyStoppingSection:
    """``[hooks.early_stopping]``: stop when a validation metric stops improving (MMAction2 1.x's
    ``EarlyStoppingHook``); the run still saves its checkpoint, tests and ends as finished."""

    monitor: str
    """The validation metric (``top1_acc``, ...)."""
    rule: Literal["greater", "less"] | None = None
    """Which way is better; None: ``less`` for a metric named ``*loss*``, else ``greater``."""
    min_delta: float = attrs.field(default=0.1, validator=at_least(0))
    """An improvement smaller than this does not count (mmengine's default 0.1)."""
    patience: int = attrs.field(default=5, validator=at_least(1))
    """Evaluations without improvement before stopping."""
    stopping_threshold: float | None = None
    """Stop as soon as the metric is better than this."""
    check_finite: bool = True
    """Stop when the metric is NaN or infinite."""
    strict: bool = False
    """A missing metric is an error (else a warning)."""


@attrs.define
class HooksSection:
    """Training features MMAction2 configures as ``custom_hooks``; each table turns one on."""

    ema: EmaSection | None = None
    precise_bn: PreciseBNSection | None = None
    early_stopping: EarlyStoppingSection | None = None


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
    hooks: HooksSection = attrs.Factory(HooksSection)


__all__ = ["ComponentSpec", "DataSection", "EarlyStoppingSection", "EmaSection", "Experiment", "HooksSection",
           "OptimSection", "PluginsSection", "PreciseBNSection", "RuntimeSection", "ScheduleSection"]
