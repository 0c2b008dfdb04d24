import pytest
import torch


@pytest.fixture
def clips_and_rois() -> tuple[torch.Tensor, torch.Tensor]:
    """Two 64 px clips of 4 frames with two and three person boxes."""
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(2, 3, 4, 64, 64, generator=g)
    rois = torch.tensor([[0, 4.0, 6, 30, 60], [0, 30, 2, 62, 50],
                         [1, 0, 0, 64, 64], [1, 10, 10, 40, 40], [1, 33, 20, 58, 63]])
    return inputs, rois
