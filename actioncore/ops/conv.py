"""Drop-in ``nn.Conv2d`` / ``nn.Conv3d`` that run oneDNN where PyTorch's CPU dispatch falls back
to its slow path.

PyTorch picks a CPU convolution backend by rules tuned for 2D images. Two of them send common
video convolutions to ``slow_conv2d`` / ``slow_conv3d`` (im2col + GEMM) although oneDNN runs them
faster:

* with one thread and a batch under 16, every unstrided convolution with a 1 x 1 spatial kernel
  (the 1x1 bottlenecks of ResNets, I3D/SlowOnly/CSN, the 3x1x1 temporal halves of R(2+1)D,
  X3D's 5x1x1 depthwise temporal stem);
* with a batch of one, an input whose ``N*C*size(2)*size(3)`` is at most 20480 (the rule ignores
  the last axis, and for 5D inputs T stands where W stood), e.g. C3D's first and last blocks.

These are the shapes of single-clip inference (``actioncore infer``, ``bench model``) and of
small batches on laptops. The README's speed table has the effect per model, measured against
MMAction2 1.2.0 (``benchmarks/models_vs_mmaction2.py``, one thread, 112 px): on an AMD EPYC (AVX2)
e.g. R(2+1)D-34 inference 0.51x and a training step 0.73x MMAction2's time; C3D 0.81x and 0.86x.

Where the CPU has AVX-512, MKL's GEMM makes PyTorch's im2col path the faster one for pointwise
kernels (all ones: 1x1, 1x1x1), which are a single GEMM there: measured on an Intel Xeon, oneDNN
took 1.1-3.7x PyTorch's time for ResNet bottlenecks' 1x1(x1) inference and about the same for
training; ir-CSN-152, the most pointwise-heavy, ran 1.07x / 1.09x MMAction2's time (training /
inference) with it and 0.98x / 1.00x without.
:data:`POINTWISE_ON_ONEDNN` is therefore off on AVX-512 CPUs; larger kernels (3x1x1, 1x3x3, C3D's)
stay on oneDNN everywhere.

Weights, state-dict keys and results (to float rounding, about 1e-7 relative) are those of the
``torch.nn`` class. Only unstrided, undilated, ungrouped or depthwise float32 CPU convolutions with
zero padding are taken over, and only where PyTorch's own choice is the slow path; everything else
(GPU, strided, other grouped, half precision, autocast, ``torch.compile``, tracing, dispatch modes such as
``FlopCounterMode``, ``torch.backends.mkldnn.flags(enabled=False)``) runs exactly as in ``torch.nn``,
but for one layout change: on AVX-512 CPUs a depthwise 3D convolution that PyTorch itself runs on
oneDNN gets channels-last copies of its input and weight (:data:`DEPTHWISE_IN_CHANNELS_LAST`), and
when it is unstrided, a backward made of forward depthwise convolutions (:class:`_DepthwiseChannelsLast`).
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.utils._python_dispatch import _get_current_dispatch_mode

_aten = torch.ops.aten
_SLOW = (torch._C._ConvBackend.Slow2d, torch._C._ConvBackend.Slow3d)

POINTWISE_ON_ONEDNN: bool = not torch.backends.cpu.get_cpu_capability().startswith("AVX512")
"""Whether pointwise kernels (all ones) that PyTorch sends to its slow path go to oneDNN instead;
off on CPUs with AVX-512 (see the module docstring). Tests set it to exercise both paths."""

DEPTHWISE_IN_CHANNELS_LAST: bool = torch.backends.cpu.get_cpu_capability().startswith("AVX512")
"""Whether depthwise 3D convolutions that PyTorch runs on oneDNN get their input and weight in
channels-last layout (the output comes back contiguous). oneDNN's depthwise kernels want channels
innermost; on a plain NCDHW tensor its backward took 4-8x its forward. Measured on an Intel Xeon
(AVX-512), one thread, forward and backward: X3D's 3x3x3 depthwise convolutions 1.2-1.9x faster
with both copies counted (forward alone 1.4-1.8x); not measured on other CPUs, so off there.
Unstrided ones also get :class:`_DepthwiseChannelsLast`'s backward: training steps of ir-CSN-152
and X3D-M 0.8x of what they took with oneDNN's backward (0.94-0.96 -> 0.75-0.79 and 0.79 -> 0.63-0.64
of MMAction2's time)."""

MIN_BACKWARD_POSITIONS = 512
"""Output positions per channel (H*W or T*H*W) from which the backward also runs on oneDNN. Its
input gradient convolves with the flipped weight and its weight gradient swaps the roles of batch
and channels; below this size the weight-sized copies cost more than oneDNN saves (measured: C3D's
2x7x7 last block, 33 ms vs 16 ms for the weight gradient), so small outputs keep PyTorch's backward.
2D 1x1 convolutions keep it too: their weight gradient is one GEMM there, and the swapped-roles
convolution (a kernel as large as the image) was 4x slower for ResNet-50's first bottleneck."""


def _eligible(x: torch.Tensor, conv: nn.Conv2d | nn.Conv3d) -> bool:
    """What both rules below need: an eager float32 CPU call with zero padding that oneDNN may run."""
    if torch.compiler.is_compiling() or torch.jit.is_tracing():  # first: the rest is not traceable
        return False
    return not (x.device.type != "cpu" or x.dtype != torch.float32 or x.dim() != len(conv.kernel_size) + 2
                or x.is_mkldnn or conv.padding_mode != "zeros" or isinstance(conv.padding, str)
                or not torch.backends.mkldnn.is_available() or not torch.backends.mkldnn.enabled
                or torch.is_autocast_enabled("cpu")  # runtime.amp: let autocast pick bfloat16 kernels
                or _get_current_dispatch_mode() is not None)  # FLOP counters, fake tensors see aten.convolution


def _unstrided(conv: nn.Conv2d | nn.Conv3d) -> bool:
    """Unit stride and dilation, and padding under the kernel size: what lets the backward take the
    input gradient as a plain convolution of the output gradient with the flipped kernel."""
    ones = (1,) * len(conv.kernel_size)
    return (conv.stride == ones and conv.dilation == ones
            and all(p <= k - 1 for k, p in zip(conv.kernel_size, conv.padding)))


def takes_onednn(x: torch.Tensor, conv: nn.Conv2d | nn.Conv3d) -> bool:
    """Whether ``conv`` applied to ``x`` runs on oneDNN here rather than as in ``torch.nn``."""
    if not _eligible(x, conv):
        return False
    dims = len(conv.kernel_size)
    ones = (1,) * dims
    if (conv.groups not in (1, conv.in_channels) or (conv.groups > 1 and conv.weight.shape[0] != conv.groups)
            or not _unstrided(conv) or (conv.kernel_size == ones and not POINTWISE_ON_ONEDNN)):
        return False
    chosen = torch._C._select_conv_backend(  # PyTorch's own rule, so we step in only where it falls back
        x, conv.weight, conv.bias, list(ones), list(conv.padding), list(ones), False, [0] * dims, conv.groups, None)
    return chosen in _SLOW


def depthwise_in_channels_last(x: torch.Tensor, conv: nn.Conv3d) -> bool:
    """Whether the depthwise 3D ``conv`` applied to ``x`` runs with channels-last copies here."""
    if not DEPTHWISE_IN_CHANNELS_LAST or len(conv.kernel_size) != 3 or not _eligible(x, conv):
        return False
    if (conv.groups == 1 or conv.groups != conv.in_channels or conv.weight.shape[1] != 1
            or conv.kernel_size == (1, 1, 1) or x.is_contiguous(memory_format=torch.channels_last_3d)):
        return False
    chosen = torch._C._select_conv_backend(  # oneDNN only: a (k,1,1) kernel goes to the slow path, slower in this layout
        x, conv.weight, conv.bias, list(conv.stride), list(conv.padding), list(conv.dilation), False,
        [0] * 3, conv.groups, None)
    return chosen == torch._C._ConvBackend.Mkldnn


def _depthwise_weight_grad(x: torch.Tensor, grad: torch.Tensor, kernel: torch.Size,
                           padding: list[int]) -> torch.Tensor:
    """``[C, 1, *kernel]`` weight gradient of a unit-stride depthwise convolution: for each kernel
    offset, the sum over batch and positions of the output gradient times the shifted input. One
    pass per offset: meant for the (k,1,1) temporal kernels and the small inputs that reach here."""
    pads = [q for p in reversed(padding) for q in (p, p)]
    padded = torch.nn.functional.pad(x, pads)
    out_size = grad.shape[2:]
    sums = [(grad * padded[(slice(None), slice(None), *(slice(o, o + n) for o, n in zip(offset, out_size)))])
            .sum([0, *range(2, grad.dim())]) for offset in itertools.product(*(range(k) for k in kernel))]
    return torch.stack(sums, 1).reshape(grad.shape[1], 1, *kernel)


class _OneDNNConv(torch.autograd.Function):
    """Unit-stride convolution on oneDNN, forward and (for large outputs) backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                padding: list[int], groups: int) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        ctx.groups = groups
        ctx.has_bias = bias is not None
        ones = [1] * len(padding)
        return _aten.mkldnn_convolution(x, weight, bias, padding, ones, ones, groups)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        want_x, want_w, want_b = ctx.needs_input_grad[:3]
        want_b = want_b and ctx.has_bias
        dims = len(ctx.padding)
        ones = [1] * dims
        groups = ctx.groups
        if math.prod(grad.shape[2:]) < MIN_BACKWARD_POSITIONS or (dims == 2 and weight.shape[2:] == (1, 1)):
            grad_x, grad_w, grad_b = _aten.convolution_backward(
                grad, x, weight, [weight.shape[0]] if ctx.has_bias else None, ones, ctx.padding, ones,
                False, [0] * dims, groups, [want_x, want_w, want_b])
            return grad_x, grad_w, grad_b, None, None
        grad_x = grad_w = grad_b = None
        if want_x:  # the transposed convolution, written as a correlation with the flipped kernel
            flipped = weight if groups > 1 else weight.transpose(0, 1)  # depthwise: one channel in, one out
            flipped = flipped.flip(list(range(2, 2 + dims))).contiguous()
            full = [k - 1 - p for k, p in zip(weight.shape[2:], ctx.padding)]
            grad_x = _aten.mkldnn_convolution(grad, flipped, None, full, ones, ones, groups)
        if want_w and groups > 1:  # depthwise: per kernel offset, a channel-wise sum of products
            grad_w = _depthwise_weight_grad(x, grad, weight.shape[2:], ctx.padding)
        elif want_w:  # correlate input with gradient, the batch axis summed as the channel axis
            grad_w = _aten.mkldnn_convolution(
                x.transpose(0, 1).contiguous(), grad.transpose(0, 1).contiguous(), None,
                ctx.padding, ones, ones, 1).transpose(0, 1)
        if want_b:
            grad_b = grad.sum([0, *range(2, 2 + dims)])
        return grad_x, grad_w, grad_b, None, None


def _planar(x: torch.Tensor) -> torch.Tensor:
    """A contiguous copy of a channels-last 5D tensor, made clip by clip as a 2D transpose
    ``[T*H*W, C] -> [C, T*H*W]``: PyTorch copies 2D transposes in cache blocks, and the 5D
    permutation element by element (10.6 ms against 1.6 ms for 64 x 32 x 28 x 28 float32)."""
    channels = x.shape[1]
    planes = [clip.permute(1, 2, 3, 0).reshape(-1, channels).t().contiguous() for clip in x]
    return (planes[0][None] if len(planes) == 1 else torch.stack(planes)).view(x.shape)


class _DepthwiseChannelsLast(torch.autograd.Function):
    """Unit-stride depthwise 3D convolution on oneDNN in channels-last layout, forward and backward.

    oneDNN's depthwise backward took 10-20x its forward (Intel Xeon, AVX-512, one thread: 3 ms
    against 0.13 ms for ir-CSN's 256 x 8 x 7 x 7 blocks). Both gradients are forward depthwise
    convolutions instead: the input's, the output gradient correlated with the flipped kernel
    (1.1x the forward); the weight's, per clip, the padded input correlated with the output
    gradient as its kernel (1.7-11x faster than oneDNN's).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                padding: list[int]) -> torch.Tensor:
        last = torch.channels_last_3d
        x, weight = x.contiguous(memory_format=last), weight.contiguous(memory_format=last)
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        ctx.has_bias = bias is not None
        return _planar(_aten.mkldnn_convolution(x, weight, bias, padding, [1] * 3, [1] * 3, weight.shape[0]))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        last = torch.channels_last_3d
        grad = grad.contiguous(memory_format=last)
        channels, ones = weight.shape[0], [1] * 3
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            flipped = weight.flip([2, 3, 4]).contiguous(memory_format=last)
            full = [k - 1 - p for k, p in zip(weight.shape[2:], ctx.padding)]
            grad_x = _planar(_aten.mkldnn_convolution(grad, flipped, None, full, ones, ones, channels))
        if ctx.needs_input_grad[1]:  # [1, C, *kernel] per clip: the clip's gradient is the kernel
            grad_w = sum(_aten.mkldnn_convolution(x[n:n + 1], grad[n:n + 1].transpose(0, 1), None,
                                                  ctx.padding, ones, ones, channels)
                         for n in range(x.shape[0])).transpose(0, 1).contiguous()
        if ctx.needs_input_grad[2] and ctx.has_bias:
            grad_b = grad.sum([0, 2, 3, 4])
        return grad_x, grad_w, grad_b, None


class _OneDNNWhereSlow:
    """``_conv_forward`` for ``nn.Conv2d`` / ``nn.Conv3d`` subclasses: oneDNN where
    :func:`takes_onednn`, else the ``torch.nn`` class's own."""

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor,
                      bias: torch.Tensor | None) -> torch.Tensor:
        if not takes_onednn(input, self):
            if isinstance(self, nn.Conv3d) and depthwise_in_channels_last(input, self):
                one_filter_per_channel = self.out_channels == self.in_channels
                if torch.is_grad_enabled() and _unstrided(self) and one_filter_per_channel:
                    return _DepthwiseChannelsLast.apply(input, weight, bias, list(self.padding))
                last = torch.channels_last_3d
                return _planar(super()._conv_forward(input.contiguous(memory_format=last),
                                                     weight.contiguous(memory_format=last), bias))
            return super()._conv_forward(input, weight, bias)
        padding = list(self.padding)
        if not torch.is_grad_enabled() or not (input.requires_grad or weight.requires_grad
                                               or (bias is not None and bias.requires_grad)):
            ones = [1] * len(padding)
            return _aten.mkldnn_convolution(input, weight, bias, padding, ones, ones, self.groups)
        return _OneDNNConv.apply(input, weight, bias, padding, self.groups)


class Conv2d(_OneDNNWhereSlow, nn.Conv2d):
    """``nn.Conv2d`` with the same parameters and results, faster on CPU where PyTorch uses its
    slow path (see the module docstring)."""


class Conv3d(_OneDNNWhereSlow, nn.Conv3d):
    """``nn.Conv3d`` with the same parameters and results, faster on CPU where PyTorch uses its
    slow path (see the module docstring). Use it wherever a model builds a 3D convolution."""
