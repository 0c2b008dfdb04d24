"""benchmarks/gpu.py --dry-run: every code path of the GPU benchmark on the CPU, as CI can run it."""
import json

import pytest

from .conftest import load_benchmark



@pytest.fixture(scope="module")
def gpu_benchmark():
    return load_benchmark("gpu")


def test_dry_run_reports_every_variant_the_loader_and_decoding(gpu_benchmark, tmp_path, capsys):
    out = tmp_path / "report.json"
    # compile (dynamo tracing ResNet-50: ~20 s of CPU) is left out here; its code path is the same call
    assert gpu_benchmark.main(["--dry-run", "--models", "tsn_r50", "--variants", "fp32", "amp_bf16", "channels_last",
                               "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == report
    assert report["dry_run"] is True and report["environment"]["device"] == "cpu"
    tsn = report["models"]["tsn_r50"]
    assert tsn["input_shape"] == [1, 3, 3, 32, 32]  # the TSN example's 3 segments, cut to 32 px
    for variant in ("fp32", "amp_bf16", "channels_last"):
        assert tsn[variant]["train_clips_per_s"] > 0 and tsn[variant]["infer_clips_per_s"] > 0, variant
    assert "amp_fp16" not in tsn  # fp16 autocast with a GradScaler is the CUDA path only
    assert tsn["train_speedup_vs_fp32"]["fp32"] == 1.0
    assert report["loader"]["pageable"]["clips_per_s"] > 0
    assert report["loader"]["pinned"] == {"skipped": "pinned memory needs an accelerator"}
    assert report["decode"]["software_frames_per_s"] > 0 and "skipped" in report["decode"]["nvdec"]


def test_a_variant_that_fails_is_recorded_and_the_budget_skips_the_rest(gpu_benchmark, tmp_path, monkeypatch):
    real = gpu_benchmark.time_variant

    def failing(*args, **kwargs):
        if kwargs.get("amp") is not None:
            raise RuntimeError("out of memory\nmore lines")
        return real(*args, **kwargs)

    monkeypatch.setattr(gpu_benchmark, "time_variant", failing)
    monkeypatch.setattr(gpu_benchmark, "bench_decode", lambda args, device: {})
    out = tmp_path / "report.json"
    gpu_benchmark.main(["--dry-run", "--models", "tsn_r50", "--variants", "fp32", "amp_bf16", "--out", str(out)])
    tsn = json.loads(out.read_text())["models"]["tsn_r50"]
    assert tsn["amp_bf16"] == {"error": "RuntimeError: out of memory"} and tsn["fp32"]["train_clips_per_s"] > 0
    gpu_benchmark.main(["--dry-run", "--models", "tsn_r50", "--variants", "fp32", "--budget-s", "0",
                        "--out", str(out)])
    assert json.loads(out.read_text())["models"]["tsn_r50"]["fp32"] == {"skipped": "time budget (--budget-s) spent"}


def test_each_variant_runs_across_the_models_the_compiled_ones_last(gpu_benchmark, tmp_path, monkeypatch):
    calls, written = [], []
    out = tmp_path / "report.json"

    def record(adapter, model, batch, device, **options):
        written.append(json.loads(out.read_text())["models"] if out.exists() else None)
        calls.append((type(model).__name__, options.get("compile"), options.get("channels_last", False)))
        return {"train_clips_per_s": 1.0, "infer_clips_per_s": 1.0}

    monkeypatch.setattr(gpu_benchmark, "time_variant", record)
    gpu_benchmark.main(["--dry-run", "--models", "tsn_r50", "x3d_m", "--variants", "combined", "channels_last",
                        "fp32", "--out", str(out)])
    tsn, x3d = "Recognizer2D", "Recognizer3D"
    assert calls == [(tsn, None, False), (x3d, None, False), (tsn, None, True), (x3d, None, True),
                     (tsn, "eager", True)]  # compiled variants last, and on the first model only in a dry run
    assert written[0] == {} and "fp32" in written[2]["tsn_r50"] and "fp32" in written[2]["x3d_m"]
    report = json.loads(out.read_text())
    assert report["models"]["tsn_r50"]["train_speedup_vs_fp32"] == {"fp32": 1.0, "channels_last": 1.0, "combined": 1.0}
    assert "combined" not in report["models"]["x3d_m"]
