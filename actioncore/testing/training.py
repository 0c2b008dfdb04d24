"""A model-plugin check: a few optimizer steps on one fixed batch should lower the loss."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


def fixed_batch_losses(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, *, steps: int = 5,
                       optimizer: torch.optim.Optimizer | None = None, reseed: int | None = None) -> list[float]:
    """Cross-entropy after each of ``steps`` training steps on ``(inputs, labels)``.

    :param optimizer: defaults to AdamW at 1e-3 over the trainable parameters.
    :param reseed: seed torch before every step, so dropout draws the same masks each time.
    """
    model.train()
    optimizer = optimizer or torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = []
    for _ in range(steps):
        if reseed is not None:
            torch.manual_seed(reseed)
        loss = nn.functional.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def tiny_recognizer_toml(*, dropout: float | None = 0.3) -> str:
    """The ``[model]`` tables of the tiny 3D recognizer the kernel's and plugins' training tests
    share (toy3d, width 4, depth 2, a linear head for the embedded set's 12 classes), as TOML."""
    head_dropout = "" if dropout is None else f"dropout = {dropout}\n"
    return ('[model]\ntype = "recognizer3d"\n[model.backbone]\ntype = "toy3d"\nwidth = 4\ndepth = 2\n'
            f'[model.head]\ntype = "linear_head"\nin_channels = 8\nnum_classes = 12\n{head_dropout}')


def tiny_run_toml(work_dir: str | Path, *, epochs: int = 1, log_interval: int = 1) -> str:
    """The ``[data]``, ``[optim]``, ``[schedule]`` and ``[runtime]`` tables of a one-process
    training test on the embedded set: batches of 8 in the main process, lr 0.05, deterministic,
    every iteration logged to ``log.jsonl``. Split tables (``[data.train]``, ...) follow them."""
    return (f'[data]\nbatch_size = 8\nworkers = 0\n[optim]\nlr = 0.05\n[schedule]\nepochs = {epochs}\n'
            f'[runtime]\nwork_dir = "{work_dir}"\nlog_interval = {log_interval}\ndeterministic = true\n')
