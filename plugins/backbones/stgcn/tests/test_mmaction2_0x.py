"""MMAction2 0.x (the seed's 0.24) ST-GCN checkpoints convert to the 1.x network with equal outputs.

0.24's ST-GCN is written here as 0.24 structures it (the original ST-GCN code): per block a
graph convolution (one 1x1 convolution to ``out * K`` channels, aggregated by ``A * importance``),
then ``tcn = [BatchNorm, ReLU, 9x1 conv, BatchNorm, Dropout]``, a ``residual = [1x1 conv,
BatchNorm]`` where the shape changes, and ``edge_importance`` beside the blocks; input
``[N, C, T, V, M]``; the head a 1x1 convolution ``fcn`` after pooling over time, joints and persons.
"""
from importlib import resources

import pytest
import torch
from torch import nn

from actioncore.cli import main

from actioncore.sdk import CheckpointError, Sequential
from actioncore.sdk.weights import convert_parts
from actioncore_cls_heads import GCNHead
from actioncore_stgcn import STGCN, GraphCfg

pytestmark = pytest.mark.actioncore_plugins("actioncore_stgcn.hooks", "actioncore_cls_heads.hooks")

PLAN = [(3, 8, 1, False), (8, 8, 1, True), (8, 16, 2, True), (16, 16, 1, True)]  # in, out, stride, residual


TINY_EXAMPLE_PLAN = [(6, 16, 1, False), (16, 16, 1, True), (16, 32, 2, True), (32, 32, 1, True)]


class Block0x(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, residual: bool, subsets: int):
        super().__init__()
        self.subsets = subsets
        self.gcn = nn.Module()
        self.gcn.conv = nn.Conv2d(cin, cout * subsets, 1)
        self.tcn = nn.Sequential(nn.BatchNorm2d(cout), nn.ReLU(), nn.Conv2d(cout, cout, (9, 1), (stride, 1), (4, 0)),
                                 nn.BatchNorm2d(cout), nn.Dropout(0.0))
        self.has_residual = residual
        self.shortcut = residual and (cin != cout or stride != 1)
        if self.shortcut:
            self.residual = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=(stride, 1)), nn.BatchNorm2d(cout))

    def forward(self, x, adjacency):
        res = (self.residual(x) if self.shortcut else x) if self.has_residual else 0
        y = self.gcn.conv(x)
        n, kc, t, v = y.shape
        y = torch.einsum("nkctv,kvw->nctw", y.view(n, self.subsets, kc // self.subsets, t, v), adjacency)
        return torch.relu(self.tcn(y) + res)


class STGCN0x(nn.Module):
    def __init__(self, adjacency: torch.Tensor, plan):
        super().__init__()
        self.register_buffer("A", adjacency.clone())
        k, v, _ = adjacency.shape
        self.data_bn = nn.BatchNorm1d(plan[0][0] * v)
        self.st_gcn_networks = nn.ModuleList(Block0x(*p, subsets=k) for p in plan)
        self.edge_importance = nn.ParameterList(nn.Parameter(torch.ones_like(adjacency)) for _ in plan)

    def forward(self, x):  # [N, C, T, V, M]
        n, c, t, v, m = x.shape
        x = self.data_bn(x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t))
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block, importance in zip(self.st_gcn_networks, self.edge_importance):
            x = block(x, self.A * importance)
        return x, m


class Recognizer0x(nn.Module):
    def __init__(self, adjacency: torch.Tensor, num_classes: int, plan=PLAN):
        super().__init__()
        self.backbone = STGCN0x(adjacency, plan)
        self.cls_head = nn.Module()
        self.cls_head.fcn = nn.Conv2d(plan[-1][1], num_classes, 1)

    def forward(self, x):
        features, m = self.backbone(x)
        pooled = features.mean(dim=(2, 3), keepdim=True)
        pooled = pooled.view(-1, m, *pooled.shape[1:]).mean(dim=1)
        return self.cls_head.fcn(pooled).flatten(1)


def ours(graph_cfg: GraphCfg = GraphCfg(layout="coco", mode="stgcn_spatial")) -> Sequential:
    return Sequential(backbone=STGCN(graph_cfg=graph_cfg, base_channels=8, num_stages=4, inflate_stages=(3,),
                                     down_stages=(3,)),
                      head=GCNHead(num_classes=5, in_channels=16))


@torch.no_grad()
def randomised_0x(plan=PLAN, num_classes: int = 5) -> Recognizer0x:
    torch.manual_seed(0)
    adjacency = ours().backbone.A
    model = Recognizer0x(adjacency, num_classes=num_classes, plan=plan)
    for param in model.parameters():
        param.add_(0.2 * torch.randn_like(param))
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def test_an_mmaction2_0x_stgcn_checkpoint_gives_the_same_scores():
    source = randomised_0x()
    state = {k: v.clone() for k, v in source.state_dict().items()}
    assert "backbone.st_gcn_networks.2.tcn.3.running_var" in state and "backbone.edge_importance.1" in state
    target = ours().eval()
    target.load_state_dict(convert_parts(target, state), strict=True)
    x = torch.randn(2, 2, 12, 17, 3)  # ours: [N, M, T, V, C]
    with torch.no_grad():
        expected = source(x.permute(0, 4, 2, 3, 1))
        assert (target(x) - expected).abs().max().item() < 1e-5
    # the edge importance became each block's PA, the graph norm the first BatchNorm of 0.x's tcn
    torch.testing.assert_close(target.backbone.gcn[3].gcn.PA, source.backbone.edge_importance[3])
    torch.testing.assert_close(target.backbone.gcn[1].gcn.bn.running_mean,
                               source.backbone.st_gcn_networks[1].tcn[0].running_mean)


def test_a_0x_checkpoint_of_another_graph_or_a_0x_agcn_is_refused():
    state = randomised_0x().state_dict()
    target = ours(GraphCfg(layout="coco", mode="spatial"))
    with pytest.raises(CheckpointError, match=r"graph stgcn.A .* another graph_cfg layout or mode"):
        convert_parts(target, state)
    agcn = {"backbone.agcn_networks.0.gcn.PA": torch.zeros(3, 17, 17), "cls_head.fc.weight": torch.zeros(5, 16)}
    with pytest.raises(CheckpointError, match="0.x 2s-AGCN checkpoint .* softmax"):
        convert_parts(ours(), agcn)
    with pytest.raises(CheckpointError, match="unexpected key 'st_gcn_networks.0.bn.weight'"):
        convert_parts(ours(), {"backbone.st_gcn_networks.0.bn.weight": torch.zeros(8)})


def test_convert_mmaction2_reads_a_0x_checkpoint_file(tmp_path, capsys):
    source = randomised_0x(TINY_EXAMPLE_PLAN, num_classes=8)
    old = tmp_path / "stgcn_0x.pth"
    # as mmcv 1.x's save_checkpoint wrote it
    torch.save({"meta": {"mmcv_version": "1.7.0", "CLASSES": None}, "state_dict": source.state_dict()}, old)
    example = resources.files("actioncore_stgcn") / "examples" / "tiny_stgcn.toml"
    assert main(["convert", "mmaction2", str(old), str(tmp_path / "ours.pth"), "--config", str(example)]) == 0
    assert "wrote" in capsys.readouterr().out
    converted = torch.load(tmp_path / "ours.pth", weights_only=True)["model"]
    target = Sequential(backbone=STGCN(in_channels=6, base_channels=16, num_stages=4, inflate_stages=(3,),
                                       down_stages=(3,)), head=GCNHead(num_classes=8, in_channels=32)).eval()
    target.load_state_dict(converted, strict=True)
    x = torch.randn(2, 1, 16, 17, 6)
    with torch.no_grad():
        assert (target(x) - source(x.permute(0, 4, 2, 3, 1))).abs().max().item() < 1e-5
