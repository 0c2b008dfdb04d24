"""The exceptions actioncore raises for user mistakes and bad input.

Every error a user can cause derives from :class:`ActionCoreError`. The command line turns these
into a one-paragraph message and exit status 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class ActionCoreError(Exception):
    """Base of every error caused by the user's files, configuration or plugins."""


class ConfigError(ActionCoreError):
    """An experiment file, an include or a ``--set`` override is wrong.

    The message names the file and the full key path (``model.backbone.depth``).
    """


class PluginError(ActionCoreError):
    """A plugin failed to load, a hook raised, two plugins claim one name, or a name is unknown."""


class DataError(ActionCoreError):
    """A video, frame folder or annotation cannot be read; the message names the file (and line)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line

    def __reduce__(self):  # keep path and line when a DataLoader worker sends it to the main process
        return _data_error, (str(self), self.path, self.line)


def _data_error(message: str, path: str | None, line: int | None) -> DataError:
    return DataError(message, path=path, line=line)


class CheckpointError(ActionCoreError):
    """A checkpoint is missing, truncated, of an unknown format version or does not fit the model."""


class TrainingError(ActionCoreError):
    """Training cannot go on (for example a non-finite loss); the message gives the iteration."""


class StorageError(ActionCoreError):
    """The machine refused a write: a work dir that cannot be created or written, a full disk.

    Not the user's configuration but the system's state, so the command line exits with status 1;
    the message names the path and the reason in one line, and the run log records it.
    """


class ExportError(ActionCoreError):
    """A model cannot be exported to a deployment format (an operator the exporter does not
    convert), or the exported file's outputs differ from the eager model's; the message names the
    experiment, the format and the reason."""
