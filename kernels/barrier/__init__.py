"""The barrier kernel every kernel uses between phases (tile twins: tile.py, csrc/kernels/barrier/tile.c)."""
from chipemu.kernels.barrier.tile import BARRIER_ALL

__all__ = ["BARRIER_ALL"]
