"""actioncore.ops.Conv2d/Conv3d: torch.nn's parameters and results, oneDNN where PyTorch falls back."""
from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from actioncore.ops import Conv2d, Conv3d
from actioncore.ops import conv as conv_module
from actioncore.ops.conv import MIN_BACKWARD_POSITIONS, depthwise_in_channels_last, takes_onednn


@pytest.fixture
def one_thread(torch_one_thread, monkeypatch):
    """PyTorch's slow path, which these layers replace, is taken with one thread. Pointwise kernels
    go to oneDNN too, as on CPUs without AVX-512, so that every case exercises the oneDNN path."""
    monkeypatch.setattr(conv_module, "POINTWISE_ON_ONEDNN", True)


def test_pointwise_kernels_stay_with_pytorch_on_avx512(torch_one_thread, monkeypatch):
    assert conv_module.POINTWISE_ON_ONEDNN is not torch.backends.cpu.get_cpu_capability().startswith("AVX512")
    x = torch.randn(1, 8, 4, 10, 10)
    monkeypatch.setattr(conv_module, "POINTWISE_ON_ONEDNN", False)
    assert not takes_onednn(x, Conv3d(8, 8, 1)) and not takes_onednn(torch.randn(2, 8, 10, 10), Conv2d(8, 8, 1))
    assert takes_onednn(x, Conv3d(8, 8, (3, 1, 1), padding=(1, 0, 0))), "larger kernels stay on oneDNN"
    monkeypatch.setattr(conv_module, "POINTWISE_ON_ONEDNN", True)
    assert takes_onednn(x, Conv3d(8, 8, 1))


CASES = [
    # (in, out, kernel, padding, input shape): each falls to slow_conv3d in PyTorch with one thread
    (8, 6, (3, 1, 1), (1, 0, 0), (1, 8, 8, 12, 12)),      # R(2+1)D temporal half, big output
    (8, 6, (1, 1, 1), (0, 0, 0), (2, 8, 4, 10, 10)),      # bottleneck 1x1x1, batch 2
    (3, 5, (3, 3, 3), (1, 1, 1), (1, 3, 4, 6, 6)),        # C3D-like small input: PyTorch's backward
    (4, 4, (3, 3, 3), (1, 1, 1), (1, 4, 8, 16, 16)),      # 2048 positions: oneDNN backward
    (4, 4, (3, 3, 3), (0, 1, 2), (1, 4, 8, 16, 16)),      # uneven padding
    (8, 6, (9, 1), (4, 0), (1, 8, 64, 17)),               # ST-GCN temporal unit (2D)
    (8, 6, (1, 1), (0, 0), (3, 8, 14, 14)),               # 2D ResNet bottleneck, 196 positions
]
CLASSES = {3: (nn.Conv3d, Conv3d), 2: (nn.Conv2d, Conv2d)}


@pytest.mark.parametrize("cin,cout,kernel,padding,shape", CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_same_values_and_gradients_as_torch_nn(one_thread, cin, cout, kernel, padding, shape, bias):
    torch.manual_seed(0)
    torch_class, our_class = CLASSES[len(kernel)]
    ref = torch_class(cin, cout, kernel, padding=padding, bias=bias).double()
    ours = our_class(cin, cout, kernel, padding=padding, bias=bias)
    ours.load_state_dict({k: v.float() for k, v in ref.state_dict().items()})
    x = torch.randn(shape, dtype=torch.float64)
    assert takes_onednn(x.float(), ours), "the case should be one PyTorch sends to its slow path"

    assert_same_values_and_gradients(ref, ours, x)


def assert_same_values_and_gradients(ref: nn.Module, ours: nn.Module, x: torch.Tensor) -> None:
    """``ours`` (float32) gives the float64 ``ref``'s output and gradients; our output and input
    gradient keep the contiguous layout."""
    x_ref = x.clone().requires_grad_()
    x_ours = x.float().requires_grad_()
    y_ref, y_ours = ref(x_ref), ours(x_ours)
    grad = torch.randn_like(y_ref)
    y_ref.backward(grad)
    y_ours.backward(grad.float())

    torch.testing.assert_close(y_ours.double(), y_ref.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x_ours.grad.double(), x_ref.grad, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(ours.weight.grad.double(), ref.weight.grad, rtol=1e-5, atol=1e-4)
    if ref.bias is not None:
        torch.testing.assert_close(ours.bias.grad.double(), ref.bias.grad, rtol=1e-5, atol=1e-4)
    assert y_ours.is_contiguous() and x_ours.grad.is_contiguous(), "the next layer gets the layout it would have had"


@pytest.mark.parametrize("kernel,padding,stride,batch,bias,out", [
    ((3, 3, 3), 1, 1, 1, False, 12),
    ((3, 3, 3), (0, 1, 2), 1, 2, True, 12),      # uneven padding, two clips: per-clip weight gradients summed
    ((1, 3, 3), (0, 1, 1), 1, 1, False, 12),
    ((3, 3, 3), 1, (1, 2, 2), 2, False, 12),     # strided: oneDNN's own backward on the channels-last copies
    ((3, 3, 3), 1, 1, 1, False, 24),             # two filters per channel: oneDNN's own backward too
])
def test_depthwise_convolutions_in_channels_last_give_torch_nns_values_and_gradients(
        torch_one_thread, monkeypatch, kernel, padding, stride, batch, bias, out):
    monkeypatch.setattr(conv_module, "DEPTHWISE_IN_CHANNELS_LAST", True)
    torch.manual_seed(0)
    ref = nn.Conv3d(12, out, kernel, padding=padding, stride=stride, groups=12, bias=bias).double()
    ours = Conv3d(12, out, kernel, padding=padding, stride=stride, groups=12, bias=bias)
    ours.load_state_dict({k: v.float() for k, v in ref.state_dict().items()})
    x = torch.randn(batch, 12, 6, 10, 10, dtype=torch.float64)
    assert depthwise_in_channels_last(x.float(), ours)
    backward = type(ours(x.float().requires_grad_()).grad_fn).__name__
    assert (backward == "_DepthwiseChannelsLastBackward") == (stride == 1 and out == 12), backward
    assert_same_values_and_gradients(ref, ours, x)


def test_only_depthwise_3d_float32_on_onednn_goes_channels_last(torch_one_thread, monkeypatch):
    monkeypatch.setattr(conv_module, "DEPTHWISE_IN_CHANNELS_LAST", True)
    x = torch.randn(1, 24, 16, 32, 32)
    assert depthwise_in_channels_last(x, Conv3d(24, 24, 3, padding=1, groups=24))
    assert not depthwise_in_channels_last(x, Conv3d(24, 24, 3, padding=1)), "not grouped"
    assert not depthwise_in_channels_last(x, Conv3d(24, 12, 3, padding=1, groups=12)), "grouped, not depthwise"
    assert not depthwise_in_channels_last(x.double(), Conv3d(24, 24, 3, padding=1, groups=24).double())
    assert not depthwise_in_channels_last(x.contiguous(memory_format=torch.channels_last_3d),
                                          Conv3d(24, 24, 3, padding=1, groups=24)), "already channels-last"
    assert not depthwise_in_channels_last(x, Conv3d(24, 24, (5, 1, 1), padding=(2, 0, 0), groups=24)), \
        "PyTorch's slow path for a (k,1,1) kernel, slower still in this layout"
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not depthwise_in_channels_last(x, Conv3d(24, 24, 3, padding=1, groups=24))
    monkeypatch.setattr(conv_module, "DEPTHWISE_IN_CHANNELS_LAST", False)
    assert not depthwise_in_channels_last(x, Conv3d(24, 24, 3, padding=1, groups=24))
    monkeypatch.undo()
    assert conv_module.DEPTHWISE_IN_CHANNELS_LAST is torch.backends.cpu.get_cpu_capability().startswith("AVX512")


@pytest.mark.parametrize("kernel,padding,shape", [
    ((5, 1, 1), (2, 0, 0), (1, 6, 8, 12, 12)),    # X3D's temporal depthwise stem: oneDNN backward
    ((3, 1, 1), (1, 0, 0), (2, 6, 4, 5, 5)),      # 100 positions: PyTorch's backward
])
@pytest.mark.parametrize("bias", [True, False])
def test_depthwise_kernels_pytorch_sends_to_its_slow_path_run_on_onednn(one_thread, kernel, padding, shape, bias):
    torch.manual_seed(0)
    ref = nn.Conv3d(6, 6, kernel, padding=padding, groups=6, bias=bias).double()
    ours = Conv3d(6, 6, kernel, padding=padding, groups=6, bias=bias)
    ours.load_state_dict({k: v.float() for k, v in ref.state_dict().items()})
    x = torch.randn(shape, dtype=torch.float64)
    assert takes_onednn(x.float(), ours), "the case should be one PyTorch sends to its slow path"
    assert_same_values_and_gradients(ref, ours, x)
    assert not takes_onednn(x.float(), Conv3d(6, 3, kernel, padding=padding, groups=3)), "grouped, not depthwise"


def test_both_backward_branches_are_covered():
    for dims in (2, 3):
        positions = [math.prod(c[4][2:]) for c in CASES if len(c[2]) == dims]
        assert min(positions) < MIN_BACKWARD_POSITIONS <= max(positions)


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")
def test_takes_over_only_where_pytorch_falls_back(one_thread):
    x = torch.randn(1, 8, 4, 10, 10)
    assert takes_onednn(x, Conv3d(8, 8, 1))
    assert not takes_onednn(x, Conv3d(8, 8, 3, stride=2, padding=1)), "strided: already oneDNN"
    assert not takes_onednn(x, Conv3d(8, 8, 3, padding=1, groups=8)), "depthwise: already oneDNN"
    assert not takes_onednn(x.double(), Conv3d(8, 8, 1).double())
    assert not takes_onednn(torch.randn(1, 64, 16, 56, 56), Conv3d(64, 8, 3, padding=1)), \
        "PyTorch picks oneDNN itself for this one"
    with torch.backends.mkldnn.flags(enabled=False):
        assert not takes_onednn(x, Conv3d(8, 8, 1)), "a user who turns oneDNN off keeps it off"


def test_inference_without_grad_and_frozen_weights(one_thread):
    torch.manual_seed(0)
    ref = nn.Conv3d(6, 4, (3, 1, 1), padding=(1, 0, 0))
    ours = copy.deepcopy(ref)
    ours.__class__ = Conv3d
    x = torch.randn(1, 6, 8, 9, 9)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-6)
    ours.requires_grad_(False)
    out = ours(x.requires_grad_())
    out.sum().backward()
    assert ours.weight.grad is None and x.grad is not None and x.grad.shape == x.shape


def test_state_dict_is_nn_conv3d_s():
    ours, ref = Conv3d(3, 4, (3, 1, 1), bias=False), nn.Conv3d(3, 4, (3, 1, 1), bias=False)
    assert isinstance(ours, nn.Conv3d)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in ref.state_dict().items()}


def test_flop_counting_sees_the_convolution(one_thread):
    from torch.utils.flop_counter import FlopCounterMode

    conv = Conv3d(8, 6, (3, 1, 1), padding=(1, 0, 0))
    x = torch.randn(1, 8, 8, 12, 12)
    assert takes_onednn(x, conv)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        conv(x)
    assert counter.get_total_flops() == 2 * 6 * 8 * 3 * 8 * 12 * 12


def test_autocast_keeps_pytorchs_bfloat16_convolution(one_thread):
    conv = Conv3d(8, 6, (3, 1, 1), padding=(1, 0, 0))
    x = torch.randn(1, 8, 8, 12, 12)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not takes_onednn(x, conv)
        assert conv(x).dtype == torch.bfloat16


def test_torch_compile_traces_pytorchs_convolution(one_thread):
    conv = Conv3d(4, 4, (3, 1, 1), padding=(1, 0, 0))
    x = torch.randn(1, 4, 8, 6, 6)
    compiled = torch.compile(conv, backend="eager", fullgraph=True)  # no graph break
    torch.testing.assert_close(compiled(x), nn.functional.conv3d(x, conv.weight, conv.bias, padding=(1, 0, 0)))
