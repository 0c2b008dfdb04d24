"""Reading checkpoints, renaming other toolboxes' weights, and pretrained files for a model
plugin's modules.

A model whose module names differ from MMAction2's defines ``from_mmaction2(state_dict) ->
state_dict``; the recognizers call it on their parts (:func:`convert_parts`). A module whose
constructor takes a ``pretrained`` file derives from :class:`PretrainedMixin` and records the
path; :func:`load_pretrained_files` (run by ``build_model``) reads and loads it once the model is built.

The model zoo: a model plugin registers its known checkpoints (hook ``actioncore_weights``) as
:class:`WeightsEntry` data, usually read from its package's ``weights.toml`` with
:func:`weights_from_package`; :func:`convert_source` reads a zoo checkpoint's layout
(its ``source_format``) into a model's; :func:`class_names` gives the shipped class lists (Kinetics, AVA, ...).
"""
from ..classes import class_ids, class_names
from ..classes import available as class_lists
from ..engine.checkpoint import model_weights
from ..weights.files import backbone_weights, load_into, mmaction2_weights, read_weights
from ..weights.mmaction2 import convert_parts, convert_state, rename_mmaction2
from ..weights.modality import cross_modality_kernel
from ..weights.pretrained import PretrainedMixin, load_pretrained_files
from ..weights.sources import convert_source
from ..weights.zoo import SOURCE_FORMATS, Preprocessing, WeightsEntry, weights_from_package

__all__ = ["Preprocessing", "SOURCE_FORMATS", "WeightsEntry", "class_ids", "class_lists", "class_names", "convert_source",
           "weights_from_package", "PretrainedMixin", "backbone_weights", "convert_parts", "convert_state", "load_into",
           "load_pretrained_files", "mmaction2_weights", "model_weights", "read_weights", "rename_mmaction2",
           "cross_modality_kernel"]
