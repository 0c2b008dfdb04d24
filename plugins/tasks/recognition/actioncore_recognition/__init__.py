"""Action recognition: 2D/3D recognizers, the training task, and MMAction2's metrics."""
from .recognizer import Recognizer2D, Recognizer3D
from .task import RecognitionTask

__all__ = ["RecognitionTask", "Recognizer2D", "Recognizer3D"]
