"""The ``masked_video_pretraining`` task: VideoMAE's self-supervised pre-training on unlabeled
videos (Tong et al., NeurIPS 2022; the official code, MCG-NJU/VideoMAE, ``run_mae_pretraining.py``
and ``engine_for_pretraining.py``).

Each training clip gets a tube mask (:mod:`.masking`, ``mask_ratio`` 0.9 by default); the model
(e.g. actioncore-videomae's ``videomae_pretrainer``) encodes the visible cubes, decodes every
hidden one and is trained with the mean squared error against the hidden cubes' pixels
(:mod:`.targets`; normalised per cube with ``norm_pix_loss``, the paper's default). The
annotation lists need no labels (``unlabeled_video_list`` of actioncore-lists). A validation
split, if any, is scored by the same loss under fixed masks.

Fine-tune from the result with ``runtime.load_from`` (or ``model.backbone.pretrained``) in a
recognition experiment: the encoder's ``backbone.*`` tensors are the recognizer's backbone.

The model contract: ``model(inputs [N, C, T, H, W], mask bool [N, L]) -> [N, hidden, D]``
predictions in the order of the hidden tokens, and attributes ``patch_size`` and
``tubelet_size`` (the cube the tokens and targets share).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from actioncore.sdk import ConfigError, Experiment, build_model
from actioncore.sdk.data import normalize_on_device
from actioncore.sdk.engine import TrainerTask

from .masking import hidden_per_slice, tube_mask
from .targets import pixel_targets

MaskType = Literal["tube"]
EVAL_SEED = 20_220_323
"""Seeds the validation masks (per dataset index), so every evaluation scores the same masks."""


def clips_and_pixels(batch: Mapping[str, Any], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The normalised clips ``[N, C, T, H, W]`` (views of a sample side by side) and the same
    clips' pixels in 0-1, channels in the clips' order (the target is the input undone)."""
    normalize = batch.get("normalize")
    if normalize is None or batch.get("input_format") != "NCTHW":
        raise ConfigError("masked_video_pretraining needs clips formatted NCTHW and normalised on the device "
                          "(end the training pipeline with normalize and format_shape input_format = \"NCTHW\")")
    raw = batch["inputs"].to(device, non_blocking=True)
    clips = normalize_on_device(raw, **normalize).flatten(0, 1)
    pixels = raw.flatten(0, 1).float() / 255.0
    if normalize.get("to_bgr"):
        pixels = pixels.flip(1)
    return clips, pixels


class MaskedVideoAdapter:
    """How the trainer builds, trains and scores a masked video autoencoder."""

    def __init__(self, task: MaskedVideoPretrainingTask, experiment: Experiment):
        self.task = task
        self.experiment = experiment
        self.built: nn.Module | None = None
        """The model :meth:`build_model` made last: its cube size shapes :meth:`prepare_inputs`' mask."""

    def build_model(self, experiment: Experiment) -> nn.Module:
        if experiment.model is None:
            raise ConfigError("the masked_video_pretraining task needs a [model] table (e.g. type = \"videomae_pretrainer\")")
        model = build_model(experiment)
        if not all(hasattr(model, a) for a in ("patch_size", "tubelet_size")):
            raise ConfigError(f"model.type: {type(model).__name__} is no masked video autoencoder (it lacks "
                              "patch_size / tubelet_size); use e.g. \"videomae_pretrainer\"")
        self.built = model
        return model

    def grid(self, model: nn.Module, clips: torch.Tensor) -> tuple[int, int, int]:
        model = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
        _, _, t, h, w = clips.shape
        return t // model.tubelet_size, h // model.patch_size, w // model.patch_size

    def loss(self, model: nn.Module, clips: torch.Tensor, pixels: torch.Tensor, mask: torch.Tensor,
             *, reduce: bool = True) -> torch.Tensor:
        """Mean squared error of the predicted hidden cubes (per sample when not ``reduce``)."""
        inner = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
        with torch.no_grad():
            targets = pixel_targets(pixels, tubelet_size=inner.tubelet_size, patch_size=inner.patch_size,
                                    normalize=self.task.norm_pix_loss)
            targets = targets[mask].reshape(targets.shape[0], -1, targets.shape[2])
        predictions = model(clips, mask).float()
        if predictions.shape != targets.shape:
            raise ValueError(f"masked_video_pretraining: the model predicts {tuple(predictions.shape)} for "
                             f"targets {tuple(targets.shape)}")
        if reduce:
            return F.mse_loss(predictions, targets)
        return (predictions - targets).pow(2).flatten(1).mean(1)

    def train_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        clips, pixels = clips_and_pixels(batch, device)
        # one mask stream per (seed, iteration, rank): a resumed run hides the same cubes
        seed = (self.experiment.runtime.seed * 1_000_003 + int(batch.get("iteration", 0))) * 1009 + int(
            os.environ.get("RANK", "0"))
        generator = torch.Generator().manual_seed(seed)
        mask = tube_mask(batch=clips.shape[0], grid=self.grid(model, clips), mask_ratio=self.task.mask_ratio,
                         generator=generator, device=device)
        return {"loss": self.loss(model, clips, pixels, mask) * self.task.loss_weight}

    def eval_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, np.ndarray]:
        clips, pixels = clips_and_pixels(batch, device)
        views = clips.shape[0] // len(batch["indices"])
        masks = [tube_mask(batch=views, grid=self.grid(model, clips), mask_ratio=self.task.mask_ratio,
                           generator=torch.Generator().manual_seed(EVAL_SEED + int(i)), device=device)
                 for i in batch["indices"]]
        with torch.no_grad():
            losses = self.loss(model, clips, pixels, torch.cat(masks), reduce=False)
        return {"index": batch["indices"].numpy(),
                "reconstruction_loss": losses.view(-1, views).mean(1).float().cpu().numpy()}

    def compute_metrics(self, outputs: Mapping[str, np.ndarray], split: str) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """``neg_reconstruction_loss`` first (the default ``best_metric``: higher is better), then
        ``reconstruction_loss``."""
        loss = float(np.mean(outputs["reconstruction_loss"]))
        return {"neg_reconstruction_loss": -loss, "reconstruction_loss": loss}, {}

    def prepare_inputs(self, batch: Mapping[str, Any], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The clips and a tube mask at ``mask_ratio`` (fixed seed): the forward that ``info`` counts
        and ``bench model`` times encodes the visible cubes only, as pre-training does."""
        clips = clips_and_pixels(batch, device)[0]
        if self.built is None:
            raise ConfigError("masked_video_pretraining: prepare_inputs needs the model's cube size; build the model first")
        mask = tube_mask(batch=clips.shape[0], grid=self.grid(self.built, clips), mask_ratio=self.task.mask_ratio,
                         generator=torch.Generator().manual_seed(EVAL_SEED), device=device)
        return clips, mask


class MaskedVideoPretrainingTask(TrainerTask):
    """Masked video autoencoding on unlabeled clips (VideoMAE).

    :param mask_ratio: share of the patch positions hidden in every time slice (VideoMAE: 0.9;
        ``int(mask_ratio * h * w)`` of them, as the official generator counts).
    :param mask_type: ``tube`` (the same positions in every time slice of a clip).
    :param norm_pix_loss: standardise each target cube per channel (the official
        ``normlize_target``, on by default); off: the raw 0-1 pixels.
    :param loss_weight: factor on the loss.
    """

    def __init__(self, *, mask_ratio: float = 0.9, mask_type: MaskType = "tube", norm_pix_loss: bool = True,
                 loss_weight: float = 1.0):
        if mask_type != "tube":
            raise ConfigError(f"task.mask_type: only \"tube\" masking is implemented, got {mask_type!r}")
        if not 0.0 < mask_ratio < 1.0:
            raise ConfigError(f"task.mask_ratio must be in (0, 1), got {mask_ratio}")
        self.mask_ratio = mask_ratio
        self.mask_type = mask_type
        self.norm_pix_loss = norm_pix_loss
        self.loss_weight = loss_weight

    def adapter(self, experiment: Experiment) -> MaskedVideoAdapter:
        return MaskedVideoAdapter(self, experiment)


__all__ = ["MaskedVideoAdapter", "MaskedVideoPretrainingTask", "clips_and_pixels"]
