"""How fast PyAVDecoder reads training clips, against decoding every frame from the start.

Encodes a 340x256, 300-frame H.264 video (x264 defaults: B-frames, GOP 250 plus scene cuts; the
synthetic content changes scene every 85 frames, so keyframes land at 0, 85, 170, 255, about where
they land in real clips; a second copy without scene cuts has keyframes at 0 and 250 only) and
times, per clip, open + read + close for

- TSN-like index sets: 8 frames, one at a random offset in each of 8 equal segments;
- SlowFast-like index sets: 32 frames with interval 2 from a random start;

with four readers: ``naive`` (decode from frame 0 up to the last wanted frame, convert only the
wanted frames; same thread settings as ours), ``mmaction2`` (as MMAction2's ``PyAVDecode``:
default threading, every decoded frame converted to RGB), ``actioncore`` (``PyAVDecoder``:
seek + decode only what is needed, unwanted non-reference frames skipped) and ``ac-noskip``
(the same with ``skip_nonref=False``). This noise-like content gets few B-frames from x264, so
skipping saves less here than on ordinary footage (see ``data_vs_mmaction2.py --content``).
Also compares JPEG decoding backends for frame folders.

Run: ``PYTHONPATH=. python benchmarks/decode_speed.py [--repeats N]``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import torch

from actioncore.builtin.decoders import PyAVDecoder

WIDTH, HEIGHT, FRAMES = 340, 256, 300


def synthetic_video(path: Path, *, scene_every: int = 85, scenecut: bool = True) -> Path:
    """Fine random texture panning 3 px per frame, a new texture every ``scene_every`` frames.

    About 840 KB and 0.3 ms of decoding per frame: close to a Kinetics clip at this size.
    """
    step, block = 3, 2
    rng = np.random.default_rng(0)
    shape = (FRAMES // scene_every + 1, HEIGHT // block, (WIDTH + FRAMES * step) // block + 1, 3)
    textures = rng.integers(0, 256, size=shape, dtype=np.uint8)
    textures = textures.repeat(block, axis=1).repeat(block, axis=2)
    options = {} if scenecut else {"x264-params": "scenecut=0"}
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options=options)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.gop_size = 250
        for index in range(FRAMES):
            x = step * index
            picture = np.ascontiguousarray(textures[index // scene_every, :, x:x + WIDTH])
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def keyframes(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        packets = [(p.pts, p.is_keyframe) for p in container.demux(video=0) if p.size]
    packets.sort()
    return [i for i, (_, key) in enumerate(packets) if key]


def tsn_indices(rng: np.random.Generator, segments: int = 8) -> np.ndarray:
    segment = FRAMES / segments
    return (np.arange(segments) * segment + rng.random(segments) * segment).astype(np.int64)


def slowfast_indices(rng: np.random.Generator) -> np.ndarray:
    start = int(rng.integers(0, FRAMES - 64 + 1))
    return np.arange(start, start + 64, 2)


def read_from_start(path: Path, indices: np.ndarray, *, convert_all: bool) -> torch.Tensor:
    """Decode from frame 0 and stop after the last wanted frame.

    ``convert_all=False`` is the naive loop with PyAVDecoder's thread settings (one decoder
    thread, one swscale thread), so that it differs from PyAVDecoder only in not seeking.
    ``convert_all=True`` is MMAction2's ``PyAVDecode``: FFmpeg's default threading and every
    decoded frame converted to RGB and kept.
    """
    wanted = set(indices.tolist())
    last = int(indices.max())
    got: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if not convert_all:
            stream.codec_context.thread_count = 1
        for index, frame in enumerate(container.decode(stream)):
            if convert_all:
                got[index] = frame.to_rgb().to_ndarray()
            elif index in wanted:
                got[index] = frame.to_ndarray(format="rgb24", threads=1)
            if index >= last:
                break
    return torch.from_numpy(np.stack([got[i] for i in indices.tolist()]))


def read_actioncore(path: Path, indices: np.ndarray, *, skip_nonref: bool = True) -> torch.Tensor:
    with PyAVDecoder(skip_nonref=skip_nonref).open(path) as reader:
        return reader.read(indices)


READERS: dict[str, Callable[[Path, np.ndarray], torch.Tensor]] = {
    "naive": lambda p, i: read_from_start(p, i, convert_all=False),
    "mmaction2": lambda p, i: read_from_start(p, i, convert_all=True),
    "actioncore": read_actioncore,
    "ac-noskip": lambda p, i: read_actioncore(p, i, skip_nonref=False),
}


def time_reader(read, path: Path, sampler, repeats: int) -> float:
    """Mean seconds per clip over ``repeats`` clips with the same seeded index sets."""
    rng = np.random.default_rng(1)
    clips = [sampler(rng) for _ in range(repeats)]
    read(path, clips[0])
    start = time.perf_counter()
    for indices in clips:
        read(path, indices)
    return (time.perf_counter() - start) / repeats


def frames_decoded(path: Path, sampler, repeats: int) -> tuple[float, float, float]:
    """Mean frames decoded per clip: by PyAVDecoder with and without skipping non-reference
    frames, and by any decode-from-start loop."""
    rng = np.random.default_rng(1)
    ours, noskip, from_start = [], [], []
    for _ in range(repeats):
        indices = sampler(rng)
        for skip, counts in ((True, ours), (False, noskip)):
            with PyAVDecoder(skip_nonref=skip).open(path) as reader:
                reader.read(indices)
                counts.append(reader.frames_decoded)
        from_start.append(int(indices.max()) + 1)
    return float(np.mean(ours)), float(np.mean(noskip)), float(np.mean(from_start))


def check_same_frames(path: Path) -> None:
    indices = tsn_indices(np.random.default_rng(5))
    reference = READERS["naive"](path, indices)
    assert torch.equal(READERS["actioncore"](path, indices), reference)
    assert torch.equal(READERS["ac-noskip"](path, indices), reference)


def video_benchmark(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for label, scenecut in (("x264 defaults (scene cuts)", True), ("GOP 250, no cuts", False)):
            path = synthetic_video(Path(tmp) / f"clip_{scenecut}.mp4", scenecut=scenecut)
            check_same_frames(path)
            print(f"\n{label}: keyframes at {keyframes(path)}")
            print(f"{'reader':<12}{'TSN 8 frames':>22}{'SlowFast 32x2':>22}")
            for name, read in READERS.items():
                row = [time_reader(read, path, s, repeats) for s in (tsn_indices, slowfast_indices)]
                cells = "".join(f"{t * 1e3:9.1f} ms {1 / t:6.1f}/s " for t in row)
                print(f"{name:<12}{cells}")
            for sampler in (tsn_indices, slowfast_indices):
                ours, noskip, from_start = frames_decoded(path, sampler, repeats)
                print(f"frames decoded per clip, {sampler.__name__}: actioncore {ours:.0f}, "
                      f"without skipping {noskip:.0f}, from the start {from_start:.0f}")


def jpeg_benchmark(repeats: int) -> None:
    from PIL import Image
    from torchvision.io import ImageReadMode, decode_image, write_jpeg

    try:
        import pims  # only this comparison uses it: pip install pims
    except ImportError:
        pims = None

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        coarse = rng.integers(0, 256, size=(32, 43, 3), dtype=np.uint8)
        base = coarse.repeat(8, axis=0).repeat(8, axis=1)[:HEIGHT, :WIDTH]
        files = []
        for index in range(64):
            picture = torch.from_numpy(np.roll(base, 3 * index, axis=1)).permute(2, 0, 1)
            files.append(str(Path(tmp) / f"img_{index + 1:05d}.jpg"))
            write_jpeg(picture.contiguous(), files[-1], quality=90)
        sequence = pims.ImageSequence(str(Path(tmp) / "*.jpg")) if pims is not None else None

        def with_torchvision(i: int) -> np.ndarray:
            data = torch.from_numpy(np.fromfile(files[i], dtype=np.uint8))
            return decode_image(data, mode=ImageReadMode.RGB).permute(1, 2, 0).numpy()

        def with_pil(i: int) -> np.ndarray:
            with Image.open(files[i]) as image:
                return np.asarray(image.convert("RGB"))

        def with_pims(i: int) -> np.ndarray:
            return np.asarray(sequence[i])

        print(f"\nJPEG {WIDTH}x{HEIGHT}, ms per frame:")
        backends = (("torchvision", with_torchvision), ("PIL", with_pil),
                    *((("pims", with_pims),) if sequence is not None else ()))
        for name, decode in backends:
            decode(0)
            best = min(_per_frame(decode, len(files)) for _ in range(max(3, repeats // 10)))
            print(f"  {name:<12}{best * 1e3:.3f}")


def _per_frame(decode, count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        decode(i)
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    video_benchmark(args.repeats)
    jpeg_benchmark(args.repeats)


if __name__ == "__main__":
    main()
