"""``recognizer_gcn``: a GCN backbone and head over skeleton clips, MMAction2's ``RecognizerGCN``.

Input ``[N, num_clips, M, T, V, C]`` (what ``format_gcn_input`` and collate make) is folded to
``[N * num_clips, M, T, V, C]`` for the backbone, whose ``[N * num_clips, M, C', T', V]`` features
the head pools into one row of class scores per clip. In evaluation the clips of each sample are
averaged (``average_clips``: softmax probabilities by default, as MMAction2's ``GCNHead``; or raw
scores); in training, by score, so the loss sees logits. MMAction2 checkpoints convert with the
recognizers' ``backbone.`` / ``cls_head.`` renaming (``actioncore convert mmaction2``).
"""
from __future__ import annotations

import torch

from actioncore_recognition import Recognizer3D


class RecognizerGCN(Recognizer3D):
    """Skeleton clips through a graph-convolution backbone; each clip scored, then averaged.

    Parameters (those of the recognition plugin's recognizers): ``backbone``, ``head``, an
    optional ``neck`` and ``average_clips`` (``"prob"``, ``"score"`` or none).
    """

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() not in (5, 6):
            raise ValueError(f"recognizer_gcn expects skeletons [N, num_clips, M, T, V, C] (or [N, M, T, V, C]), "
                             f"got shape {list(inputs.shape)}")
        return super().forward(inputs)
