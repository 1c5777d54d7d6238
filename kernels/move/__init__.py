"""move: the data-movement tile kernel a program inserts between kernels — sends (multicast),
local copies, host and DRAM reads and quantizations to a DIMC format, listed per tile
(docs/programs.md). Modules: params (the op list layout), data (`Moves`, the builder), tile
(Numba twin of csrc/kernels/move/tile.c)."""
from chipemu.kernels.move.data import Moves
from chipemu.kernels.move.params import LAYOUT
from chipemu.kernels.move.tile import MOVE_RUN
from chipemu.kernels.registry import Kernel

__all__ = ["Moves", "MOVE_RUN", "KERNEL"]

KERNEL = Kernel(name="move", doc="docs/programs.md", params=(LAYOUT,))
