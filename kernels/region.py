"""A region of the device that a kernel's planner works in (docs/DESIGN.md §7a).

    whole = Region.whole(dev)                                   # every chiplet, tile and slot
    half = Region(chiplets=[1], tiles=range(32), slots=(2, 6))  # chiplet 1, tiles 0..31, slots 2..5
    quad = Region.rect(dev, rows=(0, 2), cols=(0, 2))           # a 2 x 2 corner of every chiplet

A region is a set of chiplets x a set of local tile ids (the same on each of its chiplets) x a
DIMC slot range [s0, s1). A planner given a region places work only on its tiles (global id =
chiplet * tiles_per_chiplet + local id) and weights only in its slots; the whole region gives
exactly the plans of a planner without one. Chiplet and tile ids are kept sorted, so the k-th
tile of a region is the same whatever order they were listed in.
"""
from __future__ import annotations

from dataclasses import dataclass

from chipemu.emulator import args
from chipemu.emulator.errors import ConfigError

__all__ = ["Region", "resolve_region", "col_range", "split_cols", "ALIGN", "sram_need",
           "split_cols_fitting", "rows_that_fit"]

ALIGN = 64          # the runtime's SRAM allocator aligns every buffer to 64 bytes


def _ids(name: str, value) -> tuple:
    """A non-empty, duplicate-free, sorted tuple of ints >= 0 from an int, range or sequence."""
    # a lone id (or a string, a float) is checked as the one element of a list
    items = [value] if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") \
        else list(value)
    ids = [args.integer(f"region {name}[{i}]", v, 0) for i, v in enumerate(items)]
    if not ids:
        raise ConfigError(f"region {name}={args.show(value)} is empty; allowed: at least one id")
    if len(set(ids)) != len(ids):
        twice = sorted({v for v in ids if ids.count(v) > 1})
        raise ConfigError(f"region {name}={args.show(value)} lists {twice} more than once; "
                          f"allowed: distinct ids")
    return tuple(sorted(ids))


def _span(ids: tuple) -> str:
    """'0..31' for a run of consecutive ids, else the list."""
    if ids == tuple(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}..{ids[-1]}" if len(ids) > 1 else f"{ids[0]}"
    if len(ids) <= 8:
        return str(list(ids))
    return f"[{', '.join(map(str, ids[:4]))}, ... {ids[-1]}] ({len(ids)})"


@dataclass(frozen=True)
class Region:
    """Chiplets (global ids) x tiles (local ids on each chiplet) x DIMC slots [s0, s1)."""
    chiplets: tuple
    tiles: tuple
    slots: tuple                # (s0, s1): slots s0 .. s1 - 1

    def __post_init__(self):
        chips, tiles = _ids("chiplets", self.chiplets), _ids("tiles", self.tiles)
        s = self.slots
        if isinstance(s, range) and s.step == 1:
            s = (s.start, s.stop)
        if isinstance(s, (str, bytes)) or not hasattr(s, "__len__") or len(s) != 2:
            raise ConfigError(f"region slots={args.show(self.slots)}; allowed: (s0, s1), the "
                              f"DIMC slots s0 .. s1 - 1 with 0 <= s0 < s1")
        s0 = args.integer("region slots[0] (s0)", s[0], 0)
        s1 = args.integer("region slots[1] (s1)", s[1], s0 + 1, why=f"s1 > s0 = {s0}")
        object.__setattr__(self, "chiplets", chips)
        object.__setattr__(self, "tiles", tiles)
        object.__setattr__(self, "slots", (s0, s1))

    # ---- constructors ----
    @classmethod
    def span(cls, c0: int, c1: int, t0: int, t1: int, s0: int, s1: int) -> "Region":
        """Chiplets [c0, c1) x tiles [t0, t1) x slots [s0, s1) from the placement searches:
        ranges they built themselves, so the per-id checks are skipped (they dominated a
        search's time); 0 <= c0 < c1, 0 <= t0 < t1 and 0 <= s0 < s1 are the caller's."""
        r = object.__new__(cls)
        object.__setattr__(r, "chiplets", tuple(range(c0, c1)))
        object.__setattr__(r, "tiles", tuple(range(t0, t1)))
        object.__setattr__(r, "slots", (int(s0), int(s1)))
        return r

    @classmethod
    def whole(cls, device) -> "Region":
        """Every chiplet, tile and DIMC slot of `device`."""
        return cls.span(0, device.n_chiplets, 0, device.tiles_per_chiplet, 0,
                        device.tile.dimc.weight_slots)

    @classmethod
    def rect(cls, device, rows, cols, chiplets=None, slots=None) -> "Region":
        """The tiles of mesh rows [r0, r1) x columns [c0, c1) on each of `chiplets` (default:
        all), slots (s0, s1) (default: all)."""
        chip = device.chiplet
        r0, r1 = _pair("rows", rows, chip.tile_rows)
        c0, c1 = _pair("cols", cols, chip.tile_cols)
        return cls(range(device.n_chiplets) if chiplets is None else chiplets,
                   [r * chip.tile_cols + c for r in range(r0, r1) for c in range(c0, c1)],
                   (0, device.tile.dimc.weight_slots) if slots is None else slots)

    # ---- figures ----
    @property
    def s0(self) -> int:
        return self.slots[0]

    @property
    def n_slots(self) -> int:
        return self.slots[1] - self.slots[0]

    @property
    def n_tiles(self) -> int:
        return len(self.chiplets) * len(self.tiles)

    def check(self, device) -> "Region":
        """self, or ConfigError naming the field, its value and the device's range."""
        P, T, S = device.n_chiplets, device.tiles_per_chiplet, device.tile.dimc.weight_slots
        name = device.name
        for field, ids, n in (("chiplets", self.chiplets, P), ("tiles", self.tiles, T)):
            if ids[-1] >= n:
                raise ConfigError(f"region {field}={_span(ids)} includes {ids[-1]}; allowed on "
                                  f"device {name!r}: ids in 0..{n - 1}")
        if self.slots[1] > S:
            raise ConfigError(f"region slots=[{self.slots[0]}, {self.slots[1]}) ends past the "
                              f"DIMC; allowed on device {name!r}: 0 <= s0 < s1 <= {S}")
        return self

    def is_whole(self, device) -> bool:
        return self == Region.whole(device)

    def tile_ids(self, device) -> list[int]:
        """The region's global tile ids, ascending."""
        T = device.tiles_per_chiplet
        return [c * T + t for c in self.chiplets for t in self.tiles]

    def describe(self) -> str:
        """'chiplets 1, tiles 0..31, slots 2..5' (for error messages)."""
        return (f"chiplets {_span(self.chiplets)}, tiles {_span(self.tiles)}, "
                f"slots {self.slots[0]}..{self.slots[1] - 1}")


def _pair(name, value, n):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(f"region {name}={args.show(value)}; allowed: (first, end) with "
                          f"0 <= first < end <= {n}")
    a = args.integer(f"region {name}[0]", value[0], 0, n - 1)
    return a, args.integer(f"region {name}[1]", value[1], a + 1, n)


def resolve_region(region, device) -> Region:
    """The region a planner works in: None is the whole device; anything but a Region, or a
    Region outside `device`, is a ConfigError."""
    if region is None:
        return Region.whole(device)
    if not isinstance(region, Region):
        raise ConfigError(f"region={args.show(region)} ({type(region).__name__}); allowed: None "
                          f"(the whole device) or a chipemu.kernels.region.Region")
    return region.check(device)


def col_range(total: int, block: int, tiles: int, t: int) -> tuple[int, int]:
    """(first column, number of columns) of tile t when `total` columns are cut into blocks of
    `block` (the last may be partial) and the blocks split over `tiles` tiles in contiguous,
    balanced runs (the first total_blocks mod tiles tiles take one more): the column
    distribution of the layer ops (rmsnorm, glu)."""
    blocks = -(-total // block)
    q, extra = divmod(blocks, tiles)
    b0 = t * q + min(t, extra)
    b1 = b0 + q + (1 if t < extra else 0)
    return b0 * block, min(b1 * block, total) - b0 * block


def split_cols(total: int, block: int, tiles_per_chiplet: int, n_chiplets: int, fits):
    """(tiles, widest) of a column split by col_range: the tiles of the fewest whole chiplets
    (at most one tile per block) whose widest member, tile 0, has `widest` columns with
    fits(tiles, widest) true; else the most tiles tried (the caller reports what does not fit)."""
    blocks = -(-total // block)
    for chiplets in range(1, n_chiplets + 1):
        tiles = min(chiplets * tiles_per_chiplet, blocks)
        widest = col_range(total, block, tiles, 0)[1]
        if fits(tiles, widest) or tiles == blocks:
            break
    return tiles, widest


def sram_need(buffers: dict) -> int:
    """Bytes of SRAM per tile that buffers ({name: bytes}) take, each rounded up to ALIGN."""
    return sum(-(-v // ALIGN) * ALIGN for v in buffers.values())


def split_cols_fitting(rows: int, total: int, device, buffers):
    """(tiles, widest, need): split_cols of `total` columns in blocks of the device's vector lanes
    over its chiplets, fitting when buffers(rows, widest, tiles) ({name: bytes}) fits a tile's
    device.sram_buffer_bytes; need = their sram_need at that split (more than the buffer bytes
    when no split fits: the caller's CapacityError, with rows_that_fit)."""
    tiles, widest = split_cols(total, device.tile.vector.lanes, device.tiles_per_chiplet,
                               device.n_chiplets, lambda t, w: sram_need(buffers(rows, w, t))
                               <= device.sram_buffer_bytes)
    return tiles, widest, sram_need(buffers(rows, widest, tiles))


def rows_that_fit(widest: int, tiles: int, device, buffers) -> int:
    """The most rows (0 if none) whose buffers(rows, widest, tiles) fit device.sram_buffer_bytes
    (the bytes grow with the rows): what a planner's CapacityError says fits in one call."""
    def fits(rows):
        return sram_need(buffers(rows, widest, tiles)) <= device.sram_buffer_bytes
    if not fits(1):
        return 0
    lo, hi = 1, 2                                         # fits(lo), then not fits(hi)
    while fits(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo
