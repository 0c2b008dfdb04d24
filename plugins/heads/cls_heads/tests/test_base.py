"""ClsHead: what every head shares (checks, pooling choice, dropout, classifier and its init)."""
from typing import Literal

import pytest
import torch
from torch import nn

from actioncore_cls_heads import ClsHead


class FrameHead(ClsHead):
    """A minimal head written as the plugin's heads are: class attributes, then forward."""

    name = "frame"
    pool_dims = 2
    spatial_types = ("avg", "max", None)

    def __init__(self, *, num_classes: int, in_channels: int = 4,
                 spatial_type: Literal["avg", "max"] | None = "avg", dropout_ratio: float = 0.0,
                 init_std: float = 0.01):
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout_ratio,
                         init_std=init_std, spatial_type=spatial_type)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.pooled(x))


def test_checks_name_the_head_and_the_parameter():
    with pytest.raises(ValueError, match="frame num_classes must be positive, got 0"):
        FrameHead(num_classes=0)
    with pytest.raises(ValueError, match=r"frame dropout_ratio must be in \[0, 1\), got 1.0"):
        FrameHead(num_classes=2, dropout_ratio=1.0)
    with pytest.raises(ValueError, match="frame spatial_type must be 'avg', 'max' or absent, got 'sum'"):
        FrameHead(num_classes=2, spatial_type="sum")


def test_pooling_dropout_and_classifier():
    head = FrameHead(num_classes=3, spatial_type="max", dropout_ratio=0.5)
    assert isinstance(head.pool, nn.AdaptiveMaxPool2d) and head.dropout.p == 0.5
    assert head.classifier is head.fc_cls and set(head.state_dict()) == {"fc_cls.weight", "fc_cls.bias"}
    x = torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(head.eval()(x), head.fc_cls(x.amax(dim=(2, 3))))
    bare = FrameHead(num_classes=3, spatial_type=None)
    assert bare.pool is None and bare.dropout is None
    torch.testing.assert_close(bare(x[:, :, 0, 0]), bare.fc_cls(x[:, :, 0, 0]))


def test_linear_layers_are_built_then_initialised_in_order():
    class TwoLayers(ClsHead):
        name = "two"

        def __init__(self, *, num_classes: int, init_std: float = 0.5):
            super().__init__(num_classes=num_classes, in_channels=6, dropout_ratio=0.0, init_std=init_std,
                             linears={"hidden": (6, 5, False), "out": (5, num_classes)})

    torch.manual_seed(0)
    head = TwoLayers(num_classes=3)
    torch.manual_seed(0)
    hidden, out = nn.Linear(6, 5, bias=False), nn.Linear(5, 3)
    nn.init.normal_(hidden.weight, std=0.5)
    nn.init.normal_(out.weight, std=0.5)
    assert [name for name, _ in head.named_parameters()] == ["hidden.weight", "out.weight", "out.bias"]
    assert torch.equal(head.hidden.weight, hidden.weight) and torch.equal(head.out.weight, out.weight)
    assert torch.all(head.out.bias == 0) and head.classifier is head.out


def test_builds_on_the_meta_device():
    with torch.device("meta"):
        head = FrameHead(num_classes=400, in_channels=2048)
    assert head.fc_cls.weight.is_meta and sum(p.numel() for p in head.parameters()) == 819_600
