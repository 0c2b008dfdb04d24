"""``runtime.channels_last``: the same model and numbers, convolution weights in NHWC / NDHWC."""
import torch
from torch import nn

from actioncore.engine.layout import to_channels_last


def test_channels_last_keeps_values_and_keys_and_outputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv3d(3, 4, 3), nn.BatchNorm3d(4), nn.Flatten(1, 2), nn.Conv2d(12, 2, 1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(1, 3, 5, 8, 8)
    expected = model.eval()(x)
    to_channels_last(model)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert model[3].weight.is_contiguous(memory_format=torch.channels_last)
    assert model[1].weight.is_contiguous()  # 1-d parameters stay as they are
    after = model.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
