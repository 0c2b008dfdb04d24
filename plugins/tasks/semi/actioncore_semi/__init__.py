"""Semi-supervised action recognition: FixMatch, UDA, ActorCutMix, distillation (SEED003)."""
from .distill import DistillRecognizer
from .loader import SemiLoader
from .losses import consistency_loss, mix_targets, pseudo_labels, soft_cross_entropy
from .task import SemiAdapter, SemiRecognitionTask

__all__ = ["DistillRecognizer", "SemiAdapter", "SemiLoader", "SemiRecognitionTask", "consistency_loss",
           "mix_targets", "pseudo_labels", "soft_cross_entropy"]
