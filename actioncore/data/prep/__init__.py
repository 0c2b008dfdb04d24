"""Data preparation, the ``tools/data`` of MMAction2 as commands: frames, re-encoded videos, file lists."""
