"""The device limits: the one table every layer enforces.

Each row bounds a chipemu_device_params field (or a quantity derived from several, `of` says which)
to [lowest, highest] and says why. Derived from it: the pydantic bounds of the Device fields named
in `device` (emulator/device/parts.py, with the derived quantities checked in check_device), the
checks of the runtime (emulator/runtime/state.py), of the engine wrapper (emulator/engine/core.py)
and of the C engine (CHIPEMU_LIMIT_<NAME>_MIN / _MAX in chipemu.h, used by csrc/engine/engine.c),
and the intrinsics' argument bounds (count, peers). A value at a bound is accepted by all of them,
one past it rejected by all of them with a ConfigError (or a kernel error) naming the field.

The energy and power rows keep plausible runs inside the engine's int64 femtojoules (9.2 kJ per
run): with every action at most 1 nJ (10^6 fJ) a run of 9.2 x 10^12 MACs or bits still fits, and
static power at most 10 kW fits 0.92 s of device time. Runs beyond that are refused by the engine's
checked arithmetic (CapacityError, never a wrapped figure). A `scale` row's Device field is a float
in units of 10^-scale of the C field (pJ -> fJ: 3, W -> uW: 6); the C value is `fixed(v, scale)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from chipemu.emulator.tables.formats import DIMC_MIN_ELEM_BITS

__all__ = ["Limit", "LIMITS", "LIMIT", "TOO_LARGE", "fixed"]

# what chipemu_engine_error.field names when a log error has code CHIPEMU_EE_TOO_LARGE
# (CHIPEMU_TOO_LARGE_<NAME> in chipemu.h): the quantity beyond the engine's range
TOO_LARGE = ("events", "edges", "cycles", "energy")


def fixed(x: float, scale: int) -> int:
    """x * 10**scale as an integer, round half to even on x's shortest decimal form (0.0125 -> 12
    at scale 3): how Device.engine_params turns pJ into fJ and W into uW."""
    return int(Decimal(repr(float(x))).scaleb(scale).to_integral_value(rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class Limit:
    name: str              # chipemu_device_params field, or a derived quantity (see `of`)
    lowest: int | float
    highest: int | float
    why: str
    device: str = ""       # the Device field it bounds (dotted path; a table: each of its values)
    of: str = ""           # for a derived quantity: how it is computed from the params
    scale: int | None = None   # None: an int field; else the Device float x 10**scale is the C value

    def ok(self, value) -> bool:
        return self.lowest <= value <= self.highest

    def allowed(self) -> str:
        """What is allowed, for error messages: '1 <= dimc_engines <= 255 (the event's ...)'."""
        return f"{self.lowest} <= {self.name} <= {self.highest} ({self.why})"

    def device_range(self) -> tuple:
        """(lowest, highest) in the Device field's unit: the C bounds / 10**scale (exact for the
        powers of ten used here, so a Device value is in range iff its C value is)."""
        if self.scale is None:
            return self.lowest, self.highest
        return self.lowest / 10**self.scale, self.highest / 10**self.scale


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
    Limit("n_resources", 1, (1 << 31) - 2, "the engine numbers resources in int32",
          of="n_tiles x (dimc_engines + 6) + 2 x n_chiplets x (tile_rows x (tile_cols - 1) + "
             "tile_cols x (tile_rows - 1)) + 2 x n_links + n_chiplets x dram_channels + 1"),
    Limit("memory_regions", 1, 1 << 27, "the engine's hazard walk keeps a table entry per tile "
          "SRAM, DIMC slot and DRAM channel", of="n_tiles x (1 + dimc_slots) + n_chiplets x "
          "dram_channels"),
    Limit("buffer_bytes", 1, (1 << 32) - 1, "a range's off and len are the event's uint32 fields",
          of="bytes of one buffer (Machine.alloc_*)"),
    Limit("count", 1, (1 << 31) - 1, "element, byte and vector counts of an intrinsic stay in "
          "int32, so every derived length fits the event's uint32 fields",
          of="count arguments of the intrinsics (n, nbytes, nvec, rows_a x rows_b x row_len)"),
    Limit("peers", 1, 65535, "the event's peer_count is uint16",
          of="tiles named by one send or barrier"),
)

_ACTION = ("at most 1 nJ per action (real: 0.01-100 pJ), so 9.2 x 10^12 actions fit the engine's "
           "int64 femtojoules")
_STATIC = "at most 10 kW (a card draws ~1 kW); 10 kW for 0.92 s fills the engine's int64 femtojoules"


def _energy(name, device, scale, highest=10**6, why=_ACTION, of=""):
    return Limit(name, 0, highest, why, device, of, scale)


LIMITS += (
    Limit("clock_ghz", 0.001, 1000.0, "a chosen range around real clocks (1 MHz to 1 THz); static "
          "energy is power x cycles / clock", "clock_ghz", scale=0),
    Limit("vec_cycles", 1, 65535, "a chosen bound (real: 1-10 cycles per batch); it keeps one "
          "vector op's time below 2^48 cycles", "tile.vector.cycles"),
    Limit("sram_capacity_bytes", 1, (1 << 63) - 1, "buffers need at least one byte",
          of="tile.sram.capacity_bytes, less the DIMC cells when tile.dimc.counts_in_sram"),
    _energy("fj_mac", "tile.dimc.fj_per_mac", 0, of="fJ per 8b x 8b MAC, per act format"),
    _energy("fj_overhead_per_mac", "power.overhead_fj_per_mac", 0),
    _energy("fj_dimc_row_write", "tile.dimc.write_pj_per_row", 3, 10**9,
            "at most 1 uJ per row written (real: ~10-1000 pJ)"),
    _energy("fj_sram_read_bit", "tile.sram.read_pj_per_bit", 3),
    _energy("fj_sram_write_bit", "tile.sram.write_pj_per_bit", 3),
    _energy("fj_noc_bit_hop", "chiplet.noc.pj_per_bit_hop", 3),
    _energy("fj_dram_bit", "chiplet.dram.pj_per_bit", 3),
    _energy("fj_host_bit", "host.pj_per_bit", 3),
    _energy("fj_vec_op", "tile.vector.pj_per_element", 3, of="fJ per element, per vector op kind"),
    _energy("fj_link_bit", "chiplets.link.pj_per_bit", 3,
            of="links[i].fj_per_bit (chiplets.link.pj_per_bit, chiplets.links.<i>.pj_per_bit)"),
    _energy("static_uw_tile", "power.static_tile_w", 6, 10**10, _STATIC),
    _energy("static_uw_chiplet", "power.static_chiplet_w", 6, 10**10, _STATIC),
    _energy("static_uw_card", "power.static_card_w", 6, 10**10, _STATIC),
    _energy("static_uw", "", 6, 10**10, _STATIC, of="static_uw_tile x n_tiles + static_uw_chiplet "
            "x n_chiplets + static_uw_card (Device.static_w in uW)"),
)
LIMIT = {lim.name: lim for lim in LIMITS}
