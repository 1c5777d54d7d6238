"""Every id list shared by Python, Numba and C, declared once.

An `Ids` table is a C prefix, a heading and its rows (name, value, C comment, and for messages the
text Python prints). Names are lower case here; C spells them <prefix><NAME> (CHIPEMU_OP_SEND,
MSG_RANGE), Python <prefix without CHIPEMU_><NAME> (OP_SEND in intrinsics/core.py) or by name
(events.OPS["send"]). csrc/gen_tables.py writes the C #defines; docs/tables.md says what is
derived where.
"""
from __future__ import annotations

from dataclasses import dataclass

from chipemu.emulator.tables.formats import FORMATS

__all__ = ["Id", "Ids", "TABLES", "VERSIONS", "STATUS", "OPS", "VOPS", "FLAGS", "UNITS", "BUF_KINDS",
           "ENERGY", "RESOURCES", "NETWORKS", "MULTICAST", "PATHS", "ENGINE_ERRORS", "MODES", "DEV", "SC", "KERR", "IN",
           "BT", "MSG", "ARG", "intrinsic_names"]


@dataclass(frozen=True)
class Id:
    name: str
    value: int
    doc: str = ""        # the C comment
    text: str = ""       # what is printed: messages (fields in MESSAGES), status and error strings


@dataclass(frozen=True)
class Ids:
    """One id table: C prefix, heading, rows. `count` gives <prefix>COUNT: True for the largest
    value + 1, an int for that value, None for no count."""

    prefix: str
    title: str
    ids: tuple
    count: int | bool | None = True
    count_doc: str = ""

    @property
    def py_prefix(self) -> str:
        return self.prefix.removeprefix("CHIPEMU_")

    @property
    def count_value(self) -> int | None:
        if self.count is True:
            return max(i.value for i in self.ids) + 1
        return self.count

    def __getitem__(self, name: str) -> int:
        return self.mapping()[name]

    def mapping(self) -> dict:
        """{name: value} in declaration order."""
        return {i.name: i.value for i in self.ids}

    def names(self) -> tuple:
        """Names in value order (for tables numbered 0, 1, 2, ...: the name of each value)."""
        return tuple(i.name for i in sorted(self.ids, key=lambda i: i.value))

    def constants(self, cast=int) -> dict:
        """{PY_PREFIX + NAME: cast(value)} plus PY_PREFIX + COUNT where there is one."""
        out = {self.py_prefix + i.name.upper(): cast(i.value) for i in self.ids}
        if self.count_value is not None:
            out[self.py_prefix + "COUNT"] = cast(self.count_value)
        return out


def seq(start, *rows):
    """Ids numbered start, start+1, ...: each row is a name or a tuple (name, doc[, text])."""
    out = []
    for k, row in enumerate(rows):
        row = (row,) if isinstance(row, str) else row
        out.append(Id(row[0], start + k, *row[1:]))
    return tuple(out)


VERSIONS = Ids("CHIPEMU_", "versions", (
    Id("abi_version", 1, "chipemu_abi_version(): the C ABI"),
    Id("event_schema_version", 1, "chipemu_event and its meaning (docs/events.md)"),
    Id("engine_params_version", 2, "chipemu_device_params.version"),
    Id("runtime_version", 1, "chipemu_ctx, chipemu_superstep and the intrinsics"),
), count=None)

STATUS = Ids("CHIPEMU_", "status codes (chipemu_status_string gives the text)", seq(
    0, ("ok", "", "ok"),
    ("err_null", "a required pointer is NULL", "a required pointer is NULL"),
    ("err_size", "a size or range is negative or inconsistent",
     "a size or range is negative or inconsistent"),
    ("err_format", "unknown format code", "unknown format code"),
    ("err_unsupported", "valid format, but not for this operation",
     "format not supported by this operation"),
    ("err_kernel", "a tile kernel broke a rule; its scalars say which",
     "a tile kernel broke a hardware rule (see its error record)"),
) + seq(
    16, ("err_log", "malformed event log; out->error names event and problem",
         "malformed event log"),
    ("err_params", "invalid chipemu_device_params; out->error names the field",
     "invalid device parameters"),
    ("err_nomem", "out of memory", "out of memory"),
    ("err_name", "unknown name (a device preset); chipemu_last_error() says which",
     "unknown name"),
    ("err_capacity", "the work does not fit the device; chipemu_last_error() says why",
     "does not fit the device"),
), count=None)

# ---- the event log (docs/events.md) ----

OPS = Ids("CHIPEMU_OP_", "ops", seq(
    1, ("dimc_load", "write weight rows into a DIMC slot"),
    ("dimc_mvm", "y (+)= x . W on one DIMC engine"),
    ("vec", "vector-unit op, kind in c (CHIPEMU_VOP_*)"),
    ("send", "copy an SRAM range to the same range on peer tiles"),
    ("dram_read", "DRAM range -> SRAM range"),
    ("dram_write", "SRAM range -> DRAM range"),
    ("host_read", "host range -> SRAM range"),
    ("barrier", "wait for every tile of the peer group"),
), count_doc="op codes are 1..CHIPEMU_OP_COUNT-1")

VOPS = Ids("CHIPEMU_VOP_", "vector op kinds (event field c of CHIPEMU_OP_VEC)", seq(
    0, "copy", "add", "mul", "max", "exp", "reciprocal", "rsqrt", "row_sum", "row_max", "convert"))

FLAGS = Ids("CHIPEMU_FLAG_", "event flags", (
    Id("accumulate", 1, "DIMC_MVM: y += x.W (y is read too)"),
    Id("row_broadcast", 2, "VEC add/mul: src1 holds one value per row of b elements"),
    Id("dot", 4, "VEC mul kind: dst = src0 . src1^T over rows of b elements"),
    Id("argmax", 8, "VEC row_max kind: dst[c] = src1 at column c's first maximum of src0"),
    Id("weights", 16, "VEC convert kind: dst in the weights layout of fmt, b = its columns"),
), count=None)

UNITS = Ids("CHIPEMU_UNIT_", "units of a tile (event field unit: which instance of the op's unit "
            "class)", seq(
    0, ("dimc", "DIMC engines 0..mvm_engines-1: DIMC_MVM"),
    ("dimc_write", "the weight-write port: DIMC_LOAD"),
    ("vector", "VEC"),
    ("dma", "SEND, DRAM_READ, DRAM_WRITE, HOST_READ"),
    ("sync", "BARRIER"),
), count=None)

BUF_KINDS = Ids("CHIPEMU_BUF_", "buffer kinds", seq(
    0, ("sram", "the same byte range [base, base+size) of every tile's SRAM"),
    ("dram", "[base, base+size) of DRAM channel `where` (global channel)"),
    ("host", "host memory, read-only to the device"),
), count=None)

# ---- the timing and energy engine (docs/engine.md) ----

ENERGY = Ids("CHIPEMU_E_", "energy components (one bucket each in the breakdown)", seq(
    0, ("dimc", "MACs in the DIMC arrays"),
    ("dimc_write", "weight-row writes into DIMC arrays"),
    ("sram", "SRAM bits read and written"),
    ("vector", "vector-unit element ops"),
    ("noc", "NoC bit-hops"),
    ("d2d", "die-to-die link bits"),
    ("dram", "DRAM bits"),
    ("host", "host-link bits"),
    ("static", "static power x makespan"),
    ("overhead", "the labelled overhead term (an assumption; docs/engine.md)"),
))

RESOURCES = Ids("CHIPEMU_RES_", "resource classes (docs/engine.md lists how resources are numbered)",
                seq(
    0, ("dimc", "one per DIMC engine per tile"),
    ("dimc_write", "weight-write port, one per tile"),
    ("vector", "vector unit, one per tile"),
    ("dma", "DMA queue, one per tile"),
    ("sram", "SRAM port, one per tile"),
    ("inject", "NoC inject port, one per tile"),
    ("eject", "NoC eject port, one per tile"),
    ("noc_link", "directed NoC link between neighbouring tiles"),
    ("d2d", "directed die-to-die link"),
    ("dram", "DRAM channel"),
    ("host", "host link"),
))

NETWORKS = Ids("CHIPEMU_NET_", "network models (chipemu_device_params.network; docs/engine.md section 4)",
               seq(0, ("packet", "every packet hop by hop: the detailed reference"),
                   ("message", "each stream of a message as one unit, cut-through: cost per message")))

MULTICAST = Ids("CHIPEMU_MCAST_", "multicast in the NoC (chipemu_device_params.noc_multicast; "
                "docs/engine.md section 4)",
                seq(0, ("unicast", "one stream per destination, each on its own route"),
                    ("tree", "routers replicate along the XY routes to same-chiplet peers")))

# the resource classes plus barrier latency; C declares only the ids beyond CHIPEMU_RES_*
PATHS = Ids("CHIPEMU_CP_", "critical-path classes: the CHIPEMU_RES_* classes plus barrier latency",
            seq(RESOURCES.count_value, ("barrier", "")))

ENGINE_ERRORS = Ids("CHIPEMU_EE_", "chipemu_engine_error.code (texts: chipemu_engine_error_string). "
                    "`field` and `value` per code.", seq(
    0, ("none", "", "no error"),
    ("param", "field = byte offset of the member in chipemu_device_params",
     "device parameter out of range"),
    ("link", "field = byte offset of the member in chipemu_link; value = link",
     "die-to-die link parameter out of range"),
    ("too_large", "more events, tiles, resources or cycles than the engine indexes",
     "too large for the engine's index range"),
    ("op", "unknown op code", "unknown op code"),
    ("tile", "tile >= n_tiles", "tile out of range"),
    ("step", "superstep smaller than the previous record's",
     "superstep smaller than the previous record's"),
    ("peers", "peer slice outside the peers array, or empty where peers are needed",
     "peer slice outside the peers array or empty"),
    ("peer", "a peer >= n_tiles (field = its position in the slice)", "peer tile out of range"),
    ("buffer", "buffer id out of the table, or missing (field: 0 src0, 1 src1, 2 dst)",
     "buffer id out of the buffer table or missing"),
    ("buffer_kind", "buffer of the wrong kind for this range (value = its kind)",
     "buffer of the wrong kind for this range"),
    ("range", "range end (value) beyond its buffer's size (limit)",
     "range beyond the end of its buffer"),
    ("length", "message of 0 bytes, or a range length (value) != the op's bytes (limit)",
     "message length zero or different from the range length"),
    ("engine", "DIMC engine (unit) >= dimc_engines", "DIMC engine out of range"),
    ("slot", "DIMC slot >= dimc_slots", "DIMC slot out of range"),
    ("rows", "DIMC rows end (value) > dimc_rows", "DIMC rows beyond the array"),
    ("format", "format code out of range (field: 0 fmt, 1 fmt2)", "format code out of range"),
    ("vop", "unknown vector op kind", "unknown vector op kind"),
    ("buffer_table", "buffer `field` of the table: unknown kind, DRAM channel or SRAM end out of "
                     "range", 'buffer table entry invalid for this device'),
    ("barrier_group", "barrier group not strictly ascending, or without the issuing tile",
     "barrier group not strictly ascending or without the issuing tile"),
    ("barrier_match", "group member `value` has no matching k-th barrier with this group",
     "a member of the barrier group has no matching barrier"),
    ("no_route", "no D2D path from chiplet `field` to chiplet `value`",
     "no die-to-die route between the chiplets"),
    ("cycle", "hazards, unit order and barriers form a cycle: this event never completes",
     "hazards, unit order and barriers form a cycle (deadlock)"),
))

# ---- the tile runtime and intrinsics (docs/intrinsics.md) ----

MODES = Ids("CHIPEMU_MODE_", "run modes (dev[CHIPEMU_DEV_MODE])", seq(
    0, ("functional", "data and math"),
    ("timing", "shape-only buffers: the same events, no data"),
), count=None)

DEV = Ids("CHIPEMU_DEV_", "device constants of a launch: dev[CHIPEMU_DEV_*]", seq(
    0, "n_tiles",
    ("rows", "DIMC array rows (the K a slot holds)"),
    ("cols", "DIMC array columns of cells"),
    ("cell_bits", "bits per cell: cell_bits / elem_bits weights per cell"),
    "slots", "engines",
    ("cols_max", "columns of the DIMC state: cols_eff of the narrowest DIMC weight"),
    ("blocks_max", "block-scale rows of the DIMC state: ceil(ROWS / 32)"),
    ("mode", "CHIPEMU_MODE_*"),
    ("step", "superstep"),
))

SC = Ids("CHIPEMU_SC_", "per-tile scalars of a launch: sc[CHIPEMU_SC_*]", seq(
    0, ("tile", "global tile id (set by the runtime)"),
    ("events", "events appended to the tile's region"),
    ("peers", "peer ids appended to the tile's region"),
    ("staged", "bytes staged (SEND, DRAM_WRITE data)"),
    ("event_cap", "region sizes (set by the runtime)"),
    "peer_cap", "stage_cap",
    ("error", "CHIPEMU_KERR_* of the first broken rule, 0 if none"),
    ("message", "message id (MSG_* of csrc/intrinsics/core.h)"),
    ("intrinsic", "CHIPEMU_IN_* that failed"),
    ("values", "5 values quoted by the message"),
), count=16)

KERR = Ids("CHIPEMU_KERR_", "error classes: CapacityError, ShapeError, FormatError, ChipemuError in "
           "Python", seq(1, "capacity", "shape", "format", "state"), count=None)

IN = Ids("CHIPEMU_IN_", "intrinsic ids in error reports; a vector op is CHIPEMU_IN_VEC + its "
         "CHIPEMU_VOP_*", seq(0, "dimc_load", "dimc_mvm", "vec") + seq(
    2 + VOPS.count_value, "send", "dram_read", "dram_write", "host_read", "barrier",
    ("vec_add_rows", "row-broadcast add/mul: ids of their own, since they log"),
    ("vec_mul_rows", "  the plain add/mul kind and IN_VEC + kind is vec_add's"),
    ("vec_dot", "dot products: logs the mul kind, so an id of its own too"),
    ("vec_col_argmax", "column argmax: logs the row_max kind, so an id of its own too"),
    ("vec_convert_weights", "into the weights layout: logs the convert kind, an id of its own"),
))

BT = Ids("CHIPEMU_BT_", "the runtime's buffer table: bufs[id * CHIPEMU_BT_COUNT + CHIPEMU_BT_*]", seq(
    0, ("kind", "CHIPEMU_BUF_*"),
    ("store", "offset of the data: in tile SRAM, the DRAM or the host arena"),
    ("size", "bytes"),
    ("where", "DRAM: global channel; else 0"),
))

_DIMC = ", ".join(f.name for f in FORMATS if f.dimc)

# message ids (sc[CHIPEMU_SC_MESSAGE]); in the texts {arg} names v0, {b1}/{b3} name buffer v1/v3,
# {f1}/{f2} name format v1/v2, {k2}/{k3} name buffer kind v2/v3, {a4} names the argument v4
MSG = Ids("MSG_", "message ids (sc[CHIPEMU_SC_MESSAGE]); the texts are in "
          "chipemu.emulator.tables.ids.MSG", seq(
    1, ("events", "capacity: v0 = events_per_tile",
        "issued more than events_per_tile={v0} events; pass a larger events_per_tile"),
    ("peers", "capacity: v0 = peers_per_tile",
     "named more than peers_per_tile={v0} peer tiles in one superstep; pass a larger "
     "peers_per_tile"),
    ("stage", "capacity: v0 = stage_bytes_per_tile, v1 = bytes wanted",
     "staged {v1} bytes of SEND / DRAM_WRITE data in one superstep, more than "
     "stage_bytes_per_tile={v0}; pass a larger stage_bytes_per_tile"),
    ("buf", "shape: v0 = arg, v1 = buffer id, v2 = buffers",
     "{arg}={v1} is not a buffer id (the machine has {v2} buffers)"),
    ("buf_kind", "shape: v0 = arg, v1 = buffer id, v2 = its kind, v3 = kind needed",
     "{arg} buffer {b1} is a {k2} buffer; this operand must be a {k3} buffer"),
    ("range", "shape: v0 = arg, v1 = offset, v2 = bytes, v3 = buffer id, v4 = size",
     "{arg} range [{v1}, {v1}+{v2}) lies outside buffer {b3} of {v4} bytes"),
    ("align", "shape: v0 = arg, v1 = offset",
     "{arg} offset {v1} is not a multiple of 4 (a float32 operand)"),
    ("arg", "shape: v0 = arg, v1 = value, v2 = lowest, v3 = highest allowed",
     "{arg}={v1} is out of range; allowed {v2}..{v3}"),
    ("multiple", "shape: v0 = arg, v1 = value, v2 = required factor",
     "{arg}={v1} is not a multiple of {v2} (a block size or row length)"),
    ("fmt", "format: v0 = arg, v1 = code",
     f"{{arg}}={{v1}} is not a format code (0..{len(FORMATS) - 1})"),
    ("fmt_dimc", "format: v0 = arg, v1 = code",
     f"{{arg}}={{f1}} is not a DIMC format; allowed: {_DIMC}"),
    ("fmt_cells", "format: v0 = arg, v1 = code, v2 = element bits, v3 = cell bits",
     "{arg}={f1}: {v2}-bit weights do not pack into the device's {v3}-bit DIMC cells"),
    ("convert", "format: v1 = fmt_to, v2 = fmt_from",
     "vec_convert converts to or from fp32; got fmt_to={f1}, fmt_from={f2}"),
    ("slot_empty", "state: v0 = arg, v1 = slot",
     "{arg}={v1} holds no weights on this tile; dimc_load it first"),
    ("overlap", "shape: v0 = arg, v1 = buffer, v2 = offset, v3 = bytes, v4 = input arg",
     "{arg} range [{v2}, {v2}+{v3}) of buffer {b1} partly overlaps the {a4} range; "
     "use disjoint ranges (or the same start, where an op allows it)"),
    ("dup", "shape: v0 = arg, v1 = tile", "{arg} lists tile {v1} twice"),
    ("self", "shape: v0 = arg, v1 = tile", "{arg} does not include the issuing tile {v1}"),
    ("param", "shape (a C tile kernel's own check): v1 = value, v2 = lowest, v3 = highest, "
     "v4 = word of p (-1: p itself, -2: the tile argument)",
     "its parameter word {v4} (-1: the vector p, -2: the tile) = {v1} is out of range; allowed "
     "{v2}..{v3}; pass the vector its planner builds"),
), count=None)

# argument ids (v0 of most messages): the names Python prints
ARG = Ids("ARG_", "argument ids (v0 of most messages); the name of ARG_X is x", seq(
    0, "slot", "engine", "fmt", "fmt_to", "fmt_from", "row0", "nrows", "nvec", "k_rows", "n",
    "row_len", "nbytes", "accumulate", "src", "a", "b", "dst", "x", "y", "dst_tiles", "group",
    "rows_a", "rows_b", "ld", "lines", "trans", "ncols"), count=None)


def intrinsic_names() -> tuple:
    """Name of each intrinsic id 0..IN_COUNT-1 (IN_VEC + kind is vec_<kind>)."""
    names = {i.value: i.name for i in IN.ids if i.name != "vec"}
    names.update({IN["vec"] + v.value: "vec_" + v.name for v in VOPS.ids})
    return tuple(names[k] for k in range(IN.count_value))


# every table, in the order docs/tables.md and the generated header list them
TABLES = (VERSIONS, STATUS, OPS, VOPS, FLAGS, UNITS, BUF_KINDS, ENERGY, RESOURCES, NETWORKS,
          MULTICAST, PATHS,
          ENGINE_ERRORS, MODES, DEV, SC, KERR, IN, BT, MSG, ARG)
