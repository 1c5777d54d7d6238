"""The matmul plan: shapes and a device in, a plan out. The rules are defined once, in C
(csrc/kernels/matmul/plan.c, chipemu_matmul_plan_region: C hosts plan with the same code); this
module checks the arguments, resolves the region, calls it and derives the positions.

    plan = plan_matmul(2048, 2048, 2048, "mxint8", "mxint8", Device.preset("corsair"))
    plan = plan_matmul(64, 512, 512, "mxint8", "mxint8", dev, region=Region([1], range(32), (2, 6)))

The planner works in a region (kernels/region.py; default: the whole device): "chiplets" and
"tiles" below are the region's, numbered by position (chiplet c of the plan is the region's c-th
chiplet, position i on it the region's i-th tile; `tile_of` gives the global id), and "slots"
are the region's slots [s0, s1): block slot i is DIMC slot s0 + i. The whole region gives the
plan of a device without regions, field for field.

The rules (docs/matmul.md explains them with figures):

- **Blocks.** Weights are cut into DIMC blocks of R rows (K) x C columns (N): R = array rows,
  C = the array's columns in the weight format. K and N are zero-padded to whole blocks; padding
  is computed and counted like any other cell.
- **Chiplets.** N-blocks are split over the chiplets in contiguous ranges, so partial sums never
  cross a D2D link; each chiplet used holds its own copy of the activations (placed in the load
  phase, as after an all-gather of the previous layer's output).
- **Groups.** On a chiplet each N-block gets a group of g consecutive tiles; member i holds the
  K-blocks [i*kpt, (i+1)*kpt). g minimises an estimate of the run (MVM cycles per row against
  the reduction's packets per row, plus latencies and weight passes); ties take the smaller g.
  With more N-blocks than tiles, g = 1 and a tile owns several block columns. When a tile's
  blocks exceed its DIMC slots (weights beyond the DIMC capacity), they stay in its SRAM and
  are written into the slots in passes, for every chunk (the extra loads are counted).
- **Replicas.** When a chiplet's groups leave tiles idle, up to MAX_REPLICAS copies of the
  chiplet's weights sit side by side (`span` tiles each) and chunk c runs on replica c mod
  replicas: more DIMC engines for the same matmul, at the price of more one-time weight loads
  (chosen only where the estimate drops by more than a quarter).
- **Chunks and pieces.** M is cut into chunks of mc rows. The activations of a K-block for a
  chunk are cut into `parts` runs of rows ("pieces"); the tiles that share a K-run (one per
  N-block: the K-group) hold the pieces in SRAM and multicast each to the whole K-group one
  superstep before the MVMs that read it (double-buffered).
- **Reduction.** Inside a member, y = block(first) then y = y + block(next) along its K-run
  (dimc_mvm accumulate). Over the group, a binary tree rooted at member c mod g (outputs spread
  over the group): at level l the member at relative position q (q mod 2^(l+1) = 2^l) sends its
  sum to q - 2^l, which computes acc = acc + received one superstep later. `tree(c)` lists it;
  the NumPy reference (kernels/matmul/ref.py) replays it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from chipemu.emulator.engine.core import params_struct_of
from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.emulator.numerics.formats import get_format
from chipemu.kernels.region import resolve_region

__all__ = ["MatmulPlan", "plan_matmul", "ALIGN", "MAX_REPLICAS"]

ALIGN = 64                      # the runtime's SRAM allocator alignment (bytes)
MAX_REPLICAS = 8                # weight copies per chiplet (bounds the load and the memory)


@dataclass(frozen=True)
class MatmulPlan:
    """Where every block, activation row and partial sum of one [m, k] x [k, n] matmul goes.

    Tiles are global ids, from (chiplet, position) in the region by `tile_of`. Group of N-block
    `nb` (g > 1): `group_tiles(nb)`, positions p0 .. p0 + g - 1 of its chiplet (member i holds
    K-run i). Owner of N-block `nb` (g == 1): tile `group_base(nb)`.
    """
    m: int
    k: int
    n: int
    fmt: str                    # activations' DIMC format
    weight_fmt: str
    rows: int                   # R: K rows per block
    cols: int                   # C: N columns per block
    kb: int                     # K-blocks
    nb: int                     # N-blocks
    g: int                      # tiles per N-block
    kpt: int                    # K-blocks per member (g == 1: kb)
    nb_per_tile: int            # max N-blocks per tile (1 when g > 1)
    chiplets_used: int
    nb_start: tuple             # first N-block of each chiplet used
    nb_count: tuple             # N-blocks of each chiplet used
    tiles_per_chiplet: int      # tiles of the region on each of its chiplets
    replicas: int               # copies of the weights on each chiplet; chunk c runs on c mod it
    span: int                   # tiles of one replica on a chiplet
    kgroup: int                 # tiles sharing a K-run that hold pieces (same on every chiplet)
    mc: int                     # rows per chunk
    chunks: int
    parts: int                  # row runs per K-block and chunk
    pieces_per_tile: int        # max pieces one tile holds per chunk
    piece_rows: int             # max rows of one piece
    levels: int                 # reduction tree levels, ceil(log2 g)
    slots: int                  # DIMC slots of the region per tile (s1 - s0)
    blocks_per_tile: int
    passes: int                 # 1: weights stationary (loaded once); > 1: streamed per chunk
    row_bytes: int              # one activation row of R elements, rows layout
    block_bytes: int            # one weight block, weights layout
    sram: dict                  # buffer name -> bytes per tile (64-byte multiples)
    sram_capacity_bytes: int
    chiplet_ids: tuple          # the region's chiplets (global ids, ascending)
    tile_ids: tuple             # the region's local tile ids on each chiplet (ascending)
    slot_base: int              # the region's first slot s0: block slot i is DIMC slot s0 + i
    device_tiles_per_chiplet: int

    # ---- the region ----
    def tile_of(self, chiplet: int, pos: int) -> int:
        """Global id of the tile at position `pos` of the plan's chiplet `chiplet`."""
        return self.chiplet_ids[chiplet] * self.device_tiles_per_chiplet + self.tile_ids[pos]

    def positions(self) -> dict:
        """{global tile id: (chiplet, position)} over the region's tiles on the chiplets used."""
        return {self.tile_of(c, i): (c, i) for c in range(self.chiplets_used)
                for i in range(self.tiles_per_chiplet)}

    # ---- placement ----
    def chiplet_of_nb(self, nb: int) -> int:
        for c in range(self.chiplets_used):
            if nb < self.nb_start[c] + self.nb_count[c]:
                return c
        raise ShapeError(f"N-block {nb} out of range 0..{self.nb - 1}")

    def _group_pos(self, nb: int, replica: int) -> tuple[int, int]:
        c = self.chiplet_of_nb(nb)
        local = nb - self.nb_start[c]
        return c, replica * self.span + (local % self.tiles_per_chiplet if self.g == 1
                                         else local * self.g)

    def group_base(self, nb: int, replica: int = 0) -> int:
        """The owner of N-block `nb` (g == 1), or its group's member 0."""
        return self.tile_of(*self._group_pos(nb, replica))

    def group_tiles(self, nb: int, replica: int = 0) -> list[int]:
        """The tiles of N-block `nb`'s group in `replica`, member by member."""
        c, pos = self._group_pos(nb, replica)
        return [self.tile_of(c, pos + i) for i in range(self.g)]

    def tile_nbs(self, chiplet: int, slot: int) -> list[int]:
        """N-blocks owned by the tile at position `slot` of `chiplet` (g == 1)."""
        return [self.nb_start[chiplet] + i for i in range(slot, self.nb_count[chiplet],
                                                          self.tiles_per_chiplet)]

    def k_run(self, member: int) -> range:
        return range(member * self.kpt, min((member + 1) * self.kpt, self.kb))

    def kgroup_tiles(self, chiplet: int, member: int, replica: int = 0) -> list[int]:
        """Tiles of `chiplet` that hold K-run `member` (one per N-block or owner) in `replica`,
        ascending."""
        base = replica * self.span
        cnt = self.nb_count[chiplet]
        if self.g == 1:
            cnt = min(cnt, self.tiles_per_chiplet)
            return [self.tile_of(chiplet, base + i) for i in range(cnt)]
        return [self.tile_of(chiplet, base + i * self.g + member) for i in range(cnt)]

    def holder(self, j: int, q: int) -> int:
        """Index in the K-group of the tile holding piece (K-block j of the run, part q)."""
        return (j * self.parts + q) % self.kgroup

    def pieces_of(self, idx: int, member: int) -> list[tuple[int, int]]:
        """(j, q) pieces held by K-group index idx of K-run `member`, in order."""
        nj = len(self.k_run(member))
        return [(j, q) for j in range(nj) for q in range(self.parts) if self.holder(j, q) == idx]

    # ---- chunks and the reduction ----
    def chunk_rows(self, c: int) -> tuple[int, int]:
        return c * self.mc, min(self.m, (c + 1) * self.mc)

    def part_rows(self, c: int, q: int) -> tuple[int, int]:
        """Rows [r0, r1) of part q of chunk c, relative to the chunk."""
        r0, r1 = self.chunk_rows(c)
        return (r1 - r0) * q // self.parts, (r1 - r0) * (q + 1) // self.parts

    @property
    def rounds(self) -> int:
        """Chunks per replica (round u runs chunks u*replicas ... on replicas 0, 1, ...)."""
        return -(-self.chunks // self.replicas)

    def replica_of(self, c: int) -> int:
        return c % self.replicas

    def round_of(self, c: int) -> int:
        return c // self.replicas

    def root(self, c: int) -> int:
        """Group member holding chunk c's output: round mod g."""
        return (c // self.replicas) % self.g

    def tree(self, c: int) -> list[list[tuple[int, int]]]:
        """Per level, (receiver, sender) members of chunk c's reduction: receiver += sender."""
        r, out = self.root(c), []
        for lvl in range(self.levels):
            step = 1 << lvl
            out.append([((q + r) % self.g, (q + step + r) % self.g)
                        for q in range(0, self.g, 2 * step) if q + step < self.g])
        return out

    @property
    def stages(self) -> int:
        """Supersteps one chunk's work spans after its multicast (MVMs, then one per level)."""
        return self.levels + 1

    @property
    def compute_supersteps(self) -> int:
        return self.rounds * self.stages + 1

    @property
    def tiles_used(self) -> int:
        per = [min(c, self.tiles_per_chiplet) if self.g == 1 else c * self.g
               for c in self.nb_count]
        return sum(per) * self.replicas

    def to_dict(self) -> dict:
        """Plain data for Result.plan, with the reduction order spelled out."""
        d = asdict(self)
        d.update(tiles_used=self.tiles_used, compute_supersteps=self.compute_supersteps,
                 rounds=self.rounds,
                 reduction=("inside a member: y = block(k0); y = y + block(k) along its K-run; "
                            "over a group, per chunk c: root member (c div replicas) mod g; "
                            "level l: relative "
                            "member q with q mod 2^(l+1) = 2^l sends to q - 2^l, which computes "
                            "acc = acc + received"))
        return d


_BUFFERS = ("w", "xhome", "x", "y", "acc", "recv")     # chipemu_matmul_plan.sram_bytes order
_FIELDS = ("rows", "cols", "kb", "nb", "g", "kpt", "nb_per_tile", "chiplets_used", "replicas",
           "span", "kgroup", "mc", "chunks", "parts", "pieces_per_tile", "piece_rows", "levels",
           "slots", "blocks_per_tile", "passes", "row_bytes", "block_bytes", "sram_capacity_bytes")
def plan_matmul(m: int, k: int, n: int, fmt: str, weight_fmt: str, device,
                region=None, max_replicas: int = MAX_REPLICAS,
                sram_bytes: int | None = None) -> MatmulPlan:
    """The plan of an [m, k] x [k, n] matmul on `device`, within `region` (a Region; None: the
    whole device). ShapeError for a dimension < 1; ConfigError for a region outside the device;
    CapacityError (with the numbers, and the region) when a tile's buffers cannot fit even one
    row per chunk, or the weights not even streamed. max_replicas: at most this many weight
    copies per chiplet (1..MAX_REPLICAS; a placement that must leave DIMC slots for other
    weights keeps it low). sram_bytes: the SRAM per tile its working buffers may take (None: a
    tile's buffer SRAM; less makes the row chunks smaller, e.g. beside other placed buffers)."""
    for name, v in (("m", m), ("k", k), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ShapeError(f"{name}={v!r}: every matmul dimension must be an integer >= 1")
    if isinstance(max_replicas, bool) or not isinstance(max_replicas, int) \
            or not 1 <= max_replicas <= MAX_REPLICAS:
        raise ShapeError(f"max_replicas={max_replicas!r}; allowed: an integer in 1.."
                         f"{MAX_REPLICAS}")
    if sram_bytes is not None and (isinstance(sram_bytes, bool) or not isinstance(sram_bytes, int)
                                   or sram_bytes < 1):
        raise ShapeError(f"sram_bytes={sram_bytes!r}; allowed: None or an integer >= 1")
    reg = resolve_region(region, device)
    where = "" if region is None or reg.is_whole(device) else f" (region: {reg.describe()})"
    fa, fw = get_format(fmt), get_format(weight_fmt)
    from chipemu.emulator.native import ffi, lib
    out = ffi.new("chipemu_matmul_plan *")
    status = lib.chipemu_matmul_plan_region(
        params_struct_of(device), m, k, n, fa.code, fw.code, len(reg.chiplets), len(reg.tiles),
        reg.n_slots, max_replicas, 0 if sram_bytes is None else sram_bytes, out)
    if status != lib.CHIPEMU_OK:
        text = ffi.string(lib.chipemu_last_error()).decode()
        raise (CapacityError if status == lib.CHIPEMU_ERR_CAPACITY else ShapeError)(text + where)
    f = {name: int(getattr(out, name)) for name in _FIELDS}
    used, nb = f["chiplets_used"], f["nb"]
    starts = [nb * c // used for c in range(used + 1)]
    sram = {name: int(out.sram_bytes[i]) for i, name in enumerate(_BUFFERS)
            if out.sram_bytes[i] or name in ("w", "xhome", "x", "y")}
    return MatmulPlan(
        m=m, k=k, n=n, fmt=fa.name, weight_fmt=fw.name,
        nb_start=tuple(starts[:used]), nb_count=tuple(starts[c + 1] - starts[c] for c in range(used)),
        tiles_per_chiplet=len(reg.tiles), sram=sram, chiplet_ids=reg.chiplets, tile_ids=reg.tiles,
        slot_base=reg.s0, device_tiles_per_chiplet=device.tiles_per_chiplet, **f)
