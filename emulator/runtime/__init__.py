"""The SPMD tile runtime: `Machine` (state, buffers, supersteps; machine, state) and the tile
launcher twinned with csrc/runtime/superstep.c (superstep). docs/intrinsics.md."""
from chipemu.emulator.runtime.machine import Machine, TileKernel

__all__ = ["Machine", "TileKernel"]
