"""Top-1 on the motion-only classes of the embedded recognition set, for any recognition example.

The motion-only classes of ``actioncore data synth recognition`` come in time-reversed pairs
(``grow``/``shrink``, ``appear``/``vanish``, ...): a clip of one is a clip of the other played
backwards, so a model that averages per-frame scores (TSN) gets at most half of them right. The
test suite checks TSM and SlowFast against TSN on the default set
(``tests/test_temporal_modelling.py``, about 9 CPU minutes); a TimeSformer trained from scratch
needs the large set and about 45 minutes on one core, so its number is measured here:

    python benchmarks/motion_only.py examples/quickstart_timesformer.toml --size large
    python benchmarks/motion_only.py examples/quickstart_tsm.toml --set model.backbone.is_shift=false

It writes the data set into ``--data`` (unless it is there already), trains with
``actioncore run`` (``--resume`` continues an interrupted run in the same work dir), predicts the
test split with ``actioncore test`` and prints one JSON line: top-1 over all classes, over the
motion-only and the appearance classes, and per motion-only class.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from actioncore.builtin.synth import synthesize
from actioncore.builtin.synth.scenes import CLASSES


def _data_overrides(root: Path) -> list[str]:
    sets = [f'task.classes="{root / "classes.txt"}"']
    for split in ("train", "val", "test"):
        sets += [f'data.{split}.ann_file="{root / f"{split}.txt"}"', f'data.{split}.root="{root / "videos"}"']
    return sets


def _actioncore(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "actioncore", *args], stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"actioncore {args[0]} failed (exit {done.returncode})")


def _top1(samples: list[dict]) -> float:
    return sum(s["predictions"][0]["label"] == s["label"] for s in samples) / len(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", type=Path)
    parser.add_argument("--size", choices=("default", "large"), default="default")
    parser.add_argument("--data", type=Path, help="data set folder (default: data/synth_SIZE)")
    parser.add_argument("--work-dir", type=Path, help="default: work_dirs/motion_only/EXPERIMENT")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()

    root = args.data or Path("data") / f"synth_{args.size}"
    if not (root / "classes.txt").is_file():
        synthesize("recognition", root, seed=0, size=args.size)
    work = args.work_dir or Path("work_dirs") / "motion_only" / args.experiment.stem
    flags = [flag for item in (*_data_overrides(root), *args.set) for flag in ("--set", item)]
    _actioncore("run", str(args.experiment), "--work-dir", str(work), "--json",
                *(["--resume"] if args.resume else []), *flags)
    predictions = work / "predictions.json"
    _actioncore("test", str(args.experiment), "--checkpoint", str(work / "checkpoints" / "latest.pth"),
                "--out", str(predictions), "--json", *flags)

    samples = json.loads(predictions.read_text())["samples"]
    motion = [s for s in samples if CLASSES[s["label"]].motion_only]
    print(json.dumps({
        "experiment": str(args.experiment), "data": str(root), "overrides": args.set,
        "top1": round(_top1(samples), 4),
        "motion_only": round(_top1(motion), 4),
        "appearance": round(_top1([s for s in samples if not CLASSES[s["label"]].motion_only]), 4),
        "per_class": {c.name: round(_top1([s for s in motion if s["label"] == i]), 2)
                      for i, c in enumerate(CLASSES) if c.motion_only},
    }))


if __name__ == "__main__":
    main()
