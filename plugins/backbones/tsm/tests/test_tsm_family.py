"""TSM, TIN, TANet and TRN: parameter counts, tiny training runs, the temporal ops, conversion."""
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import actioncore
from actioncore.sdk.weights import convert_state
from actioncore.sdk import ConfigError
from actioncore.testing import assert_component_contract, fixed_batch_losses
from actioncore_tsm import TemporalInterlace, linear_sampler, temporal_shift
from actioncore_tsm.resnet_tin import shift_groups

pytestmark = pytest.mark.actioncore_plugins("actioncore_tsm.hooks", "actioncore_tsn.hooks",
                                            "actioncore_cls_heads.hooks", "actioncore_recognition.hooks",
                                            "actioncore_lists.hooks")

EXAMPLES = Path(__file__).resolve().parents[1] / "actioncore_tsm" / "examples"
CONFIGS = {
    "tsm": "tsm_r50_1x1x8_50e_kinetics400_rgb.toml",
    "tin": "tin_r50_1x1x8_40e_sthv2_rgb.toml",
    "tanet": "tanet_r50_dense_1x1x8_100e_kinetics400_rgb.toml",
    "trn": "trn_r50_1x1x8_50e_sthv2_rgb.toml",
}
# MMAction2 1.2.0's counts for the same configs. (actioncore_lists: the examples require it.)
PARAMETERS = {"tsm": 24_327_632, "tin": 23_895_566, "tanet": 25_590_320, "trn": 26_641_154}

SEGMENTS = 4
TINY = {  # --set overrides that shrink each full-size example to a CPU-sized model
    "tsm": ["model.backbone.depth=18", "model.head.in_channels=512"],
    "tin": ["model.backbone.depth=18", "model.head.in_channels=512"],
    # TA-blocks need bottlenecks: keep depth 50, cut it to its first two stages
    "tanet": ["model.backbone.num_stages=2", "model.backbone.out_indices=[1]",
              "model.backbone.strides=[1, 2]", "model.backbone.dilations=[1, 1]",
              "model.head.in_channels=512"],
    "trn": ["model.backbone.depth=18", "model.head.in_channels=512", "model.head.hidden_dim=16"],
}


def tiny_model(name: str, classes: int = 5) -> nn.Module:
    overrides = TINY[name] + [f"model.head.num_classes={classes}", "model.head.dropout_ratio=0.0",
                              f"model.head.num_segments={SEGMENTS}"]
    if name != "trn":
        overrides.append(f"model.backbone.num_segments={SEGMENTS}")
    return actioncore.build_model(actioncore.load_config(EXAMPLES / CONFIGS[name], overrides).model)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_full_size_parameter_count_is_mmaction2s(actioncore_host, name):
    experiment = actioncore.load_config(EXAMPLES / CONFIGS[name])
    with torch.device("meta"):
        model = actioncore.build_model(experiment.model)
    assert sum(p.numel() for p in model.parameters()) == PARAMETERS[name]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_tiny_model_trains_on_a_fixed_batch(actioncore_host, name):
    torch.manual_seed(0)
    np.random.seed(0)
    model = tiny_model(name)
    clips = torch.randn(2, SEGMENTS, 3, 32, 32)
    labels = torch.tensor([1, 3])
    assert model(clips).shape == (2, 5)
    losses = fixed_batch_losses(model, clips, labels, optimizer=torch.optim.Adam(model.parameters(), lr=1e-3))
    assert losses[-1] < losses[0], losses
    model.eval()
    with torch.no_grad():
        # 3 views (e.g. clips x crops) of each sample: one score row per sample, averaged
        assert model(torch.randn(2, 3 * SEGMENTS, 3, 32, 32)).shape == (2, 5)


def test_components_meet_the_plugin_contract(actioncore_host):
    tsm = assert_component_contract(actioncore_host, "backbone", "resnet_tsm",
                                    {"depth": 18, "num_segments": 2, "shift_place": "block",
                                     "temporal_pool": True})
    assert tsm(torch.randn(4, 3, 32, 32)).shape == (2, 512, 1, 1)   # time pooled 2 -> 1
    tin = assert_component_contract(actioncore_host, "backbone", "resnet_tin",
                                    {"depth": 18, "num_segments": 2})
    assert tin(torch.randn(4, 3, 32, 32)).shape == (4, 512, 1, 1)
    with pytest.raises(ConfigError, match="bottleneck"):
        actioncore.build("backbone", "tanet", depth=18)


def test_non_local_blocks_follow_mmaction2s_layout(actioncore_host):
    net = assert_component_contract(actioncore_host, "backbone", "resnet_tsm", """
        num_segments = 2
        num_stages = 2
        out_indices = [1]
        strides = [1, 2]
        dilations = [1, 1]
        non_local = [[0, 0, 0], [1, 0, 1, 0]]
        non_local_cfg = {sub_sample = true, use_scale = false, norm_cfg = {type = "BN3d"}}
    """)
    keys = net.state_dict()
    assert "layer2.0.non_local_block.phi.0.conv.weight" in keys
    assert "layer2.2.block.conv1.conv.net.weight" in keys        # shift inside, non-local after
    assert "layer2.1.non_local_block.g.0.conv.weight" not in keys
    x = torch.randn(4, 3, 32, 32)
    # the output BatchNorm starts at zero: a fresh non-local block is the identity
    assert torch.all(net.layer2[0].non_local_block.conv_out.bn.weight == 0)
    assert net.eval()(x).shape == (4, 512, 4, 4)


def test_temporal_shift_moves_one_fold_each_way():
    # 1 clip, 3 frames, 4 channels (shift_div 4: fold 1), 1x1; value = 10 * (frame + 1) + channel
    frames, channels = 3, 4
    x = torch.tensor([[10.0 * (t + 1) + c for c in range(channels)] for t in range(frames)])
    out = temporal_shift(x.reshape(frames, channels, 1, 1), frames, shift_div=4).reshape(frames, channels)
    expected = torch.tensor([
        [20.0, 0.0, 12, 13],    # channel 0 reads the next frame; channel 1 the previous (none: 0)
        [30.0, 11.0, 22, 23],
        [0.0, 21.0, 32, 33],    # the last frame has no next frame
    ])
    torch.testing.assert_close(out, expected)
    # with a gradient wanted, the autograd Function shifts the same way and its backward is the adjoint
    # (the opposite shift); without (inference, exports) the plain slicing runs, which trace can record
    grad_x = x.reshape(frames, channels, 1, 1).clone().requires_grad_()
    shifted = temporal_shift(grad_x, frames, shift_div=4)
    torch.testing.assert_close(shifted.detach().reshape(frames, channels), expected)
    shifted.backward(torch.ones_like(shifted))
    assert grad_x.grad.reshape(frames, channels).tolist() == [[0, 1, 1, 1], [1, 1, 1, 1], [1, 0, 1, 1]]
    # blockres: the shift runs inside the residual branch, before the first convolution
    net = actioncore.build("backbone", "resnet_tsm", depth=18, num_segments=3, shift_div=4)
    assert type(net.layer1[0].conv1.conv).__name__ == "TemporalShift"
    assert net.layer1[0].conv1.conv.net.weight.shape == (64, 64, 3, 3)


def test_the_compiled_shift_is_the_eager_shift_both_ways():
    # under torch.compile the shift is one opaque operator (actioncore_tsm::temporal_shift) running the
    # eager slice copies; under torch.export (ONNX) a concatenation of padded slices. Same values both
    # ways, also for the backward's opposite shift and for a channels-last input
    from actioncore_tsm.shift import _shift

    torch._dynamo.reset()
    graphs = []

    def recording(gm, example_inputs):
        graphs.append(gm.code)
        return gm

    x = torch.randn(2, 3, 16, 2, 3)
    compiled = torch.compile(_shift, backend=recording, fullgraph=True)
    for first_from_future in (True, False):
        eager = _shift(x, 2, first_from_future=first_from_future)
        torch.testing.assert_close(compiled(x, 2, first_from_future=first_from_future), eager, rtol=0, atol=0)
    assert graphs and all("actioncore_tsm.temporal_shift" in code and "cat" not in code for code in graphs)
    cl = x.reshape(6, 16, 2, 3).contiguous(memory_format=torch.channels_last).reshape(2, 3, 16, 2, 3)
    torch.testing.assert_close(compiled(cl, 2, first_from_future=True), _shift(x, 2, first_from_future=True),
                               rtol=0, atol=0)

    # training through torch.compile: the operator's backward is the opposite shift
    frames = x.reshape(6, 16, 2, 3)
    weights = torch.randn_like(frames)
    grads = {}
    for name, fn in (("eager", temporal_shift), ("compiled", torch.compile(temporal_shift, backend="aot_eager"))):
        leaf = frames.clone().requires_grad_()
        (fn(leaf, 3) * weights).sum().backward()
        grads[name] = leaf.grad
    torch.testing.assert_close(grads["compiled"], grads["eager"], rtol=0, atol=0)

    class Shift(torch.nn.Module):
        def forward(self, frames):
            return temporal_shift(frames, 3)

    exported = torch.export.export(Shift(), (frames,))
    code = exported.graph_module.code
    assert "cat" in code and "actioncore_tsm" not in code  # plain aten operators, which ONNX translates
    torch.testing.assert_close(exported.module()(frames), temporal_shift(frames, 3), rtol=0, atol=0)


@pytest.mark.parametrize(("kernel_size", "padding"), [(3, 1), (5, 2), (3, 0)])
def test_tanets_adaptive_convolution_compiles_to_the_same_sum_of_products(kernel_size, padding):
    # under torch.compile TAM's per-clip temporal kernel is applied as a sum of shifted products, not as the
    # grouped conv2d of eager mode (Inductor cannot fuse a convolution whose kernel is made at run time)
    from actioncore_tsm.tanet import TAM

    torch._dynamo.reset()
    torch.manual_seed(0)
    tam = TAM(16, 8, adaptive_kernel_size=kernel_size, adaptive_convolution_padding=padding)
    graphs = []

    def recording(gm, example_inputs):
        graphs.append(gm.code)
        return gm

    x = torch.randn(16, 16, 5, 6)
    grads = {}
    for name, module in (("eager", tam), ("compiled", torch.compile(tam, backend=recording, fullgraph=True))):
        leaf = x.clone().requires_grad_()
        out = module(leaf)
        assert out.shape == (16 * (8 + 2 * padding - kernel_size + 1) // 8, 16, 5, 6)
        out.square().sum().backward()
        grads[name] = (out.detach(), leaf.grad, tam.G[0].weight.grad.clone())
        tam.zero_grad()
    assert graphs and all("conv2d" not in code for code in graphs)
    for eager, compiled in zip(grads["eager"], grads["compiled"]):
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)


def test_integer_group_shift_is_tin_shift():
    data = torch.arange(1.0, 5.0)[None, :, None].repeat(1, 1, 2)       # [1, T=4, C=2], frame values 1..4
    out = shift_groups(data, torch.tensor([[1.0, -2.0]]))               # group 0 later, group 1 earlier
    torch.testing.assert_close(out[0, :, 0], torch.tensor([0.0, 1, 2, 3]))
    torch.testing.assert_close(out[0, :, 1], torch.tensor([3.0, 4, 0, 0]))


def test_fractional_shift_interpolates_and_has_offset_gradients():
    data = torch.tensor([1.0, 2, 4, 8])[None, :, None]                 # [1, T=4, C=1]
    offset = torch.tensor([[0.25]], requires_grad=True)
    out = linear_sampler(data, offset)[0, :, 0]
    # out[t] = 0.75 * data[t] + 0.25 * data[t - 1]
    torch.testing.assert_close(out, torch.tensor([0.75, 1.75, 3.5, 7.0]), rtol=0, atol=1e-6)
    out.sum().backward()
    # d out[t] / d offset = data[t - 1] - data[t]
    torch.testing.assert_close(offset.grad, torch.tensor([[0.0 - 1 + 1 - 2 + 2 - 4 + 4 - 8]]))
    negative = linear_sampler(data, torch.tensor([[-0.5]]))[0, :, 0]     # half a frame earlier
    torch.testing.assert_close(negative, torch.tensor([1.5, 3.0, 6.0, 4.0]))


def test_interlace_on_a_hand_built_clip():
    torch.manual_seed(0)
    tin = TemporalInterlace(in_channels=16, num_segments=4, shift_div=2)   # 8 interlaced channels
    with torch.no_grad():
        for p in tin.parameters():
            p.zero_()
        # offsets: 4 * (sigmoid(b) - 0.5) = 1 and -1 for the two groups, weights 2 * sigmoid(0) = 1
        tin.offset_net.fc2.bias.copy_(torch.logit(torch.tensor([0.75, 0.25])))
    x = torch.arange(4.0)[:, None, None, None].repeat(1, 16, 2, 2) + 1   # frame t holds t + 1
    out = tin(x)[:, :, 0, 0]
    later, earlier = torch.tensor([0.0, 1, 2, 3]), torch.tensor([2.0, 3, 4, 0])
    # four groups of 2 channels shift by +1, -1, -1, +1 (offsets d, then -d)
    for group, expected in enumerate([later, earlier, earlier, later]):
        for c in range(2 * group, 2 * group + 2):
            torch.testing.assert_close(out[:, c], expected)
    torch.testing.assert_close(out[:, 8:], x[:, 8:, 0, 0])             # the rest pass


@pytest.mark.parametrize("name,mmaction2_keys", [
    ("tsm", ["backbone.layer1.0.conv1.conv.net.weight", "backbone.layer1.0.conv2.bn.running_var",
             "cls_head.fc_cls.weight"]),
    ("tin", ["backbone.layer2.1.conv1.conv.net1.offset_net.fc1.weight",
             "backbone.layer2.1.conv1.conv.net1.weight_net.conv.bias",
             "backbone.layer2.1.conv1.conv.net2.weight", "cls_head.fc_cls.bias"]),
    ("tanet", ["backbone.layer1.0.block.conv1.conv.weight", "backbone.layer1.0.block.downsample.bn.bias",
               "backbone.layer2.3.tam.G.1.running_mean", "backbone.layer2.3.tam.L.0.weight"]),
    ("trn", ["backbone.layer4.1.conv2.conv.weight", "cls_head.fc_cls.weight",
             "cls_head.consensus.fc_fusion_scales.0.1.weight",
             "cls_head.consensus.fc_fusion_scales.1.3.bias"]),
])
def test_mmaction2_state_dict_converts_and_loads_strictly(actioncore_host, name, mmaction2_keys):
    model = tiny_model(name)
    torch.manual_seed(1)
    mmaction2 = {"data_preprocessor.mean": torch.zeros(3, 1, 1), "data_preprocessor.std": torch.ones(3, 1, 1)}
    for key, value in model.state_dict().items():
        mm_key = "cls_head." + key.removeprefix("head.") if key.startswith("head.") else key
        mmaction2[mm_key] = torch.randn(value.shape).to(value.dtype) if value.is_floating_point() else value
    assert set(mmaction2_keys) <= set(mmaction2)
    converted = convert_state(model, mmaction2)
    model.load_state_dict(converted, strict=True)
    for key in mmaction2_keys:
        ours = "head." + key.removeprefix("cls_head.") if key.startswith("cls_head.") else key
        assert torch.equal(model.state_dict()[ours], mmaction2[key])


@pytest.fixture(scope="module")
def resnet50_file(tmp_path_factory):
    import torchvision

    torch.manual_seed(0)
    reference = torchvision.models.resnet50(weights=None)
    path = tmp_path_factory.mktemp("weights") / "resnet50.pth"
    torch.save(reference.state_dict(), path)
    return str(path), reference


@pytest.mark.parametrize("name", ["resnet_tsm", "resnet_tin", "tanet"])
def test_imagenet_weights_fill_the_resnet_inside_the_wrappers(actioncore_host, resnet50_file, name):
    path, reference = resnet50_file
    extra = {"resnet_tsm": {"temporal_pool": True, "non_local_cfg": {},
                            "non_local": [[0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0, 1, 0], [0, 0, 0]]},
             "resnet_tin": {}, "tanet": {}}[name]
    torch.manual_seed(1)
    fresh = actioncore.build("backbone", name, num_segments=SEGMENTS, **extra).state_dict()
    torch.manual_seed(1)
    net = actioncore.build("backbone", name, num_segments=SEGMENTS, pretrained=path, **extra)
    own = net.state_dict()
    loaded = net.resnet_keys()  # plain ResNet name -> our key
    theirs = {k: v for k, v in reference.state_dict().items() if not k.startswith("fc.")}
    assert len(loaded) == len(theirs)
    layer2 = {"resnet_tsm": "layer2.net.0.block.conv1.conv.net", "resnet_tin": "layer2.0.conv1.conv.net2",
              "tanet": "layer2.0.block.conv1.conv"}[name]
    assert loaded["layer2.0.conv1.conv.weight"] == f"{layer2}.weight"
    assert torch.equal(own[f"{layer2}.weight"], reference.layer2[0].conv1.weight)
    assert torch.equal(own["conv1.bn.running_var"], reference.bn1.running_var)
    # the modules the wrappers add (non-local blocks, TIN's offset nets, TAM) keep their initialisation
    added = [k for k in own if k not in set(loaded.values())]
    assert added and all(torch.equal(own[k], fresh[k]) for k in added)
