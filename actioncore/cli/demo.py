"""Handlers of ``actioncore demo`` and ``actioncore explain`` (parsers in :mod:`actioncore.cli`)."""
from __future__ import annotations

import argparse
import json
import sys


def _experiment_and_checkpoint(args: argparse.Namespace):
    """The experiment and checkpoint: EXP + --checkpoint, or --weights NAME (its own experiment,
    EXP optional, the entry's class names)."""
    from ..api import _checkpoint
    from ..config import load_config
    from ..errors import ConfigError

    names = None
    if args.weights is not None:
        from ..classes import class_names
        from ..weights.catalog import find_weights
        from ..weights.resolve import entry_experiment

        entry, _ = find_weights(args.weights)
        experiment = load_config(args.experiment, args.overrides) if args.experiment else \
            entry_experiment(entry, overrides=args.overrides)
        names = class_names(entry.classes) if entry.classes else None
    elif args.experiment is None:
        raise ConfigError(f"{args.command}: give the experiment (EXP.toml) with --checkpoint, or --weights NAME")
    else:
        experiment = load_config(args.experiment, args.overrides)
    return experiment, _checkpoint(args.checkpoint, args.weights), names


def _positionals(args: argparse.Namespace) -> None:
    """``EXP INPUT`` or, with --weights, ``INPUT`` alone."""
    from ..errors import ConfigError

    items = list(args.inputs)
    if len(items) == 2:
        args.experiment, args.input = items
    elif len(items) == 1 and args.weights is not None:
        args.experiment, args.input = None, items[0]
    else:
        raise ConfigError(f"{args.command}: give EXP.toml INPUT (or --weights NAME INPUT), got {len(items)} argument(s)")


def demo(args: argparse.Namespace) -> int:
    from ..vis.demo import DemoRequest, demo_experiment

    _positionals(args)
    experiment, checkpoint, names = _experiment_and_checkpoint(args)
    request = DemoRequest(source=args.input, out=args.out, topk=args.topk, long=args.long, window=args.window,
                          stride=args.stride, max_seconds=args.max_seconds, input_format=args.input_format,
                          class_names=names)
    report = demo_experiment(experiment, checkpoint, request)
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    print(f"wrote {report['out']} ({report['frames']} frames, {report['size'][0]}x{report['size'][1]}, "
          f"{report.get('codec', '')})")
    if "timeline" in report:
        print(f"  {report['windows']} window(s) in {report['timeline']}")
    for p in report.get("predictions", []):
        print(f"  {p['score']:.3f}  {p['label']}  {p.get('name', '')}")
    return 0


def explain(args: argparse.Namespace) -> int:
    from ..vis.explain import explain_experiment

    _positionals(args)
    experiment, checkpoint, _ = _experiment_and_checkpoint(args)
    report = explain_experiment(experiment, checkpoint, args.input, out=args.out, target=args.target_class,
                                layer=args.layer, alpha=args.alpha)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"wrote {report['out']} ({report['frames']} frames, {report['size'][0]}x{report['size'][1]}): Grad-CAM "
          f"of class {report['target']} ({report['target_name']}, score {report['score']:.3f}) at {report['layer']}")
    return 0
