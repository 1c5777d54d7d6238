"""The attention planner: shapes, a mask's block pattern and a device in, a plan out.

    plan = plan_attention(1, 8, 8, 2048, 2048, 128, "mxint8", dev)

Rules (docs/attention.md):

- **Units.** One unit per (batch, KV head); its query rows are the G = hq / hkv query heads that
  share the KV head, stacked head by head (row = head_in_group * sq + position), so one MVM
  serves a whole GQA group.
- **Key blocks.** Keys are cut into blocks of Bk = R keys (the array's rows). Block j of a unit
  takes `d_splits` slots for K^T (D rows split in R-row parts, Bk of its columns) and `v_splits`
  slots for V (Bk rows, D split in C-column parts). A unit has `members` consecutive tiles;
  member m holds blocks m, m + members, ... (at most `blocks_per_tile`).
- **Replicas.** Idle tiles hold copies of the units (up to MAX_REPLICAS); chunks of query rows
  go to the replicas round by round, alternating direction (`zigzag`), so a causal mask loads
  every replica alike.
- **Region.** The planner works in a region (kernels/region.py; default the whole device):
  "tiles" are the region's, numbered by position (the k-th tile of the region, chiplet-major;
  `tile_of` gives the global id), and block slot i is DIMC slot `slot_base + i` of the region's
  slots [s0, s1). The whole region gives the plan of a device without regions, field for field.
- **Chunks.** Query rows are cut into chunks of `mq`. A chunk on a member walks its key blocks in
  order, skipping the blocks the mask removes entirely (they cost nothing), with an online softmax
  on the vector unit; partial results (m, l, O) of the members are merged by a binary tree rooted
  at member 0, which normalizes and keeps the output.
- **A KV cache homed in DRAM** (`kv_home="dram"`, plan_cache): each tile keeps its blocks' K^T
  and V slot images in DRAM and one block at a time in its first `d_splits + v_splits` slots,
  loaded before the block is used; a unit then spreads over ceil(the region's DRAM channels /
  units) members (at most its blocks) and positions run tile-major (`interleave`: position k
  on chiplet k mod P), so the streams use every chiplet's channels.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from chipemu.emulator.engine.core import params_struct_of
from chipemu.emulator.errors import CapacityError, FormatError, ShapeError
from chipemu.emulator.native import ffi, lib
from chipemu.emulator.numerics.formats import get_format
from chipemu.kernels.region import Region, resolve_region

__all__ = ["AttentionPlan", "plan_attention", "plan_cache", "default_kv_fmt", "merge_script",
           "zigzag", "MAX_REPLICAS"]

MAX_REPLICAS = 16                 # CHIPEMU_AT_MAX_REPLICAS


_EIGHT_BIT = {"mxint4": "mxint8", "bfp12": "bfp16"}


def default_kv_fmt(fmt: str) -> str:
    """K/V arrays must be square (keys as rows of V and columns of K^T): 4-bit formats keep
    their K/V in the 8-bit sibling (mxint4 -> mxint8, bfp12 -> bfp16)."""
    return _EIGHT_BIT.get(fmt, fmt)


def zigzag(c: int, replicas: int) -> tuple[int, int]:
    """(replica, round) of chunk c: rounds alternate direction (0..R-1, then R-1..0), so under a
    causal mask every replica gets early and late rows alike."""
    u, i = divmod(c, replicas)
    return (i if u % 2 == 0 else replicas - 1 - i), u


@dataclass(frozen=True, eq=False)
class AttentionPlan:
    """Where every key block, query chunk and partial softmax of one attention call goes.
    `status[u, c, j]`: 0 = block j skipped for chunk c of unit u (fully masked), 1 = computed,
    2 = computed with a mask bias (partly masked; padding keys included)."""
    path: str                   # "dimc": Q.K^T and P.V in the arrays; "vector": on the vector unit
    b: int
    hq: int
    hkv: int
    sq: int
    skv: int
    d: int
    fmt: str                    # q and P (the MVM inputs)
    kv_fmt: str                 # K^T and V in the arrays
    rows: int                   # R
    cols: int                   # C (array columns in fmt)
    bk: int                     # keys per block (= R)
    dp: int                     # D padded to R
    d_splits: int               # K^T slots per block (dp / R)
    v_splits: int               # V slots per block (ceil(dp / C))
    kb: int                     # key blocks per unit
    units: int                  # b * hkv
    group: int                  # query heads per unit (G)
    nq: int                     # query rows per unit (G * sq)
    members: int                # tiles per unit
    blocks_per_tile: int
    replicas: int
    span: int                   # tiles of one replica (units * members)
    mq: int                     # query rows per chunk
    chunks: int
    levels: int                 # merge-tree levels
    q_row_bytes: int            # one query row part of R elements, rows layout
    p_row_bytes: int            # one probability row of Bk elements, rows layout
    slot_bytes: int             # one K^T or V slot, weights layout (R rows x C columns)
    n_bias: int                 # max distinct bias blocks one tile holds
    sram: dict
    status: object              # uint8 [units, chunks, kb]
    slots: int                  # DIMC slots of the region per tile (s1 - s0)
    slot_base: int              # the region's first slot s0: block slot i is DIMC slot s0 + i
    chiplet_ids: tuple          # the region's chiplets (global ids, ascending)
    tile_ids: tuple             # the region's local tile ids on each chiplet (ascending)
    device_tiles_per_chiplet: int
    kv_home: str = "dimc"       # "dimc": K/V stay in the slots; "dram": streamed block by block

    @property
    def interleave(self) -> bool:
        """Positions run tile-major (position k on chiplet k mod P): a DRAM home's streams."""
        return self.kv_home == "dram"

    def tile_of(self, unit: int, member: int, replica: int = 0) -> int:
        """Global id of the tile at position replica * span + unit * members + member of the
        region (its tiles chiplet-major: the device's own ids for the whole device; tile-major
        when `interleave`)."""
        pos, n = replica * self.span + unit * self.members + member, len(self.tile_ids)
        if self.interleave:
            c, t = pos % len(self.chiplet_ids), pos // len(self.chiplet_ids)
        else:
            c, t = pos // n, pos % n
        return self.chiplet_ids[c] * self.device_tiles_per_chiplet + self.tile_ids[t]

    def slots_held(self, member: int) -> int:
        """DIMC slots a tile of member `member` holds from slot_base: all its blocks', or one
        block's when the keys are homed in DRAM."""
        n = len(self.k_run(member))
        return (self.d_splits + self.v_splits) * (min(n, 1) if self.kv_home == "dram" else n)

    def region(self):
        """The Region the plan was made in."""
        return Region(self.chiplet_ids, self.tile_ids,
                      (self.slot_base, self.slot_base + self.slots))

    def k_run(self, member: int) -> range:
        """Key blocks of member `member`: every members-th block, so each member holds an even
        share of any prefix of the keys (a causal mask then loads the members alike)."""
        return range(member, self.kb, self.members)

    def chunk_rows(self, c: int) -> tuple[int, int]:
        return c * self.mq, min(self.nq, (c + 1) * self.mq)

    @property
    def rounds(self) -> int:
        return -(-self.chunks // self.replicas)

    def replica_of(self, c: int) -> int:
        return zigzag(c, self.replicas)[0]

    def chunk_of(self, rnd: int, replica: int) -> int:
        """The chunk replica `replica` runs in round `rnd` (may be >= chunks: nothing)."""
        return rnd * self.replicas + (replica if rnd % 2 == 0 else self.replicas - 1 - replica)

    @property
    def stages(self) -> int:
        return self.levels + 1

    def tree(self) -> list[list[tuple[int, int]]]:
        """Per level, (receiver, sender) members: the receiver merges the sender's (m, l, O)."""
        return [[(q, q + (1 << lv)) for q in range(0, self.members, 2 << lv)
                 if q + (1 << lv) < self.members] for lv in range(self.levels)]

    def to_dict(self) -> dict:
        d = asdict(self)
        st = d.pop("status")
        d.update(rounds=self.rounds, tiles_used=self.span * self.replicas,
                 blocks_skipped=int((st == 0).sum()), blocks_partial=int((st == 2).sum()),
                 blocks_full=int((st == 1).sum()), qk_on=self.path, pv_on=self.path,
                 merge=("members merge (m, l, O) by a binary tree rooted at member 0: at "
                        "level l member q with q mod 2^(l+1) = 0 merges member q + 2^l"))
        return d


def merge_script(live: list[bool]) -> tuple[list[list[tuple[int, int, str]]], bool]:
    """The merge of one chunk given which members computed anything: per level, (receiver,
    sender, "merge" | "take"); a member with nothing sends nothing, a receiver with nothing takes
    the sender's partial as its own. Second item: whether the root has anything to normalize."""
    live, n, out, lv = list(live), len(live), [], 0
    while (1 << lv) < n:
        step, acts = 1 << lv, []
        for q in range(0, n, 2 * step):
            if q + step < n and live[q + step]:
                acts.append((q, q + step, "merge" if live[q] else "take"))
                live[q] = True
        out.append(acts)
        lv += 1
    return out, live[0] if n else False


_BUFFERS = ("w", "q", "s", "p", "part", "vec", "recv", "y", "bias", "const")
_FIELDS = ("b", "hq", "hkv", "sq", "skv", "d", "rows", "cols", "bk", "dp", "d_splits", "v_splits",
           "kb", "units", "group", "nq", "members", "blocks_per_tile", "replicas", "span", "mq",
           "chunks", "levels", "q_row_bytes", "p_row_bytes", "slot_bytes", "n_bias", "slots")


class _MaskRule:
    """mask_info behind the C planner's bias callback: its answers kept by arguments (the
    status of the chosen chunk size is the plan's), an exception kept to raise after the call."""

    def __init__(self, mask_info):
        self.mask_info, self.seen, self.error = mask_info, {}, None

    def __call__(self, mq, members, bpt, replicas):
        key = (mq, members, bpt, replicas)
        if key not in self.seen:
            self.seen[key] = self.mask_info(*key)
        return self.seen[key]


@ffi.def_extern(onerror=lambda exc, value, tb: None)
def chipemu_py_attention_bias(ctx, mq, members, bpt, replicas):
    rule = ffi.from_handle(ctx)
    try:
        return int(rule(mq, members, bpt, replicas)[1])
    except Exception as exc:          # raised again once the planner returns
        rule.error = exc
        return -1


def plan_attention(b, hq, hkv, sq, skv, d, fmt, device, mask_info=None, mq=None,
                   kv_fmt=None, max_replicas=MAX_REPLICAS, force_path=None,
                   region=None, kv_home="dimc") -> AttentionPlan:
    """The plan. mask_info(mq, members, blocks_per_tile, replicas) -> (status uint8 [units,
    chunks, kb], n_bias) describes the mask at a chunk size; None: nothing masked but padding.
    region: a Region (kernels/region.py) the plan is confined to; None: the whole device.
    kv_home: "dimc" (K/V written into the slots once) or "dram" (a KV cache's K/V slot images
    in DRAM, a block at a time in the slots; one replica). The rules are C's
    (csrc/kernels/attention/plan.c), called here with mask_info as the bias rule."""
    for name, v in (("batch", b), ("heads", hq), ("kv_heads", hkv), ("seq", sq),
                    ("kv_len", skv), ("head_dim", d)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ShapeError(f"{name}={v!r} must be an integer >= 1")
    reg = resolve_region(region, device)
    where = "" if region is None or reg.is_whole(device) else f" (region: {reg.describe()})"
    f = get_format(fmt)
    kf = get_format(kv_fmt or fmt)
    rule = None if mask_info is None else _MaskRule(mask_info)
    out = ffi.new("chipemu_attention_plan *")
    status = lib.chipemu_attention_plan_region(
        params_struct_of(device), [b, hq, hkv, sq, skv, d], f.code, kf.code, 0 if mq is None else mq,
        max_replicas, {None: -1, "dimc": 0, "vector": 1}[force_path], int(kv_home == "dram"),
        len(reg.chiplets), len(reg.tiles), reg.n_slots,
        ffi.NULL if rule is None else lib.chipemu_py_attention_bias,
        ffi.NULL if rule is None else (handle := ffi.new_handle(rule)), out)
    if rule is not None and rule.error is not None:
        raise rule.error
    if status != lib.CHIPEMU_OK:
        text = ffi.string(lib.chipemu_last_error()).decode()
        if where:       # C names the whole of what it was given; Python knows it is a region
            text = text.replace(", the device has ", ", the region has ")
        if status == lib.CHIPEMU_ERR_CAPACITY:
            raise CapacityError(text + where)
        raise (FormatError if status == lib.CHIPEMU_ERR_UNSUPPORTED else ShapeError)(text)
    v = {name: int(getattr(out, name)) for name in _FIELDS}
    units, chunks, kb = v["units"], v["chunks"], v["kb"]
    if rule is None:
        st = np.ones((units, chunks, kb), np.uint8)
        st[:, :, -1] = 1 if skv % v["bk"] == 0 else 2
    else:
        st = rule(v["mq"], v["members"], v["blocks_per_tile"], v["replicas"])[0]
    return AttentionPlan(
        path=("dimc", "vector")[out.path], fmt=f.name, kv_fmt=kf.name, status=st,
        sram={name: int(out.sram_bytes[i]) for i, name in enumerate(_BUFFERS)},
        slot_base=reg.s0, chiplet_ids=reg.chiplets, tile_ids=reg.tiles,
        device_tiles_per_chiplet=device.tiles_per_chiplet, kv_home=kv_home, **v)


def plan_cache(b, hq, hkv, d, max_len, max_new, fmt, kv_fmt, device, region=None,
               status=None, kv_home="dimc") -> AttentionPlan:
    """The plan of a KV cache (kernels/attention/cache.py): max_len keys, up to max_new query
    tokens per step, one copy of the keys (no replicas), room for 2 ceil(max_new / R) + 2 bias
    blocks per tile. status(mq, members, blocks_per_tile, replicas) -> uint8 [units, chunks, kb]
    (the mask_info of plan_attention without n_bias); None: every block computed, the cache's
    layout only (its tiles, slots and buffers do not depend on it): cheap, for a region search."""
    bk = device.tile.dimc.rows
    n_bias = 2 * -(-max_new // bk) + 2
    units, kb, nq = b * hkv, -(-max_len // bk), (hq // hkv) * max_new

    def info(mq, members, bpt, reps):
        if status is None:
            return np.ones((units, -(-nq // mq), kb), np.uint8), n_bias
        return status(mq, members, bpt, reps), n_bias
    return plan_attention(b, hq, hkv, max_new, max_len, d, fmt, device, kv_fmt=kv_fmt,
                          max_replicas=1, mask_info=info, region=region, kv_home=kv_home)
