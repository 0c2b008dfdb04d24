"""``actioncore data flow``: optical flow of a video as ``flow_x_00001.jpg`` / ``flow_y_00001.jpg``.

The flow between frames k and k+1 (1-based k) is computed with torchvision's RAFT (Teed & Deng,
ECCV 2020; ``raft_small`` or ``raft_large``) and stored as denseflow and MMAction2's
``tools/misc/flow_extraction.py`` store TV-L1 flow: each component is clipped to
``[-bound, bound]`` pixels (bound 20) and mapped linearly onto 0..255
(``round((v + bound) * 255 / (2 * bound))``, so 0 px/frame is 128 after rounding 127.5), one
grayscale JPEG per direction. A video of N frames gives N - 1 pairs, numbered from 1, which the
``frame_folder`` decoder reads with ``filename_tmpl = "flow_{}_{:05d}.jpg"`` as two-channel frames.

Weights come only from a local file (``--weights``: a state dict of the chosen RAFT, as
torchvision's ``Raft_Small_Weights.C_T_V2`` file ``raft_small_C_T_V2-01064c6d.pth``); nothing is
downloaded. RAFT wants sides divisible by 8 and at least 128 px: frames are padded (edge
replicated) and the flow cropped back. A folder is complete once its ``.done`` marker is written, last; a rerun with the
same settings skips it.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ...errors import CheckpointError, DataError
from .frames import MARKER, decoded_images, read_marker
from .jobs import JobReport, VideoJob, find_videos, run_jobs

FLOW_TMPL = "flow_{}_{:05d}.jpg"
"""MMAction2's and denseflow's flow file names; the direction is ``x`` or ``y``."""
MODELS = ("raft_small", "raft_large")
DEFAULT_BOUND = 20.0
MIN_SIDE = 128
"""RAFT's correlation pyramid needs feature maps of >= 16 cells, 128 px; smaller frames are padded."""


def quantize_flow(flow: torch.Tensor, *, bound: float = DEFAULT_BOUND) -> torch.Tensor:
    """uint8 of float flow (pixels per frame): clipped to ``[-bound, bound]``, mapped onto 0..255."""
    scaled = (flow.clamp(-bound, bound) + bound) * (255.0 / (2.0 * bound))
    return scaled.round().clamp(0, 255).to(torch.uint8)


def load_raft(model: str, weights: str | os.PathLike[str], *, device: str = "cpu") -> torch.nn.Module:
    """torchvision's ``model`` (``raft_small``/``raft_large``) with the state dict in ``weights``, in eval mode."""
    from torchvision.models import optical_flow

    if model not in MODELS:
        raise DataError(f"--model {model!r}: one of {', '.join(MODELS)}")
    network = getattr(optical_flow, model)(weights=None, progress=False)
    try:
        state = torch.load(os.fspath(weights), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{weights}: no such RAFT weights file") from None
    except Exception as exc:  # torch raises several types for a file that is not a checkpoint
        raise CheckpointError(f"{weights}: not a readable state dict: {type(exc).__name__}: {exc}") from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    try:
        network.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{weights}: does not fit torchvision's {model}: {str(exc).splitlines()[0]}") from None
    return network.eval().to(device)


def _as_raft_input(images: Sequence[Image.Image], device: str) -> torch.Tensor:
    """float ``[N, 3, H', W']`` in [-1, 1] (RAFT's normalisation), each side padded (edge
    replicated) up to a multiple of 8 and at least :data:`MIN_SIDE`."""
    batch = torch.from_numpy(np.stack([np.asarray(image.convert("RGB")) for image in images]))
    batch = batch.to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    height, width = batch.shape[-2:]
    pad = (0, max(-width % 8, MIN_SIDE - width), 0, max(-height % 8, MIN_SIDE - height))
    return torch.nn.functional.pad(batch, pad, mode="replicate") if any(pad) else batch


def flow_pairs(network: torch.nn.Module, images: Iterator[Image.Image], *, batch_pairs: int = 8,
               iterations: int = 12, device: str = "cpu") -> Iterator[torch.Tensor]:
    """Float flow ``[2, H, W]`` (x then y, pixels) from each frame to the next, in order."""
    previous: Image.Image | None = None
    firsts: list[Image.Image] = []
    seconds: list[Image.Image] = []

    def run() -> Iterator[torch.Tensor]:
        with torch.inference_mode():
            flows = network(_as_raft_input(firsts, device), _as_raft_input(seconds, device),
                            num_flow_updates=iterations)[-1]
        height, width = firsts[0].height, firsts[0].width
        yield from flows[:, :, :height, :width].float().cpu()
        firsts.clear()
        seconds.clear()

    for image in images:
        if previous is not None:
            firsts.append(previous)
            seconds.append(image)
            if len(firsts) == batch_pairs:
                yield from run()
        previous = image
    if firsts:
        yield from run()


def extract_video_flow(job: VideoJob, *, out: str, network: torch.nn.Module, settings: dict[str, Any],
                       short_side: int | None, bound: float, batch_pairs: int, iterations: int, device: str,
                       quality: int) -> dict[str, Any]:
    """Write the flow of ``job.source`` to ``out/<job.name>/``; a folder complete with the same
    ``settings`` is left as is."""
    folder = Path(out) / job.name
    record = read_marker(folder)
    if record is not None and record.get("settings") == settings:
        return {**record, "skipped": True}
    if folder.exists():
        shutil.rmtree(folder)  # partial, or made with other settings: redo from the start
    folder.mkdir(parents=True)
    count = 0
    for flow in flow_pairs(network, decoded_images(job.source, short_side=short_side), batch_pairs=batch_pairs,
                           iterations=iterations, device=device):
        count += 1
        for direction, plane in zip("xy", quantize_flow(flow, bound=bound).numpy()):
            Image.fromarray(plane).save(folder / FLOW_TMPL.format(direction, count), quality=quality)
    if count == 0:
        raise DataError(f"{job.source}: fewer than 2 frames, no flow", path=str(job.source))
    height, width = flow.shape[-2:]
    record = {"frames": count, "width": int(width), "height": int(height), "settings": settings,
              "source": os.fspath(job.source)}
    (folder / MARKER).write_text(json.dumps(record), encoding="utf-8")
    return {**record, "skipped": False}


def extract_flow(source: str | os.PathLike[str], out: str | os.PathLike[str], *, weights: str | os.PathLike[str],
                 model: str = "raft_small", short_side: int | None = None, bound: float = DEFAULT_BOUND,
                 iterations: int = 12, batch_pairs: int = 8, device: str = "cpu", quality: int = 95,
                 progress: bool = True) -> JobReport:
    """Flow folders for ``source`` (a video, or every video under a folder) in ``out``, one
    video after the other with one RAFT (a GPU is used by one process at a time)."""
    if short_side is not None and short_side < 1:
        raise DataError(f"--short-side must be positive, got {short_side}")
    if not bound > 0:
        raise DataError(f"--bound must be positive, got {bound}")
    if iterations < 1 or batch_pairs < 1:
        raise DataError(f"--iterations and --batch-pairs must be >= 1, got {iterations} and {batch_pairs}")
    if not 1 <= quality <= 100:
        raise DataError(f"--quality must be in 1..100, got {quality}")
    jobs = find_videos(source)
    network = load_raft(model, weights, device=device)
    Path(out).mkdir(parents=True, exist_ok=True)
    settings = {"model": model, "weights": Path(weights).name, "short_side": short_side, "bound": bound,
                "iterations": iterations}
    return run_jobs(extract_video_flow, jobs, workers=1, progress=progress, what="video", out=os.fspath(out),
                    network=network, settings=settings, short_side=short_side, bound=bound,
                    batch_pairs=batch_pairs, iterations=iterations, device=device, quality=quality)
