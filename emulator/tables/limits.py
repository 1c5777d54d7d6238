"""The device limits: the one table every layer enforces.

Each row bounds a chipemu_device_params field (or a quantity derived from several, `of` says which)
to [lowest, highest] and says why. Derived from it: the pydantic bounds of the Device fields named
in `device` (emulator/device/parts.py, with the derived quantities checked in check_device), the
checks of the runtime (emulator/runtime/state.py), of the engine wrapper (emulator/engine/core.py)
and of the C engine (CHIPEMU_LIMIT_<NAME>_MIN / _MAX in chipemu.h, used by csrc/engine/engine.c),
and the intrinsics' argument bounds (count, peers). A value at a bound is accepted by all of them,
one past it rejected by all of them with a ConfigError (or a kernel error) naming the field.
"""
from __future__ import annotations

from dataclasses import dataclass

from chipemu.emulator.tables.formats import DIMC_MIN_ELEM_BITS

__all__ = ["Limit", "LIMITS", "LIMIT"]


@dataclass(frozen=True)
class Limit:
    name: str              # chipemu_device_params field, or a derived quantity (see `of`)
    lowest: int
    highest: int
    why: str
    device: str = ""       # the Device field it bounds (dotted path), "" if none or derived
    of: str = ""           # for a derived quantity: how it is computed from the params

    def ok(self, value: int) -> bool:
        return self.lowest <= value <= self.highest

    def allowed(self) -> str:
        """What is allowed, for error messages: '1 <= dimc_engines <= 255 (the event's ...)'."""
        return f"{self.lowest} <= {self.name} <= {self.highest} ({self.why})"


LIMITS = (
    Limit("n_chiplets", 1, 4096, "the engine's die-to-die route table holds n_chiplets^2 next hops",
          of="chiplets.rows x chiplets.cols"),
    Limit("n_tiles", 1, 1 << 24, "the engine numbers tiles, their units and resources in int32",
          of="n_chiplets x tile_rows x tile_cols, and tile_rows x tile_cols alone"),
    Limit("dimc_rows", 1, 65536, "a chosen bound far above real arrays (Corsair: 64); it bounds "
          "the DIMC state of a slot", "tile.dimc.rows"),
    Limit("dimc_cols", 1, 65536, "a chosen bound far above real arrays (Corsair: 64); it bounds "
          "the DIMC state of a slot", "tile.dimc.cols"),
    Limit("dimc_slots", 1, 65535, "a slot is the event's uint16 field c", "tile.dimc.weight_slots"),
    Limit("dimc_engines", 1, 255, "an engine is the event's uint8 field unit",
          "tile.dimc.mvm_engines"),
    Limit("dimc_cell_bits", DIMC_MIN_ELEM_BITS, 64, f"a cell holds at least one weight of the "
          f"narrowest DIMC format ({DIMC_MIN_ELEM_BITS} bits) and at most one 64-bit word",
          "tile.dimc.cell_bits"),
    Limit("dram_channels", 0, 4096, "a chosen bound (per chiplet), like n_chiplets'",
          "chiplet.dram.channels"),
    Limit("n_links", 0, 65536, "a chosen bound; two directed resources per link",
          of="die-to-die links (Device.d2d_links())"),
    Limit("buffer_bytes", 1, (1 << 32) - 1, "a range's off and len are the event's uint32 fields",
          of="bytes of one buffer (Machine.alloc_*)"),
    Limit("count", 1, (1 << 31) - 1, "element, byte and vector counts of an intrinsic stay in "
          "int32, so every derived length fits the event's uint32 fields",
          of="count arguments of the intrinsics (n, nbytes, nvec, rows_a x rows_b x row_len)"),
    Limit("peers", 1, 65535, "the event's peer_count is uint16",
          of="tiles named by one send or barrier"),
)
LIMIT = {lim.name: lim for lim in LIMITS}
