"""``actioncore data audio-features``: MMAction2 0.24's ``build_audio_features.py`` from the videos themselves."""
from __future__ import annotations

import argparse
from typing import Any


def add_parsers(data_sub: Any) -> None:
    """The ``data audio-features`` subcommand."""
    from . import _add_json

    p = data_sub.add_parser("audio-features", help="log-mel spectrograms of the videos' sound (MMAction2 0.24's "
                            "build_audio_features: 16 kHz, 80 mels) as DIR/<video name>.npy, float32 [frames, 80]")
    p.add_argument("source", metavar="SRC", help="a video file or a folder searched recursively for videos")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    _add_json(p)
    p.set_defaults(handler="data_audio_features")


def data_audio_features(args: argparse.Namespace) -> int:
    from ..data.prep.audio import extract_audio_features
    from ..progress import progress_enabled
    from .dataprep import _report

    report = extract_audio_features(args.source, args.out, workers=args.workers,
                                    progress=progress_enabled()).as_dict()
    skipped = sum(1 for r in report["done"].values() if r["skipped"])
    frames = sum(r["frames"] for r in report["done"].values())
    return _report(args, report, f"{args.out}: audio features of {len(report['done'])} videos ({skipped} already "
                                 f"there), {frames} feature frames; {len(report['failed'])} failed")
