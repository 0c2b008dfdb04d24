"""Without workers, batches are prepared in the main process on one torch thread."""
from __future__ import annotations

import torch

from actioncore.data.loader import ClipLoader


class ThreadsSeen(torch.utils.data.Dataset):
    """Each item is the number of torch intra-op threads while it was prepared."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> int:
        return torch.get_num_threads()


def test_main_process_batches_use_one_thread_and_the_count_comes_back():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen, between = [], []
        for batch in ClipLoader(ThreadsSeen(), batch_size=2, num_workers=0, collate_fn=list):
            seen += batch
            between.append(torch.get_num_threads())  # the model's step gets its threads back
        assert seen == [1, 1, 1, 1] and between == [2, 2]
    finally:
        torch.set_num_threads(before)
