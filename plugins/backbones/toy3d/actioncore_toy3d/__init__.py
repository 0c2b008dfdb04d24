"""A small 3D-convolution backbone and a linear classification head.

Not a paper's architecture: the kernel's reference plugin, small enough for tests on a CPU.
"""
from .net import LinearHead, Toy3D

__all__ = ["LinearHead", "Toy3D"]
