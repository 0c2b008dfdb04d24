"""The epoch/iteration loops every task plugin shares.

A task plugin supplies a :class:`TaskAdapter` (how to build its model, run a training step on a
batch, score an evaluation batch and turn the scores into metrics); the :class:`Trainer` does
the rest the same way for every task: devices and processes, seeding, optimizer and schedule,
AMP, gradient accumulation and clipping, checkpoints and exact resume, evaluation over whole
splits, lifecycle hooks and logs.
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ..config import dump_experiment
from ..config.experiment import Experiment
from ..data.dataset import BadSample
from ..data.loader import close_loaders, report_skipped, unique_bad
from ..errors import CheckpointError, ConfigError, TrainingError
from ..lifecycle import RunState
from ..plugin.host import PluginHost, current_host
from ..progress import progress_bar, set_postfix
from ..runlog import LOGGER_NAME, record_failure, run_log, write_work_file
from ..weights.files import load_into
from . import checkpoint as ckpt
from .compile import compile_model, frozen_weights
from .layout import to_channels_last
from .loaders import own_train_loader, split_loader
from .distributed import Placement, all_gather_objects, barrier, broadcast_object, setup_placement, teardown
from .early_stop import EarlyStopping
from .ema import ModelEma
from .optim import LRSchedule, build_optimizer
from .precise_bn import update_bn_stats
from .resume_check import experiment_changes

log = logging.getLogger(LOGGER_NAME)


class TaskAdapter(Protocol):
    """What a task plugin tells the trainer about its model and batches."""

    def build_model(self, experiment: Experiment) -> nn.Module:
        """The model, on the CPU; the trainer moves it to the run device."""

    def train_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        """Forward a training batch; returns scalar tensors, ``loss`` among them.

        ``batch["iteration"]`` is the run's global iteration (0-based, the same after ``--resume``):
        seed per-iteration randomness (batch mixing) from it and ``runtime.seed``."""

    def eval_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, np.ndarray]:
        """Score an evaluation batch; returns per-sample rows, ``index`` (dataset index) among them."""

    def compute_metrics(self, outputs: Mapping[str, np.ndarray], split: str) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Metrics over a whole split (rows sorted by index, each sample once) and images to log."""

    def prepare_inputs(self, batch: Mapping[str, Any], device: torch.device) -> Any:
        """The model's input for a batch, on ``device`` (for ``info``, ``bench model`` and precise
        BN): a tensor, or a tuple of the forward's positional arguments (a masked autoencoder's
        clips and mask), the tensor of clips first."""

    # Optional: ``export_example(self, model: nn.Module) -> actioncore.sdk.engine.ExportExample``,
    # the model's inference forward as ``test`` / ``infer`` run it (the module to export, the
    # test pipeline's input shape at batch 1, output names, preprocessing): what ``actioncore
    # export`` writes. A task without it cannot be exported.
    #
    # Optional: ``clip_features(self, model, inputs, *, num_clips: int, views: int = 1) -> Tensor``,
    # float ``[num_clips, C]`` features of one sample's clips (``prepare_inputs`` of a sample whose
    # pipeline made ``num_clips`` clips in ``views`` crops): what ``actioncore extract`` writes for
    # localization. A task without it cannot extract features.
    #
    # Optional: ``train_loader(self, build: SplitLoaderFactory) -> TrainLoader``. A task that
    # trains on more than ``[data.train]`` (``[data.unlabeled]``, strong views) supplies its
    # own training batches; the trainer still does DDP, AMP, accumulation, clipping,
    # checkpoints and exact resume around them. Without it, or when it returns None, the trainer
    # loads ``data.train``.


def call_model(model: nn.Module, inputs: Any) -> Any:
    """``model`` on what :meth:`TaskAdapter.prepare_inputs` made: one input or a tuple of them."""
    return model(*inputs) if isinstance(inputs, tuple) else model(inputs)


class TrainLoader(Protocol):
    """What the trainer needs of its training data: a plain kernel DataLoader is one.

    ``len()`` is the number of iterations in an epoch; ``sampler.set_epoch(epoch, skip)`` is
    called before each epoch's iteration, ``skip`` being the samples already consumed in that
    epoch (``skip_iterations * batch_size``) when a run resumes mid-epoch: the batches that follow
    must be exactly those an uninterrupted run would have seen. A batch is a mapping with
    ``indices`` (one entry per clip, for the clips/s count) and optionally ``skipped``.

    Optional, as the kernel's loader has them: ``failures_explained()``, a context manager the
    epoch runs in that turns torch's report of a dead worker into a DataError naming the file,
    and ``close()``, which stops the worker processes when a run fails.
    """

    batch_size: int
    sampler: Any

    def __len__(self) -> int: ...

    def __iter__(self) -> Any: ...


class SplitLoaderFactory(Protocol):
    """Given to ``TaskAdapter.train_loader``: the kernel's training DataLoader of a split
    (epoch-seeded :class:`~actioncore.data.loader.EpochSampler`, rank shard, workers, seed)."""

    def __call__(self, split: str, *, batch_size: int | None = None,
                 source: int | None = None) -> torch.utils.data.DataLoader: ...
    # ``source``: the loader of ``data.train.extra_sources[source]`` (multi-source training).


def _autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    if not enabled:
        return contextlib.nullcontext()
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def load_weights(model: nn.Module, path: str | Path, *, strict: bool = True) -> list[str]:
    """Load model weights from a checkpoint; with ``strict=False`` tensors whose shape differs
    (a head for another number of classes) keep their fresh initialisation. Returns notes."""
    state = ckpt.model_weights(ckpt.load_checkpoint(path), path)
    if strict:
        load_into(model, state, path)
        return []
    own = model.state_dict()
    notes = []
    reinitialised = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    for key in reinitialised:
        notes.append(f"re-initialised {key}: checkpoint {list(state[key].shape)}, model {list(own[key].shape)}")
        del state[key]
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k not in reinitialised]
    notes += [f"not in checkpoint (fresh): {k}" for k in missing]
    notes += [f"ignored (not in model): {k}" for k in unexpected]
    return notes


class Trainer:
    """Runs an experiment's training, evaluation and test with a task's :class:`TaskAdapter`."""

    def __init__(self, experiment: Experiment, adapter: TaskAdapter, *, host: PluginHost | None = None):
        self.exp = experiment
        self.adapter = adapter
        self.host = host or current_host()
        self.work_dir = Path(experiment.runtime.work_dir)
        self.checkpoints = self.work_dir / "checkpoints"
        self.ema: ModelEma | None = None
        """The averaged weights under ``[hooks.ema]``: what is evaluated and saved as ``model``."""
        self.early_stopping: EarlyStopping | None = None

    # -- setup ---------------------------------------------------------------------------------

    def _seed(self, placement: Placement) -> None:
        rt = self.exp.runtime
        torch.manual_seed(rt.seed + placement.rank)
        import random

        random.seed(rt.seed + placement.rank)
        if rt.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False

    def _loader(self, split: str, placement: Placement, *, train: bool):
        return split_loader(self.exp, split, self.host.registry, train=train, **self._placed(placement))

    def _placed(self, placement: Placement) -> dict[str, Any]:
        return dict(rank=placement.rank, world_size=placement.world_size,
                    pin_memory=self.exp.data.pin_memory and placement.device.type == "cuda")

    def _train_loader(self, placement: Placement) -> TrainLoader:
        """The adapter's own training data when it has ``train_loader``, else ``data.train``'s."""
        loader = own_train_loader(self.exp, self.adapter, self.host.registry, **self._placed(placement))
        if loader is not None:
            return loader
        task = self.exp.task.type if self.exp.task is not None else "the task"
        if self.exp.data.train is not None and self.exp.data.train.extra.get("extra_sources"):
            raise ConfigError(f"data.train.extra_sources: task '{task}' does not train on several sources "
                              "(multi-source training is the recognition task's)")
        if self.exp.data.unlabeled is not None:
            raise ConfigError(f"data.unlabeled: task '{task}' does not train on unlabeled clips "
                              "(use a semi-supervised task, e.g. semi_recognition)")
        if self.exp.data.train is not None and "strong_pipeline" in self.exp.data.train.extra:
            raise ConfigError(f"data.train.strong_pipeline: task '{task}' does not use strong views "
                              "(put the steps in data.train.pipeline, or use semi_recognition)")
        return self._loader("train", placement, train=True)

    def _build_model(self, placement: Placement) -> nn.Module:
        model = self.adapter.build_model(self.exp)
        if self.exp.runtime.sync_bn and placement.distributed:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = model.to(placement.device)
        return to_channels_last(model) if self.exp.runtime.channels_last else model

    # -- training ------------------------------------------------------------------------------

    def fit(self, *, resume: bool = False, allow_changes: bool = False) -> dict[str, float]:
        """Train for ``schedule.epochs``, validating and checkpointing on schedule, then test.

        ``resume`` refuses a checkpoint trained under another experiment unless ``allow_changes``.
        """
        placement = setup_placement(self.exp.runtime.device)
        try:
            with run_log(self.work_dir, self.host, main_process=placement.is_main) as logger:
                try:
                    return self._fit(placement, resume, allow_changes)
                except BaseException as exc:
                    record_failure(logger, exc)
                    raise
        finally:
            teardown(placement)

    def _fit(self, placement: Placement, resume: bool, allow_changes: bool) -> dict[str, float]:
        exp, rt = self.exp, self.exp.runtime
        self._seed(placement)
        log.info("work dir %s, device %s, %d process(es)", self.work_dir, placement.device, placement.world_size)
        if placement.is_main:
            for leftover in ckpt.remove_partial(self.checkpoints):
                log.info("removed %s, a checkpoint a stopped run left half-written", leftover)
            write_work_file(self.work_dir / "experiment.toml", dump_experiment(exp, self.host.registry))
        model = self._build_model(placement)
        loader = self._train_loader(placement)
        dropped = getattr(getattr(loader, "dataset", None), "bad_records", [])
        if dropped:
            log.warning("train: %d annotation line(s) left out (data.on_error = \"skip\"):\n%s",
                        len(dropped), report_skipped(dropped))
        val_loader = self._loader("val", placement, train=False) if exp.data.val is not None else None
        optimizer = build_optimizer(model, exp.optim)
        per_epoch = len(loader)
        schedule = LRSchedule(exp.schedule, exp.optim.lr, per_epoch)
        amp = rt.amp
        scaler = torch.amp.GradScaler("cuda", enabled=amp and placement.device.type == "cuda")
        run = RunState(experiment=exp, work_dir=self.work_dir, rank=placement.rank,
                       world_size=placement.world_size, max_epochs=exp.schedule.epochs,
                       iterations_per_epoch=per_epoch, model=model, optimizer=optimizer)
        run.extra["best"] = None
        hooks = exp.hooks
        self.ema = ModelEma(model, hooks.ema) if hooks.ema is not None else None
        self.early_stopping = EarlyStopping(hooks.early_stopping) if hooks.early_stopping is not None else None
        skip_batches = 0
        if resume:
            skip_batches = self._resume(run, model, optimizer, scaler, placement, allow_changes)
        elif rt.load_from:
            for note in load_weights(model, rt.load_from, strict=False):
                log.info("load_from %s: %s", rt.load_from, note)
            if self.ema is not None:
                self.ema.module.load_state_dict(model.state_dict())
        if rt.compile:  # after the EMA copy (which stays eager) and after loading weights
            compile_model(model)
        train_model: nn.Module = model
        if placement.distributed:
            ids = [placement.device.index] if placement.device.type == "cuda" else None
            train_model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        eval_model = self.ema.module if self.ema is not None else model
        lifecycle = self.host.lifecycle
        lifecycle.run_start(run)
        status, error, metrics = "failed", None, {}
        try:
            if run.stop_requested:
                log.info("not training further: the run stopped early at epoch %d (%s)", run.epoch, run.stop_reason)
            while run.epoch < exp.schedule.epochs and not run.stop_requested:
                with _failures_explained(loader):
                    self._train_epoch(run, train_model, loader, optimizer, schedule, scaler, placement, skip_batches)
                skip_batches = 0
                lifecycle.after_epoch(run)
                precise_bn = exp.hooks.precise_bn
                if precise_bn is not None and run.epoch % precise_bn.interval == 0:
                    with _failures_explained(loader):
                        self._precise_bn(eval_model, loader, run, placement)
                # evaluate before saving, so that the checkpoint holds this epoch's best: a run
                # killed after the save resumes with it and best.pth is re-pointed on resume
                improved = False
                if val_loader is not None and (run.epoch % rt.eval_interval == 0 or run.epoch == exp.schedule.epochs):
                    metrics = self._evaluate(eval_model, val_loader, "val", placement, run)
                    improved = self._update_best(run, metrics)
                    reason = self.early_stopping.check(metrics) if self.early_stopping is not None else None
                    if reason is not None:
                        run.request_stop(f"early stopping: {reason}")
                run.stop_reason = broadcast_object(run.stop_reason, placement)
                if run.stop_requested:
                    log.info("stopping after epoch %d of %d: %s", run.epoch, exp.schedule.epochs, run.stop_reason)
                saved = None
                if run.epoch % rt.checkpoint_interval == 0 or run.epoch == exp.schedule.epochs or run.stop_requested:
                    saved = self._save(run, model, optimizer, scaler, placement, epoch_end=True)
                if improved and saved is not None:
                    self._link_best(run, saved, placement)
            if exp.data.test is not None:
                barrier(placement)  # rank 0 may still be linking best.pth
                best = self.checkpoints / "best.pth"
                if best.is_file():
                    load_weights(eval_model, best)
                test_loader = self._loader("test", placement, train=False)
                metrics = self._evaluate(eval_model, test_loader, "test", placement, run)
            status = "finished"
            return metrics
        except KeyboardInterrupt as exc:
            status, error = "interrupted", exc
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            if status != "finished":
                close_loaders(loader, val_loader)  # before the cleanup hooks
            lifecycle.run_end(run, status, error)

    def _train_epoch(self, run: RunState, model: nn.Module, loader, optimizer, schedule: LRSchedule,
                     scaler, placement: Placement, skip_batches: int) -> None:
        exp, rt = self.exp, self.exp.runtime
        accumulate = max(1, exp.optim.accumulate)
        loader.sampler.set_epoch(run.epoch, skip=skip_batches * loader.batch_size)
        model.train()
        epoch_iteration = skip_batches
        window: dict[str, list[float]] = defaultdict(list)
        skipped = []
        loader_bound_warned = False
        tick = time.perf_counter()
        total_iterations = exp.schedule.epochs * run.iterations_per_epoch
        bar = progress_bar(total=run.iterations_per_epoch, initial=skip_batches, unit="it",
                           desc=f"epoch {run.epoch + 1}/{exp.schedule.epochs}", enabled=placement.is_main)
        for batch in _tracked(loader, bar):
            data_time = time.perf_counter() - tick
            skipped += batch.get("skipped", [])
            lr = schedule.apply(optimizer, run.iteration)
            step_now = (epoch_iteration + 1) % accumulate == 0 or epoch_iteration + 1 == run.iterations_per_epoch
            sync = contextlib.nullcontext() if step_now or not placement.distributed else model.no_sync()
            with sync:
                with _autocast(placement.device, rt.amp):
                    losses = self.adapter.train_step(model, {**batch, "iteration": run.iteration}, placement.device)
                loss = losses["loss"]
                self._check_finite(loss, run, placement)
                scaler.scale(loss / accumulate).backward()
            grad_norm = None
            if step_now:
                if exp.optim.grad_clip is not None:
                    scaler.unscale_(optimizer)
                    grad_norm = float(nn.utils.clip_grad_norm_(model.parameters(), exp.optim.grad_clip))
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
            if self.ema is not None:
                self.ema.update(_unwrap(model), run.iteration)
            run.iteration += 1
            epoch_iteration += 1
            step_time = time.perf_counter() - tick
            clips = len(batch["indices"]) * placement.world_size
            outputs = {k: float(v.detach()) for k, v in losses.items()}
            outputs.update(lr=lr, data_time=data_time, step_time=step_time, clips_per_s=clips / step_time)
            if grad_norm is not None:
                outputs["grad_norm"] = grad_norm
            for k, v in outputs.items():
                window[k].append(v)
            set_postfix(bar, loss=f"{outputs['loss']:.4f}", lr=f"{lr:.3g}", clips_s=f"{outputs['clips_per_s']:.1f}")
            bar.update()
            self.host.lifecycle.after_iteration(run, outputs)
            if epoch_iteration % rt.log_interval == 0 or epoch_iteration == run.iterations_per_epoch:
                means = {k: sum(v) / len(v) for k, v in window.items()}
                eta = (total_iterations - run.iteration) * means["step_time"]
                log.info("epoch %d/%d iter %d/%d loss %.4f lr %.3g data %.3fs step %.3fs %.1f clips/s eta %s",
                         run.epoch + 1, exp.schedule.epochs, epoch_iteration, run.iterations_per_epoch,
                         means["loss"], lr, means["data_time"], means["step_time"], means["clips_per_s"],
                         _duration(eta))
                if means["data_time"] > 0.5 * means["step_time"] and not loader_bound_warned:
                    log.warning("data loading bounds the step time (%.3fs of %.3fs waiting for batches): "
                                "raise data.workers or make the pipeline cheaper",
                                means["data_time"], means["step_time"])
                    loader_bound_warned = True
                window.clear()
            if rt.checkpoint_every_iters and run.iteration % rt.checkpoint_every_iters == 0 \
                    and epoch_iteration < run.iterations_per_epoch:
                self._save(run, _unwrap(model), optimizer, scaler, placement, epoch_end=False,
                           epoch_iteration=epoch_iteration)
            tick = time.perf_counter()
        run.epoch += 1
        all_skipped = unique_bad([s for part in all_gather_objects(skipped, placement) for s in part])
        if all_skipped:
            log.warning("epoch %d: %d bad sample(s) skipped and replaced:\n%s", run.epoch,
                        len(all_skipped), report_skipped(all_skipped))
            run.extra.setdefault("skipped", {})["train"] = [f"{b.where}: {b.reason}" for b in all_skipped]

    def _check_finite(self, loss: torch.Tensor, run: RunState, placement: Placement) -> None:
        finite = torch.isfinite(loss.detach()).all()
        if placement.distributed:
            flag = finite.to(torch.int32)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MIN)
            finite = bool(flag)
        if not finite:
            latest = self.checkpoints / "latest.pth"
            kept = f"; the last checkpoint {latest} is intact" if latest.exists() else "; no checkpoint was written yet"
            raise TrainingError(f"non-finite loss ({float(loss.detach()):.4g}) at iteration {run.iteration + 1} "
                                f"(epoch {run.epoch + 1}){kept}")

    # -- checkpoints ---------------------------------------------------------------------------

    def _state(self, run: RunState, model: nn.Module, optimizer, scaler, placement: Placement,
               epoch_iteration: int) -> dict[str, Any]:
        return {
            "actioncore_version": self.host.distributions().get("actioncore", "?"),
            "plugins": self.host.distributions(),
            "experiment": dump_experiment(self.exp, self.host.registry),
            "epoch": run.epoch, "iteration": run.iteration, "epoch_iteration": epoch_iteration,
            "world_size": placement.world_size,
            "model": (self.ema.module if self.ema is not None else _unwrap(model)).state_dict(),
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict(), "rng": all_gather_objects(ckpt.rng_state(), placement),
            "best": run.extra.get("best"),
            **({"ema": self.ema.state(_unwrap(model))} if self.ema is not None else {}),
            **({"early_stopping": self.early_stopping.state()} if self.early_stopping is not None else {}),
            **({"stop_reason": run.stop_reason} if run.stop_requested else {}),
        }

    def _save(self, run: RunState, model: nn.Module, optimizer, scaler, placement: Placement, *,
              epoch_end: bool, epoch_iteration: int = 0) -> Path | None:
        state = self._state(run, model, optimizer, scaler, placement, epoch_iteration)
        if not placement.is_main:
            return None
        name = f"epoch_{run.epoch}.pth" if epoch_end else f"iter_{run.iteration}.pth"
        path = ckpt.save_checkpoint(self.checkpoints / name, state)
        ckpt.link_checkpoint(path, self.checkpoints / "latest.pth")
        if epoch_end:
            ckpt.prune_epochs(self.checkpoints, self.exp.runtime.keep_checkpoints)
        for old in self.checkpoints.glob("iter_*.pth"):
            if old != path:
                old.unlink(missing_ok=True)
        log.info("saved %s", path)
        self.host.lifecycle.checkpoint_saved(run, path, (path.stem, "latest"))
        return path

    def _resume(self, run: RunState, model: nn.Module, optimizer, scaler, placement: Placement,
                allow_changes: bool) -> int:
        path = self.checkpoints / "latest.pth"
        if not path.is_file():
            raise CheckpointError(f"--resume: no checkpoint to resume from in {self.checkpoints}")
        state = ckpt.load_checkpoint(path)
        if state.get("format") != ckpt.FORMAT:
            raise CheckpointError(f"{path}: not an actioncore training checkpoint")
        if state["world_size"] != placement.world_size:
            raise CheckpointError(f"{path}: written by {state['world_size']} process(es); resume with the same "
                                  f"number (now {placement.world_size}) to continue exactly")
        changes = experiment_changes(state.get("experiment", ""), dump_experiment(self.exp, self.host.registry),
                                     defaults=dump_experiment(Experiment(), self.host.registry))
        if changes and not allow_changes:
            raise ConfigError(f"--resume: the experiment differs from the one {path} was trained with: "
                              f"{'; '.join(changes)}. Resume with the same experiment to continue exactly, "
                              "or add --allow-changes to continue under the new values")
        for change in changes:
            log.warning("resuming under a changed experiment: %s", change)
        self._restore_weights(model, state, path)
        self._restore_optimizer(optimizer, state["optimizer"], path, changed=bool(changes))
        scaler.load_state_dict(state["scaler"])
        ckpt.restore_rng(state["rng"][placement.rank])
        run.epoch, run.iteration = state["epoch"], state["iteration"]
        run.extra["best"] = state.get("best")
        run.stop_reason = state.get("stop_reason")
        if self.early_stopping is not None and "early_stopping" in state:
            self.early_stopping.restore(state["early_stopping"])
        best_file = self.checkpoints / f"epoch_{run.extra['best']['epoch']}.pth" if run.extra["best"] else None
        if placement.is_main and best_file is not None and best_file.is_file():
            ckpt.link_checkpoint(best_file, self.checkpoints / "best.pth")  # killed before it was linked
        log.info("resumed from %s at epoch %d, iteration %d", path, run.epoch, run.iteration)
        return state["epoch_iteration"]

    def _restore_weights(self, model: nn.Module, state: Mapping[str, Any], path: Path) -> None:
        """The trained weights and, under ``[hooks.ema]``, the average: a checkpoint written with
        EMA holds the average as ``model`` and the trained weights in ``ema.source`` (as mmengine's
        EMAHook swaps them); one written without starts the average from the trained weights."""
        ema_state = state.get("ema")
        load_into(model, ema_state["source"] if ema_state is not None else state["model"], path)
        if self.ema is None:
            if ema_state is not None:
                log.warning("resuming without [hooks.ema] from %s, which holds an EMA: training continues "
                            "from its trained weights (ema.source)", path)
            return
        if ema_state is None:
            log.warning("resuming with [hooks.ema] from %s, which holds none: the average starts from its weights", path)
            self.ema.module.load_state_dict(model.state_dict())
        else:
            self.ema.restore(state["model"], ema_state)

    def _precise_bn(self, model: nn.Module, loader, run: RunState, placement: Placement) -> None:
        """``[hooks.precise_bn]``: BN statistics of ``model`` (the evaluated one) from this
        epoch's first training batches (the sampler's order, so a resumed run uses the same)."""
        cfg = self.exp.hooks.precise_bn
        was_training = model.training
        model.train()
        loader.sampler.set_epoch(run.epoch - 1)

        def forward(batch: Mapping[str, Any]) -> None:
            with _autocast(placement.device, self.exp.runtime.amp):
                call_model(model, self.adapter.prepare_inputs(batch, placement.device))

        used = update_bn_stats(model, loader, forward, num_iters=cfg.num_iters, distributed=placement.distributed)
        model.train(was_training)
        log.info("precise BN: statistics recomputed over %d batch(es)", used)

    def _restore_optimizer(self, optimizer: torch.optim.Optimizer, stored: Mapping[str, Any], path: Path, *,
                           changed: bool) -> None:
        """The stored optimizer state; under changed settings (``--allow-changes``) its buffers are
        kept, each group's hyper-parameters take the new experiment's values, and a state that does
        not fit the new optimizer (another type or grouping) is dropped, as the log says."""
        fresh = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
        try:
            optimizer.load_state_dict(stored)
        except (ValueError, KeyError) as exc:
            if not changed:
                raise CheckpointError(f"{path}: the optimizer state does not fit: {exc}") from None
            log.warning("resuming under a changed experiment: the stored optimizer state does not fit the new "
                        "optimizer (%s); it starts fresh", exc)
            return
        if changed:
            for group, settings in zip(optimizer.param_groups, fresh):
                group.update(settings)

    def _update_best(self, run: RunState, metrics: Mapping[str, float]) -> bool:
        """Record this epoch as the best when its metric beats the best so far; True if it does."""
        name = self.exp.runtime.best_metric or next(iter(metrics), None)
        if name is None or name not in metrics:
            if self.exp.runtime.best_metric:
                raise ConfigError(f"runtime.best_metric = '{name}' is not among the metrics: {', '.join(metrics)}")
            return False
        best = run.extra.get("best")
        if best is None or metrics[name] > best["value"]:
            run.extra["best"] = {"metric": name, "value": metrics[name], "epoch": run.epoch}
            return True
        return False

    def _link_best(self, run: RunState, saved: Path, placement: Placement) -> None:
        if placement.is_main:
            best = run.extra["best"]
            ckpt.link_checkpoint(saved, self.checkpoints / "best.pth")
            log.info("new best %s = %.4f at epoch %d", best["metric"], best["value"], run.epoch)
            self.host.lifecycle.checkpoint_saved(run, saved, ("best",))

    # -- evaluation ----------------------------------------------------------------------------

    def _evaluate(self, model: nn.Module, loader, split: str, placement: Placement,
                  run: RunState) -> dict[str, float]:
        outputs, skipped = self._predict(model, loader, placement, split=split)
        metrics, images = ({}, {}) if not outputs else self.adapter.compute_metrics(outputs, split)
        metrics = broadcast_object(metrics, placement)
        self._count_skipped(split, metrics, skipped, run)
        run.extra["images"] = {f"{split}/{k}": v for k, v in images.items()}
        log.info("%s: %s", split, "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
        self.host.lifecycle.after_evaluation(run, split, metrics)
        return dict(metrics)

    def predict(self, model: nn.Module, loader, placement: Placement) -> dict[str, np.ndarray]:
        """Per-sample outputs over the whole split, gathered from every rank, each index once."""
        return self._predict(model, loader, placement)[0]

    def _predict(self, model: nn.Module, loader, placement: Placement, *,
                 split: str = "predict") -> tuple[dict[str, np.ndarray], list[BadSample]]:
        """:meth:`predict`, and the samples ``on_error = "skip"`` left out of it (every rank's);
        a bar named ``split`` counts the batches on a terminal."""
        model = _unwrap(model)
        model.eval()
        loader.sampler.set_epoch(0)
        rows: dict[str, list[np.ndarray]] = defaultdict(list)
        skipped: list[BadSample] = list(getattr(loader.dataset, "bad_records", []))
        bar = progress_bar(total=len(loader), desc=split, unit="batch", enabled=placement.is_main)
        with torch.no_grad(), _autocast(placement.device, self.exp.runtime.amp), _failures_explained(loader):
            for batch in _tracked(loader, bar):
                skipped += batch.get("skipped", [])
                for key, value in self.adapter.eval_step(model, batch, placement.device).items():
                    rows[key].append(np.asarray(value))
                bar.update()
        local = {k: np.concatenate(v) for k, v in rows.items()}
        skipped = unique_bad([s for part in all_gather_objects(skipped, placement) for s in part])
        parts = [p for p in all_gather_objects(local, placement) if p]
        if not parts:
            return {}, skipped
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        _, first = np.unique(merged["index"], return_index=True)
        return {k: v[first] for k, v in merged.items()}, skipped

    def _count_skipped(self, split: str, metrics: dict[str, Any], skipped: list[BadSample], run: RunState) -> None:
        """Under ``on_error = "skip"``: the ``skipped`` count joins the metrics, the files go to
        the log (stderr, run.log) and, through ``run.extra``, to log.jsonl."""
        if self.exp.data.on_error != "skip":
            return
        metrics["skipped"] = len(skipped)
        run.extra.setdefault("skipped", {})[split] = [f"{b.where}: {b.reason}" for b in skipped]
        if skipped:
            log.warning("%s: %d bad sample(s) skipped; the metrics leave them out:\n%s", split, len(skipped),
                        report_skipped(skipped))

    def evaluate(self, checkpoint: str | Path, split: str = "test") -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Metrics of ``checkpoint`` on ``split``, and the per-sample outputs behind them."""
        placement = setup_placement(self.exp.runtime.device)
        try:
            self._seed(placement)
            model = self._build_model(placement)
            load_weights(model, checkpoint)
            if self.exp.runtime.compile:
                compile_model(model)
            loader = self._loader(split, placement, train=False)
            run = RunState(experiment=self.exp, work_dir=self.work_dir, rank=placement.rank,
                           world_size=placement.world_size, model=model)
            # the weights are loaded and stay: compiled graphs may treat them as constants
            with frozen_weights(enabled=self.exp.runtime.compile):
                outputs, skipped = self._predict(model, loader, placement, split=split)
            metrics, _ = self.adapter.compute_metrics(outputs, split)
            self._count_skipped(split, metrics, skipped, run)
            self.host.lifecycle.after_evaluation(run, split, metrics)
            if skipped:  # not a metric (hooks get numbers only), but a script reading --json needs them
                metrics["skipped_samples"] = run.extra["skipped"][split]
            return metrics, outputs
        finally:
            teardown(placement)


def _failures_explained(loader: Any) -> contextlib.AbstractContextManager:
    """The loader's translation of a dead DataLoader worker into an error naming its file; torch
    reports the death wherever the main process is, so the work on each batch runs inside it."""
    return getattr(loader, "failures_explained", contextlib.nullcontext)()


def _tracked(loader: Any, bar: Any) -> Any:
    """Iterate ``loader``, closing ``bar`` however the loop ends (an exception, a break)."""
    with bar:
        yield from loader


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

