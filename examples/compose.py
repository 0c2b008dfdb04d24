"""Compose a TSN recognizer in Python, without an experiment file, and score a clip.

    python examples/compose.py
"""
import torch

import actioncore

backbone = actioncore.build("backbone", "resnet", depth=18)
head = actioncore.build("head", "tsn", num_classes=12, in_channels=512)
model = actioncore.build("model", "recognizer2d", backbone=backbone, head=head, average_clips="prob")

# or the same from one nested table, exactly as [model] would read in TOML:
same = actioncore.build_model({"type": "recognizer2d",
                               "backbone": {"type": "resnet", "depth": 18},
                               "head": {"type": "tsn", "num_classes": 12, "in_channels": 512}})
assert sum(p.numel() for p in same.parameters()) == sum(p.numel() for p in model.parameters())

model.eval()
clips = torch.randn(2, 3, 3, 64, 64)  # [batch, segments, channels, height, width]
with torch.no_grad():
    probabilities = model(clips)
print("parameters:", sum(p.numel() for p in model.parameters()))
print("class probabilities:", tuple(probabilities.shape), "rows sum to", probabilities.sum(dim=1).tolist())
