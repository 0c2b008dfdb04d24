"""Write the state-dict layout of every MMAction2 checkpoint in the zoo, as MMAction2 builds it.

For each distinct ``source_config`` of the ``mmaction2-1.x`` entries in the model plugins'
``weights.toml`` files, this builds the config's model with MMAction2 1.2.0's own builder on the
meta device (nothing is allocated or initialised) and records what its checkpoint holds:
``{key: shape}`` of the state dict and the exact parameter count (the metafiles round theirs to
3-4 digits). ``tests/test_zoo_fits.py`` reads these files to check that every entry's
experiment (with its overrides) has exactly that parameter count, and that converting a state
dict of that layout gives exactly our model's keys and shapes, without MMAction2 installed.

Output, in ``tests/data/zoo_keys/``:

- ``<layout>.json.gz``: ``{key: shape}`` (sorted), named by the first 16 hex digits of the
  layout's sha256, so that configs of one network (training schedules, data sets with the same
  class count) share one file;
- ``index.json``: ``{source_config: {"layout": <layout>, "num_params": N}}``.

AVA detectors are mmdet ``FastRCNN``s: their backbone and ``roi_head`` are built as
``benchmarks/parity/ava_detector.py`` builds them (MMAction2's own classes, with stand-ins for
the mmdet and mmcv.ops names they import; the RoI layers have no parameters), giving the keys of
``FastRCNN``'s state dict. The long-term feature bank of LFB is data, not weights (an empty bank
file is written for the constructor to read).

MMAction2 is imported only here (never by the package or its tests)::

    PYTHONPATH=/tmp/peers .venv/bin/python dev/zoo_keys_from_mmaction2.py [--check]
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import sys
import tempfile
import tomllib
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "data" / "zoo_keys"
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "benchmarks" / "parity"))


def source_configs() -> list[str]:
    """Every MMAction2 config (path under ``configs/``) a zoo entry's checkpoint was trained with."""
    configs = set()
    for path in sorted(REPO.glob("plugins/*/*/actioncore_*/weights.toml")):
        for entry in tomllib.loads(path.read_text()).get("weights", []):
            if entry["source_format"].startswith("mmaction2"):
                configs.add(entry["source_config"].removeprefix("configs/"))
    return sorted(configs)


def build_detector(relative: str, bank: Path) -> nn.Module:
    """``FastRCNN``'s backbone + ``roi_head`` (see the module docstring)."""
    from ava_detector import TheirDetector, install_stand_ins
    from mmaction2_peer import mmaction2_config

    if "mmdet" not in sys.modules or not hasattr(sys.modules["mmdet"], "__path__"):
        install_stand_ins()
    config = mmaction2_config(relative)
    shared = config["roi_head"].get("shared_head")
    if shared is not None and shared["type"] == "FBOHead":
        shared["lfb_cfg"].update(lfb_prefix_path=str(bank), device="cpu")
    return TheirDetector(config)


def build(relative: str, bank: Path) -> nn.Module:
    """The config's model on the meta device, or on the CPU for a model whose constructor
    initialises its weights or reads tensor values (TANet's calls ``init_weights``; Swin's and
    VideoMAE's constructors take their drop-path rates out of a tensor)."""
    from mmaction2_peer import build_mmaction2

    def build_here() -> nn.Module:
        if relative.startswith("detection/"):
            return build_detector(relative, bank)
        return build_mmaction2(relative, initialise=False)

    with contextlib.redirect_stdout(sys.stderr):  # MMAction2's LFB prints as it loads the bank
        try:
            with torch.device("meta"):
                return build_here()
        except (NotImplementedError, RuntimeError) as exc:
            # "Cannot copy out of meta tensor"; "Tensor.item() cannot be called on meta tensors"
            if isinstance(exc, RuntimeError) and "meta" not in str(exc):
                raise
            return build_here()


def layout_of(model: nn.Module) -> dict[str, list[int]]:
    """The state dict's ``{key: shape}``, without the data preprocessor's (non-weight) buffers."""
    return {k: list(v.shape) for k, v in sorted(model.state_dict().items()) if not k.startswith("data_preprocessor.")}


def write_banks(bank: Path) -> None:
    """Empty LFB bank files for every split MMAction2's ``LFB`` constructor reads."""
    bank.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val", "test"):
        torch.save({}, bank / f"lfb_{split}.pkl")  # MMAction2 reads it with torch.load


def generate() -> dict[Path, bytes]:
    """``{path: content}`` of every output file."""
    files: dict[Path, bytes] = {}
    index: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bank = Path(tmp) / "lfb"
        write_banks(bank)
        for relative in source_configs():
            model = build(relative, bank)
            layout = layout_of(model)
            text = json.dumps(layout, separators=(",", ":"))
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            # mtime=0: the same layout gives the same bytes on every run (--check)
            files[OUT / f"{digest}.json.gz"] = gzip.compress(text.encode(), compresslevel=9, mtime=0)
            index[f"configs/{relative}"] = {"layout": digest, "num_params": sum(p.numel() for p in model.parameters())}
            print(f"{relative}: {len(layout)} tensors, {index[f'configs/{relative}']['num_params']:,} parameters",
                  file=sys.stderr)
    files[OUT / "index.json"] = (json.dumps(index, indent=1, sort_keys=True) + "\n").encode()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when a committed file differs; write nothing")
    args = parser.parse_args(argv)
    files = generate()
    if args.check:
        stale = sorted(str(p.relative_to(REPO)) for p, c in files.items() if not p.is_file() or p.read_bytes() != c)
        extra = sorted(str(p.relative_to(REPO)) for p in OUT.glob("*") if p not in files)
        if stale or extra:
            print("out of date: " + ", ".join(stale + extra), file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path in OUT.glob("*.json.gz"):
        if path not in files:
            path.unlink()
    for path, content in files.items():
        path.write_bytes(content)
    print(f"{OUT.relative_to(REPO)}: {len(files) - 1} layouts, {sum(len(c) for c in files.values()):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
