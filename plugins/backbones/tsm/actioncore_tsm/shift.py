"""Temporal shift (TSM, Lin et al., ICCV 2019) and the wrappers that put it inside a 2D ResNet."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _shift(x: torch.Tensor, fold: int, *, first_from_future: bool) -> torch.Tensor:
    """``x`` ``[N, T, C, H, W]``: channels ``[0, fold)`` read frame t+1 (t-1 when not
    ``first_from_future``), channels ``[fold, 2 fold)`` the other way, zeros past either end."""
    if torch.compiler.is_compiling():
        if not torch.compiler.is_exporting():
            # torch.compile: an opaque op that runs the slice copies below. Inductor's own code for
            # the shift (a concatenation, or these slices) indexes element by element in the
            # channels-last layout that frozen inference picks: 2.7x the eager copies' time, 22% of
            # TSM-R50's compiled inference.
            return torch.ops.actioncore_tsm.temporal_shift(x, fold, first_from_future)
        # torch.export (ONNX): one concatenation of padded slices, plain aten operators
        future, past = _folds(fold, first_from_future)
        ahead = F.pad(x[:, 1:, future], (0, 0, 0, 0, 0, 0, 0, 1))
        behind = F.pad(x[:, :-1, past], (0, 0, 0, 0, 0, 0, 1, 0))
        parts = (ahead, behind) if first_from_future else (behind, ahead)
        return torch.cat([*parts, x[:, :, 2 * fold:]], dim=2)
    return _shift_copies(x, fold, first_from_future)


def _folds(fold: int, first_from_future: bool) -> tuple[slice, slice]:
    """The channels that read the next frame and those that read the previous one."""
    first, second = slice(0, fold), slice(fold, 2 * fold)
    return (first, second) if first_from_future else (second, first)


def _shift_copies(x: torch.Tensor, fold: int, first_from_future: bool) -> torch.Tensor:
    future, past = _folds(fold, first_from_future)
    out = torch.empty_like(x)
    out[:, :-1, future] = x[:, 1:, future]
    out[:, -1, future] = 0
    out[:, 1:, past] = x[:, :-1, past]
    out[:, 0, past] = 0
    out[:, :, 2 * fold:] = x[:, :, 2 * fold:]
    return out


@torch.library.custom_op("actioncore_tsm::temporal_shift", mutates_args=(), tags=(torch.Tag.flexible_layout,))
def _temporal_shift_op(x: torch.Tensor, fold: int, first_from_future: bool) -> torch.Tensor:
    """The shift as one operator for torch.compile (see :func:`_shift`); ``x`` ``[N, T, C, H, W]``.
    It has no autograd formula of its own: :class:`_TemporalShiftFunction` calls it both ways."""
    return _shift_copies(x, fold, first_from_future)


@_temporal_shift_op.register_fake
def _(x: torch.Tensor, fold: int, first_from_future: bool) -> torch.Tensor:
    return torch.empty_like(x)


class _TemporalShiftFunction(torch.autograd.Function):
    """The shift with its adjoint as backward (the opposite shift): every element written once,
    where slicing-based autograd would zero-fill and add a full-size gradient per slice."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, fold: int) -> torch.Tensor:
        ctx.fold = fold
        return _shift(x, fold, first_from_future=True)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return _shift(grad, ctx.fold, first_from_future=False), None


def temporal_shift(x: torch.Tensor, num_segments: int, shift_div: int = 8) -> torch.Tensor:
    """Shift a fold of ``C // shift_div`` channels one frame each way along time.

    ``x`` is ``[N * T, C, H, W]`` with ``T = num_segments`` consecutive frames per clip. Channels
    ``[0, fold)`` take the *next* frame's values (the last frame gets zeros), channels
    ``[fold, 2 * fold)`` the *previous* frame's (the first frame gets zeros), the rest stay.
    This is MMAction2's ``TemporalShift.shift``.
    """
    nt, c, h, w = x.shape
    if nt % num_segments:
        raise ValueError(f"temporal shift: {nt} frames are not a multiple of num_segments = {num_segments}")
    x = x.reshape(nt // num_segments, num_segments, c, h, w)
    if torch.is_grad_enabled() and x.requires_grad:
        return _TemporalShiftFunction.apply(x, c // shift_div).reshape(nt, c, h, w)
    # no gradient wanted (inference, exports): the plain shift, which torch.jit.trace can record
    # (it cannot record a custom autograd Function) and torch.export sees as ordinary slicing
    return _shift(x, c // shift_div, first_from_future=True).reshape(nt, c, h, w)


class TemporalShift(nn.Module):
    """Shift, then run ``net`` (MMAction2's wrapper: the wrapped module is ``net``)."""

    wrapped = "net"

    def __init__(self, net: nn.Module, num_segments: int = 3, shift_div: int = 8):
        super().__init__()
        self.net = net
        self.num_segments = num_segments
        self.shift_div = shift_div

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(temporal_shift(x, self.num_segments, self.shift_div))


class TemporalPool(nn.Module):
    """Halve the frames with a temporal max pool (3, stride 2, pad 1), then run ``net``."""

    wrapped = "net"

    def __init__(self, net: nn.Module, num_segments: int):
        super().__init__()
        self.net = net
        self.num_segments = num_segments
        self.max_pool3d = nn.MaxPool3d(kernel_size=(3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nt, c, h, w = x.shape
        t = self.num_segments
        x = x.reshape(nt // t, t, c, h, w).transpose(1, 2)
        x = self.max_pool3d(x).transpose(1, 2)
        return self.net(x.reshape(-1, c, h, w))
