"""``actioncore examples [NAME...] [--copy DIR] [--json]``: the installed plugins' example experiments."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..plugin.examples import copy_examples, installed_examples, select
from .commands import _print_json


def examples(args: argparse.Namespace) -> int:
    chosen = select(installed_examples(), args.names)
    copied = copy_examples(chosen, Path(args.copy), force=args.force) if args.copy else {}
    if args.json:
        _print_json([{**e.describe(), **({"copied": [str(p) for p in copied[e.path]]} if copied else {})}
                     for e in chosen])
        return 0
    if not chosen:
        print("no installed plugin ships an example (pip install actioncore-<model>, e.g. actioncore-slowfast)")
        return 0
    header = ("name", "distribution", "task", "model")
    rows = [header] + [(e.name, e.distribution, e.task or "-", e.model or "-") for e in chosen]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for e in chosen:
        if e.error:
            print(f"unreadable: {e.path}: {e.error}")
    if copied:
        files = sum(len(v) for v in copied.values())
        print(f"copied {len(copied)} example(s) ({files} file(s)) into {args.copy}; run one with: "
              f"actioncore run {Path(args.copy) / chosen[0].path.name}")
    else:
        print(f"{len(chosen)} example(s); copy them with: actioncore examples --copy DIR [NAME...]")
    return 0
