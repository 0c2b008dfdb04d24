"""Action recognition: 2D/3D recognizers, the training task, and MMAction2's metrics."""
from .metrics import MeanAveragePrecision, MeanClassAccuracy, TopKAccuracy
from .recognizer import Recognizer2D, Recognizer3D
from .task import RecognitionAdapter, RecognitionTask, clip_dataset, prepare_inputs, read_class_names, scored_predictions

__all__ = ["MeanAveragePrecision", "MeanClassAccuracy", "RecognitionAdapter", "RecognitionTask", "Recognizer2D", "Recognizer3D",
           "TopKAccuracy", "clip_dataset", "prepare_inputs", "read_class_names", "scored_predictions"]
