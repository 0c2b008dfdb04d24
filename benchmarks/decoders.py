"""Decoding alone: actioncore's ``pyav`` reader against TorchCodec and decord, same clips, same frames.

The decoders are the anchors of ``data_vs_mmaction2.py`` without the pipelines around them: each
reads the frames a sampling style asks for, as uint8 RGB, from the same 340x256 x264 videos (that
script's synthetic footage, cached in the same folder), opening the file for every clip as a
dataset does. Styles: ``tsn3`` / ``tsn8`` (one random frame in each of 3 / 8 segments),
``slowfast`` (32 frames, interval 2), ``dense64`` (64 consecutive frames), ``all`` (every frame).

Readers: ``actioncore`` (``PyAVDecoder``, its packet-index cache on), ``actioncore-nocache``
(``index_cache_frames = 0``: indexes the file on every open, as the others do), ``torchcodec-exact``
and ``torchcodec-approximate`` (TorchCodec's ``VideoDecoder`` with that ``seek_mode``, one FFmpeg
thread, NHWC), ``decord`` (``VideoReader``, one thread, ``get_batch``). Before timing, every reader's
frames are compared with actioncore's for a clip of each style; the report says whether they are
bit-identical. Readers take turns clip by clip (``data_vs_mmaction2.measure``), clips/s in
wall-clock and per CPU-second of this process.

TorchCodec and decord are measuring sticks, never imported by the package or its tests. Install::

    ../shared/peers/setup.sh /tmp/peers                              # decord (and MMAction2)
    .venv/bin/python -m pip install --target /tmp/peers --no-deps torchcodec==0.17.0
    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/decoders.py [--styles tsn3,slowfast] [--json]

TorchCodec loads FFmpeg's shared libraries by their plain names (``libavcodec.so.62``, ...). Where
the system has none, this script links the FFmpeg 8 that PyAV's wheel carries into a temporary
folder under those names and runs itself again with it on ``LD_LIBRARY_PATH`` (the loader reads
that variable only at start); both decoders then run the same FFmpeg build. A reader whose package
is missing is left out and named in the report.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data_vs_mmaction2 import ENCODING_VERSION, FRAMES, cached_videos, measure  # noqa: E402
from decode_speed import slowfast_indices, tsn_indices  # noqa: E402

STYLES: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "tsn3": lambda rng: tsn_indices(rng, 3),
    "tsn8": tsn_indices,
    "slowfast": slowfast_indices,
    "dense64": lambda rng: int(rng.integers(0, FRAMES - 63)) + np.arange(64),
    "all": lambda rng: np.arange(FRAMES),
}
RELAUNCHED = "ACTIONCORE_DECODERS_FFMPEG"
"""Set in the environment of the second run, so that a failing TorchCodec is reported, not retried."""


# Readers


Read = Callable[[str, np.ndarray], np.ndarray]


def actioncore_reader(cache: bool) -> Read:
    from actioncore.builtin.decoders import PyAVDecoder

    decoder = PyAVDecoder() if cache else PyAVDecoder(index_cache_frames=0)

    def read(path: str, indices: np.ndarray) -> np.ndarray:
        with decoder.open(path) as reader:
            return reader.read(indices).numpy()
    return read


def torchcodec_reader(seek_mode: str) -> Read:
    from torchcodec.decoders import VideoDecoder

    def read(path: str, indices: np.ndarray) -> np.ndarray:
        decoder = VideoDecoder(path, seek_mode=seek_mode, num_ffmpeg_threads=1, dimension_order="NHWC")
        return decoder.get_frames_at(indices.tolist()).data.numpy()
    return read


def decord_reader() -> Read:
    import decord

    def read(path: str, indices: np.ndarray) -> np.ndarray:
        return decord.VideoReader(path, num_threads=1).get_batch(indices).asnumpy()
    return read


def ffmpeg_for_torchcodec() -> str | None:
    """A folder of links to PyAV's bundled FFmpeg under the names TorchCodec loads, or None when
    PyAV's wheel carries no FFmpeg (a PyAV built against the system's, which TorchCodec finds)."""
    import av

    bundled = Path(av.__file__).resolve().parent.parent / "av.libs"
    if not bundled.is_dir():
        return None
    folder = Path(tempfile.gettempdir()) / "actioncore_torchcodec_ffmpeg"
    folder.mkdir(exist_ok=True)
    for library in bundled.glob("lib*.so*"):
        name, _, rest = library.name.partition("-")  # libavcodec-5e6b81c2.so.62.28.102
        if name in ("libavcodec", "libavformat", "libavutil", "libavdevice", "libavfilter",
                    "libswscale", "libswresample") and rest:
            major = rest.split(".so.")[1].split(".")[0]
            link = folder / f"{name}.so.{major}"
            if link.is_symlink() and link.resolve() != library.resolve():  # left by another environment
                link.unlink()
            if not link.is_symlink():
                link.symlink_to(library)
    return f"{folder}{os.pathsep}{bundled}"  # the bundled folder for the libraries they link


def relaunch_with_ffmpeg() -> None:
    """Run this script again with TorchCodec able to find FFmpeg (see the module docstring)."""
    paths = ffmpeg_for_torchcodec()
    if paths is None:
        return
    nvidia = Path(torch.__file__).resolve().parent.parent / "nvidia"
    cuda = [str(p) for p in sorted(nvidia.glob("*/lib"))]  # a CUDA build of TorchCodec links the CUDA runtime
    env = dict(os.environ, **{RELAUNCHED: "1"})
    env["LD_LIBRARY_PATH"] = os.pathsep.join([paths, *cuda, *filter(None, [os.environ.get("LD_LIBRARY_PATH")])])
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def readers(probe: Path) -> tuple[dict[str, Read], dict[str, str]]:
    """The readers that can run here and, for the others, why not. TorchCodec loads FFmpeg when
    it first opens a file: ``probe`` is that file."""
    run: dict[str, Read] = {"actioncore": actioncore_reader(True), "actioncore-nocache": actioncore_reader(False)}
    missing: dict[str, str] = {}
    try:
        from torchcodec.decoders import VideoDecoder
        VideoDecoder(str(probe))
    except ImportError as exc:
        missing["torchcodec"] = f"not installed ({exc})"
    except (OSError, RuntimeError) as exc:  # its FFmpeg libraries were not found
        if not os.environ.get(RELAUNCHED):
            relaunch_with_ffmpeg()
        missing["torchcodec"] = f"cannot load FFmpeg: {str(exc).splitlines()[0]}"
    else:
        run["torchcodec-exact"] = torchcodec_reader("exact")
        run["torchcodec-approximate"] = torchcodec_reader("approximate")
    try:
        run["decord"] = decord_reader()
    except ImportError as exc:
        missing["decord"] = f"not installed ({exc})"
    return run, missing


# Measuring


def same_frames(run: dict[str, Read], videos: list[Path]) -> dict[str, dict[str, bool]]:
    """Per style and reader, whether it returns actioncore's frames bit for bit (one clip)."""
    result = {}
    for style, sampler in STYLES.items():
        indices = sampler(np.random.default_rng(0))
        expected = run["actioncore"](str(videos[0]), indices)
        result[style] = {name: bool(np.array_equal(read(str(videos[0]), indices), expected))
                         for name, read in run.items() if name != "actioncore"}
    return result


def clip_runs(run: dict[str, Read], videos: list[Path], style: str) -> dict[str, Callable[[int, int], object]]:
    """``measure``'s ``run(round, clip)`` per reader: clip ``j`` of a round reads video ``j mod N``
    at indices drawn from a generator seeded by (round, clip), the same for every reader."""
    sampler = STYLES[style]

    def clip_of(read: Read) -> Callable[[int, int], object]:
        def one(round_: int, clip: int) -> object:
            return read(str(videos[clip % len(videos)]), sampler(np.random.default_rng([round_, clip])))
        return one
    return {name: clip_of(read) for name, read in run.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8, help="number of videos (default 8)")
    parser.add_argument("--clips", type=int, default=16, help="clips per reader per round (default 16)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--styles", default=",".join(STYLES), help=f"comma-separated, of {', '.join(STYLES)}")
    default_cache = os.path.join(tempfile.gettempdir(), f"actioncore_bench_videos_v{ENCODING_VERSION}")
    parser.add_argument("--cache", default=default_cache, help="folder of the encoded videos (shared with data_vs_mmaction2.py)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    styles = args.styles.split(",")
    unknown = sorted(set(styles) - set(STYLES))
    if unknown:
        parser.error(f"unknown style(s) {', '.join(unknown)}; choose from {', '.join(STYLES)}")
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    videos = cached_videos(args.videos, Path(args.cache), "natural")
    run, missing = readers(videos[0])
    report: dict = {"videos": args.videos, "clips_per_round": args.clips, "rounds": args.rounds,
                    "missing": missing, "same_frames": same_frames(run, videos), "styles": {}}
    versions = {"torch": torch.__version__}
    for package in ("av", "torchcodec", "decord"):
        module = sys.modules.get(package)
        if module is not None:
            versions[package] = getattr(module, "__version__", "?")
    report["versions"] = versions
    if not args.json:
        print(f"readers: {', '.join(run)}" + "".join(f"; {name} left out: {why}" for name, why in missing.items()))
        print(f"frames equal to actioncore's: {report['same_frames']}\n")
    for style in styles:
        result = measure(clip_runs(run, videos, style), clips=args.clips, rounds=args.rounds)
        report["styles"][style] = result
        if not args.json:
            wall, cpu = result["wall"]["clips_per_s"], result["cpu"]["clips_per_s"]
            print(f"{style:9s} " + "  ".join(f"{name} {wall[name]:.1f} ({cpu[name]:.1f}/cpu-s)" for name in run))
    if args.json:
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
