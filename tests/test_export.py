"""``actioncore export``: ONNX (torch's dynamo exporter, run back with onnxruntime) and TorchScript
files of one tiny model per family give the eager model's outputs; bad requests fail clearly."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import actioncore
from actioncore.cli import main
from actioncore.deploy import formats
from actioncore.testing import randomise_norms

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins" / "backbones"
ONE_STAGE = ["model.backbone.num_stages=1", "model.backbone.strides=[1]", "model.backbone.dilations=[1]",
             "model.backbone.out_indices=[0]", "model.head.in_channels=64"]
SLOWFAST = [f"model.backbone.{p}_pathway.{k}" for p, k in (
    ("slow", "depth=18"), ("slow", "base_channels=16"), ("slow", "stage_blocks=[1, 1, 1, 1]"),
    ("fast", "depth=18"), ("fast", "base_channels=2"), ("fast", "stage_blocks=[1, 1, 1, 1]"))] + [
    "model.head.in_channels=144"]

# family: (experiment, overrides that make it tiny, --input-shape or None for the test pipeline's, dynamic batch)
FAMILIES = {
    "tsn": (ROOT / "examples/quickstart.toml", ONE_STAGE, "1,4,3,32,32", False),
    "tsm": (ROOT / "examples/quickstart_tsm.toml",
            ONE_STAGE + ["model.backbone.num_segments=4", "model.head.num_segments=4"], "1,4,3,32,32", True),
    "resnet3d": (PLUGINS / "resnet3d/actioncore_resnet3d/examples/slowonly_r50_4x16x1_256e_kinetics400_rgb.toml",
                 ["model.backbone.depth=18", "model.backbone.base_channels=8", "model.backbone.stage_blocks=[1, 1, 1, 1]",
                  "model.head.in_channels=64"], "1,2,3,4,32,32", True),
    "slowfast": (ROOT / "examples/quickstart_slowfast.toml", SLOWFAST, "1,1,3,8,32,32", True),
    "stgcn": (PLUGINS / "stgcn/actioncore_stgcn/examples/tiny_stgcn.toml", [], None, True),
    "bmn": (PLUGINS / "bmn/actioncore_bmn/examples/bmn_tiny_synth.toml", [], None, True),
}


def sets(overrides: list[str]) -> list[str]:
    return [arg for o in overrides for arg in ("--set", o)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """``tiny(family) -> (checkpoint, eager model)``: random weights with non-trivial norms, saved once."""
    made: dict[str, tuple[Path, torch.nn.Module]] = {}

    def make(family: str) -> tuple[Path, torch.nn.Module]:
        if family not in made:
            path, overrides, _, _ = FAMILIES[family]
            torch.manual_seed(0)
            model = randomise_norms(actioncore.build_model(actioncore.load_config(path, overrides))).eval()
            checkpoint = tmp_path_factory.mktemp(family) / "weights.pth"
            torch.save(model.state_dict(), checkpoint)
            made[family] = checkpoint, model
        return made[family]
    return make


def export_args(family: str, checkpoint: Path, fmt: str, out: Path) -> list[str]:
    path, overrides, shape, dynamic = FAMILIES[family]
    return (["export", str(path), "--checkpoint", str(checkpoint), "--format", fmt, "--out", str(out), "--json",
             *sets(overrides)] + (["--input-shape", shape] if shape else []) + (["--dynamic-batch"] if dynamic else []))


def run_file(fmt: str, path: Path, input_name: str, x: torch.Tensor) -> list[np.ndarray]:
    """The exported file run by its own runtime, independently of the command's check."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {input_name: x.numpy()})
    with torch.no_grad():
        outputs = torch.jit.load(str(path))(x)
    return [o.numpy() for o in (outputs if isinstance(outputs, tuple) else (outputs,))]


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("family", FAMILIES)
def test_exported_file_gives_the_eager_models_outputs(tiny, tmp_path, capsys, family, fmt):
    checkpoint, model = tiny(family)
    out = tmp_path / f"{family}.{fmt}"
    assert main(export_args(family, checkpoint, fmt, out)) == 0
    report = json.loads(capsys.readouterr().out)
    dynamic = FAMILIES[family][3]
    shape = report["input"]["shape"]
    assert shape[0] == ("batch" if dynamic else 1)
    batches = (1, 3) if dynamic else (1,)
    assert report["verification"]["batch_sizes"] == list(batches)
    assert 0 <= report["verification"]["max_abs_diff"] < 1e-5
    for batch in batches:
        x = torch.randn(batch, *shape[1:], generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            expected = model(x)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = run_file(fmt, out, report["input"]["name"], x)
        assert len(got) == len(expected) == len(report["outputs"])
        for want, have in zip(expected, got):
            assert have.shape == tuple(want.shape)
            np.testing.assert_allclose(have, want.numpy(), atol=1e-5, rtol=0)
    if fmt == "onnx":
        import onnx

        dims = onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim
        assert [d.dim_value or d.dim_param for d in dims][1:] == shape[1:] and report["opset"] >= 18
        assert (dims[0].dim_param != "") if dynamic else (dims[0].dim_value == 1)
    sidecar = json.loads(Path(report["sidecar"]).read_text())
    assert sidecar["path"] == out.name and sidecar["input"]["shape"] == shape
    assert sidecar["sha256"] == report["sha256"] and sidecar["size_bytes"] == out.stat().st_size
    assert sidecar["experiment"]["file"] == str(FAMILIES[family][0])
    assert "[model]" in sidecar["experiment"]["toml"] and "actioncore" in sidecar["versions"]
    if family in SIDECARS:
        inputs, outputs, mean, layout = SIDECARS[family]
        assert [sidecar["input"]["name"], sidecar["input"]["shape"]] == inputs
        assert [o["name"] for o in sidecar["outputs"]] == outputs
        assert sidecar["preprocessing"].get("mean") == mean
        assert layout in sidecar["input"]["layout"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial files left


# What a deployment reads: input name and shape (from the test pipeline where no --input-shape is
# given: ST-GCN's 4 clips x 32 frames), output names, mean/std, a word from the layout.
SIDECARS = {
    "tsn": (["inputs", [1, 4, 3, 32, 32]], ["scores"], [123.675, 116.28, 103.53], "segments"),
    "stgcn": (["inputs", ["batch", 4, 1, 32, 17, 6]], ["scores"], None, "joints"),
    "bmn": (["features", ["batch", 32, 32]], ["confidence_map", "start", "end"], None, "feat_dim"),
}


# -- clear errors ----------------------------------------------------------------------------------


def test_an_unknown_format_is_refused(tiny, tmp_path, capsys):
    assert main(export_args("tsn", tiny("tsn")[0], "tflite", tmp_path / "m.tflite")) == 2
    assert "--format 'tflite': one of onnx, torchscript" in capsys.readouterr().err
    assert not (tmp_path / "m.tflite").exists()


def test_an_experiment_without_a_model_is_refused(tmp_path, capsys):
    pgm = ROOT / "plugins/tasks/bsn_pgm/actioncore_bsn_pgm/examples/bsn_pgm_tiny_synth.toml"
    assert main(["export", str(pgm), "--checkpoint", str(tmp_path / "none.pth"), "--format", "onnx",
                 "--out", str(tmp_path / "m.onnx")]) == 2
    assert "the experiment has no [model] to export" in capsys.readouterr().err


def test_a_checkpoint_that_does_not_fit_names_the_file(tiny, tmp_path, capsys):
    checkpoint, _ = tiny("tsn")
    args = export_args("tsn", checkpoint, "torchscript", tmp_path / "m.pt") + ["--set", "model.head.num_classes=5"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{checkpoint}: does not fit the experiment's model" in err and "head.fc_cls.weight" in err
    assert not (tmp_path / "m.pt").exists()


def test_an_input_shape_the_model_cannot_take_is_refused(tiny, tmp_path, capsys):
    args = export_args("bmn", tiny("bmn")[0], "torchscript", tmp_path / "m.pt") + ["--input-shape", "1,16,32"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "the model does not run on an input of shape [2, 16, 32] ([batch, feat_dim, temporal_dim]" in err
    assert "--dynamic-batch traces at batch 2: BMN expects [B, 32, 32] features, got [2, 16, 32]" in err
    assert main(args[:-1] + ["1,0,32"]) == 2
    assert "--input-shape '1,0,32': give positive sizes" in capsys.readouterr().err


def test_opset_applies_to_onnx_only(tiny, tmp_path, capsys):
    assert main(export_args("tsn", tiny("tsn")[0], "torchscript", tmp_path / "m.pt") + ["--opset", "17"]) == 2
    assert "--opset applies to --format onnx only" in capsys.readouterr().err


def test_missing_onnx_packages_name_the_extra(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import fails as if not installed
    assert main(export_args("tsn", tiny("tsn")[0], "onnx", tmp_path / "m.onnx")) == 2
    err = capsys.readouterr().err
    assert "--format onnx needs the packages onnx, onnxscript, onnxruntime (missing: onnxscript" in err
    assert "pip install 'actioncore[export]'" in err
    assert not (tmp_path / "m.onnx").exists()


def test_outputs_that_differ_fail_and_leave_no_file(tiny, tmp_path, capsys, monkeypatch):
    """The check runs on the written file before it is renamed into place: a file that does not
    reproduce the eager model never appears at --out (nor does an old one get replaced)."""
    load = formats.TorchScriptFormat.load
    monkeypatch.setattr(formats.TorchScriptFormat, "load",
                        lambda self, path, **kw: (lambda x: [o + 1e-3 for o in load(self, path, **kw)(x)]))
    out = tmp_path / "m.pt"
    out.write_bytes(b"the previous export")
    assert main(export_args("tsm", tiny("tsm")[0], "torchscript", out)) == 2
    err = capsys.readouterr().err
    assert "torchscript output 'scores' at batch 1 differs from the eager model's by up to 0.001" in err
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_a_model_the_exporter_cannot_take_with_a_dynamic_batch_says_which_operator(tmp_path, capsys):
    """TANet's TAM convolves each sample's channels with their own kernels as one grouped convolution
    of batch x channels groups; ONNX's Conv needs a constant group count, so only a fixed batch
    exports (tested by the example sweep; here the refusal, which must name the operator)."""
    tanet = PLUGINS / "tsm/actioncore_tsm/examples/tanet_r50_dense_1x1x8_100e_kinetics400_rgb.toml"
    overrides = ["model.backbone.num_stages=1", "model.backbone.out_indices=[0]", "model.backbone.strides=[1]",
                 "model.backbone.dilations=[1]", "model.head.in_channels=256", "model.backbone.num_segments=4",
                 "model.head.num_segments=4"]
    checkpoint = tmp_path / "tanet.pth"
    torch.save(actioncore.build_model(actioncore.load_config(tanet, overrides)).state_dict(), checkpoint)
    out = tmp_path / "tanet.onnx"
    assert main(["export", str(tanet), "--checkpoint", str(checkpoint), "--format", "onnx", "--out", str(out),
                 "--input-shape", "1,4,3,16,16", "--dynamic-batch", *sets(overrides)]) == 2
    err = capsys.readouterr().err
    assert "torch's dynamo ONNX exporter cannot export Recognizer2D" in err
    assert "Error constructing node for operator '::Conv'" in err and "Unsupported attribute type" in err
    assert err.rstrip().endswith("the model may need a fixed one: export without --dynamic-batch")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tanet.pth"]


def test_random_draws_of_a_forward_are_fixed_for_export_and_restored_after():
    from actioncore.deploy.export import fixed_draws

    np.random.seed(5)
    torch.manual_seed(5)
    expected = np.random.rand(), torch.rand(1)
    np.random.seed(5)
    torch.manual_seed(5)
    draws = []
    for _ in range(2):
        with fixed_draws():
            draws.append((np.random.choice(10, 3, replace=False).tolist(), torch.rand(1).item()))
    assert draws[0] == draws[1]
    assert (np.random.rand(), torch.rand(1)) == expected
