"""Processes and devices: torchrun's environment, the run device, gathering across ranks."""
from __future__ import annotations

import os
from typing import Any

import attrs
import torch
import torch.distributed as dist

from ..errors import ConfigError


@attrs.frozen
class Placement:
    """Where this process runs: its rank among ``world_size`` processes and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> this process's GPU if there is one, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"runtime.device = '{name}', but no CUDA device is available "
                              "(use 'auto' or 'cpu')")
        return torch.device(name if ":" in name else f"cuda:{local_rank}")
    return torch.device("cpu")


def setup_placement(device_name: str) -> Placement:
    """Join the process group when started by torchrun (gloo on CPU, nccl on GPU)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Placement(rank, world_size, local_rank, device)


def teardown(placement: Placement) -> None:
    if placement.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_gather_objects(obj: Any, placement: Placement) -> list[Any]:
    """Every rank's ``obj``, in rank order (just ``[obj]`` in a single process)."""
    if not placement.distributed:
        return [obj]
    gathered: list[Any] = [None] * placement.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def broadcast_object(obj: Any, placement: Placement) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not placement.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(placement: Placement) -> None:
    if placement.distributed:
        dist.barrier()
