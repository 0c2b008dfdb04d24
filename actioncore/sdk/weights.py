"""Reading checkpoints and renaming other toolboxes' weights for a model plugin's modules.

A model whose module names differ from MMAction2's defines ``from_mmaction2(state_dict) ->
state_dict``; the recognizers call it on their parts (:func:`convert_parts`).
"""
from ..convert import (backbone_weights, convert_parts, convert_state, load_backbone_weights, load_into,
                       mmaction2_weights, rename_mmaction2)
from ..engine.checkpoint import model_weights

__all__ = ["backbone_weights", "convert_parts", "convert_state", "load_backbone_weights", "load_into",
           "mmaction2_weights", "model_weights", "rename_mmaction2"]
