"""Layer ops placed on a card: their plan, SRAM buffers and constants, set up once.

    norm = card.place_op("norm1", "rmsnorm", rows=1, cols=4096, gamma=g)
    act = card.place_op("act", "glu", rows=1, cols=14336, act="silu")

Placing plans the op for `rows` x `cols`, allocates its SRAM buffers on the card (held for the
card's life, as a placed weight's are) and writes its constants (gamma, eps, ...) into them with
one move superstep — the op's `load`, timed once. A program then only moves the op's inputs
into place and runs its compute supersteps (kernels/layer.py).

Each kind is a row of `KINDS`: the LayerOp, its planner, its parameter builder and the check of
its options and constants.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.engine.result import Result
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.runtime import budget
from chipemu.kernels.argmax import api as amx_api, data as amx_data
from chipemu.kernels.argmax.plan import plan_argmax
from chipemu.kernels.embedding import api as emb_api, data as emb_data
from chipemu.kernels.embedding.api import check_ids, place_table
from chipemu.kernels.embedding.plan import plan_embedding
from chipemu.kernels.glu import api as glu_api, data as glu_data
from chipemu.kernels.glu.params import ACTS
from chipemu.kernels.glu.plan import plan_glu
from chipemu.kernels.layernorm import api as ln_api, data as ln_data
from chipemu.kernels.layernorm.plan import plan_layernorm
from chipemu.kernels.move import MOVE_RUN, Moves
from chipemu.kernels.residual import api as res_api, data as res_data
from chipemu.kernels.residual.plan import plan_residual
from chipemu.kernels.rmsnorm import api as rms_api, data as rms_data
from chipemu.kernels.rmsnorm.plan import plan_rmsnorm
from chipemu.kernels.rope import api as rope_api, data as rope_data
from chipemu.kernels.rope.api import check_positions
from chipemu.kernels.rope.plan import plan_rope
from chipemu.kernels.softmax import api as sm_api, data as sm_data
from chipemu.kernels.softmax.plan import plan_softmax
from chipemu.kernels.program.tensor import Block
from chipemu.kernels.scaffold import Run, shape_of

__all__ = ["OpKind", "PlacedOp", "KINDS", "place_op", "check_placed", "HostlessBufs"]


@dataclass(frozen=True)
class OpKind:
    """How a program places and calls one layer op (see the module docstring)."""
    op: object                       # its LayerOp
    setup: Callable                  # setup(card, rows, cols, **kw) -> (plan, opts, constants);
                                     # in timing mode the constants are zeros
    params: Callable                 # params(plan, n_tiles, bufs, opts) -> int64 vector
    call: tuple = ()                 # names of per-call keywords params() reads
    moves: Callable | None = None    # moves(plan, bufs, opts, Moves): per-call fetches
    output: Callable | None = None   # output(plan, buf) -> (blocks, cols, dtype) when the output
                                     # is not the op's column blocks


@dataclass(frozen=True, eq=False)
class PlacedOp:
    """A layer op resident on a card: its plan, SRAM buffers, options and the constants' load."""
    name: str
    kind: str
    rows: int
    cols: int
    plan: object
    bufs: dict
    opts: dict
    load: Result | None             # the constants' one load (None: the op has none)
    card: object = field(repr=False)

    @property
    def op(self):
        return KINDS[self.kind].op


def _floats(x, what, shape, timing):
    """A constant argument as float32 (zeros of `shape` in timing mode), or ShapeError."""
    if x is None:
        raise ShapeError(f"{what}= is needed: a float array {list(shape)} (a shape tuple in "
                         f"timing mode)")
    s, a = shape_of(x, what, timing)
    if s != shape:
        raise ShapeError(f"{what} has shape {s}; it must be {list(shape)}")
    return np.zeros(shape, np.float32) if timing else np.asarray(a, np.float32)


def _rms_setup(card, rows, cols, *, gamma=None, eps=1e-5):
    eps = args.real("eps", eps, 0.0, 1.0)
    plan = plan_rmsnorm(rows, cols, card.device)
    g = _floats(gamma, "gamma", (cols,), card.timing)
    return plan, {}, rms_data.constant_data(plan, g, eps)


def _ln_setup(card, rows, cols, *, gamma=None, beta=None, eps=1e-5):
    eps = args.real("eps", eps, 0.0, 1.0)
    plan = plan_layernorm(rows, cols, card.device)
    g, b = (_floats(v, n, (cols,), card.timing) for v, n in ((gamma, "gamma"), (beta, "beta")))
    return plan, {}, ln_data.constant_data(plan, g, b, eps)


def _glu_setup(card, rows, cols, *, act="silu"):
    act = args.choice("act", act, ACTS)
    plan = plan_glu(rows, cols, card.device)
    return plan, {"act": ACTS.index(act)}, glu_data.constant_data(plan)


def _plain_setup(planner, data):
    def setup(card, rows, cols):
        plan = planner(rows, cols, card.device)
        return plan, {}, data.constant_data(plan)
    return setup


def _rope_setup(card, rows, cols, *, head_dim=None, theta=500000.0, max_positions=None,
                tables="auto"):
    """Tables of max_positions in every member's SRAM ("sram"; "auto": when they fit); else in
    DRAM ("dram"; written once, as a model's tables are at start-up, not timed, and shared by
    every rope op of the same head_dim, theta and max_positions), and each call reads the rows
    of its positions into a window of `rows` rows in SRAM (the kernel then reads row r for
    row r)."""
    tables = args.choice("tables", tables, ("auto", "sram", "dram"))
    head_dim = args.integer("head_dim", head_dim, 2, error=ShapeError, why="even, dividing cols")
    if head_dim % 2 or cols % head_dim:
        raise ShapeError(f"head_dim={head_dim}; allowed: an even divisor of cols={cols}")
    theta = args.real("theta", theta, 1e-30, 1e30)
    max_positions = args.integer("max_positions", max_positions, 1, error=ShapeError)
    dev, heads = card.device, cols // head_dim
    try:
        if tables != "dram":
            plan = plan_rope(rows, heads, head_dim, max_positions, dev)
            return plan, {"max_positions": max_positions}, rope_data.constant_data(plan, theta)
    except CapacityError:
        if tables == "sram":
            raise
    plan = plan_rope(rows, heads, head_dim, rows, dev)         # the window
    tables = card.dram_tables(("rope", head_dim, theta, max_positions),
                              lambda: rope_data.tables(max_positions, head_dim, theta))
    consts = rope_data.constant_data(plan, theta)
    return plan, {"max_positions": max_positions, "tables": tables}, \
        {"consts": consts["consts"]}


def _rope_positions(plan, opts):
    if "positions" not in opts:
        raise ShapeError("rope needs positions=: one integer position per row, per call")
    return check_positions(opts["positions"], plan.rows, opts["max_positions"])[0]


def _rope_params(plan, n_tiles, bufs, opts):
    pos = _rope_positions(plan, opts)
    if "tables" in opts:                       # the window holds row r's position in row r
        pos = np.arange(plan.rows, dtype=np.int64)
    return rope_data.params(plan, n_tiles, bufs, pos)


def _rope_moves(plan, bufs, opts, moves):
    """With DRAM tables: every member reads its rows' cos and sin rows into the window."""
    if "tables" not in opts:
        return
    row = plan.half * 4
    pos = _rope_positions(plan, opts)
    for t in range(plan.tiles):
        for name, dram in zip(("cos", "sin"), opts["tables"]):
            for r, q in enumerate(pos.tolist()):
                moves.dram_read(t, dram, q * row, bufs[name], r * row, row)


def _argmax_setup(card, rows, cols):
    plan = plan_argmax(rows, cols, card.device)
    return plan, {}, amx_data.constant_data(plan)


def _argmax_output(plan, buf):
    """The ids: int32 [rows] on the root (a [rows, 1] tensor)."""
    return (Block(plan.root, buf, 0, 0, plan.rows, 0, 1, 1),), 1, "int32"


def _emb_setup(card, rows, cols, *, table=None):
    """The table [vocab, cols] written to DRAM once (embedding.place_table: not timed)."""
    if table is None:
        raise ShapeError("embedding needs table=: a float array [vocab, cols] (a shape tuple "
                         "in timing mode)")
    ts, ta = shape_of(table, "table", card.timing)
    if len(ts) != 2 or ts[1] != cols:
        raise ShapeError(f"table has shape {ts}; it must be [vocab, {cols}] (cols)")
    plan = plan_embedding(rows, ts[0], cols, card.device)
    placed = place_table(card.machine, ts if card.timing else ta, card.device, tiles=plan.tiles)
    return plan, {"table": placed}, emb_data.constant_data(plan)


def _emb_params(plan, n_tiles, bufs, opts):
    if "ids" not in opts:
        raise ShapeError("embedding needs ids=: one token id per row, per call")
    ids = check_ids(opts["ids"], plan.vocab)
    if len(ids) != plan.rows:
        raise ShapeError(f"ids has {len(ids)} token ids; the op was placed for rows="
                         f"{plan.rows}")
    return emb_data.params(plan, n_tiles, bufs, opts["table"], ids)


def _no_opts(data):
    return lambda plan, n_tiles, bufs, opts: data.params(plan, n_tiles, bufs)


KINDS = {
    "rmsnorm": OpKind(rms_api.OP, _rms_setup, _no_opts(rms_data)),
    "layernorm": OpKind(ln_api.OP, _ln_setup, _no_opts(ln_data)),
    "glu": OpKind(glu_api.OP, _glu_setup,
                  lambda plan, n, bufs, opts: glu_data.params(plan, n, bufs, opts["act"])),
    "residual": OpKind(res_api.OP, _plain_setup(plan_residual, res_data), _no_opts(res_data)),
    "softmax": OpKind(sm_api.OP, _plain_setup(plan_softmax, sm_data), _no_opts(sm_data)),
    "rope": OpKind(rope_api.OP, _rope_setup, _rope_params, call=("positions",),
                   moves=_rope_moves),
    "argmax": OpKind(amx_api.OP, _argmax_setup, _no_opts(amx_data), output=_argmax_output),
    "embedding": OpKind(emb_api.OP, _emb_setup, _emb_params, call=("ids",)),
}


class HostlessBufs(dict):
    """Buffer ids for an op's parameter builder in a program: the host buffers its load would
    read are never used there (-1)."""

    def __missing__(self, key):
        return -1


def place_op(card, name: str, kind: str, rows: int, cols: int, share=None, **kw) -> PlacedOp:
    """Plan, allocate and load one layer op on `card` (see the module docstring)."""
    kind = args.choice("kind", kind, tuple(KINDS))
    rows = args.integer("rows", rows, 1, error=ShapeError)
    cols = args.integer("cols", cols, 1, error=ShapeError)
    spec, dev, mach = KINDS[kind], card.device, card.machine
    names = [n for n in inspect.signature(spec.setup).parameters][3:]
    args.no_extra(f"place_op {kind!r}", kw, names)
    plan, opts, consts = spec.setup(card, rows, cols, **kw)
    # constants stay the op's own; working buffers may be shared under `share`
    private = {b: v for b, v in plan.sram.items() if share is None or b in consts}
    work = {b: v for b, v in plan.sram.items() if b not in private}
    card.check_sram(name, card.sram_new_bytes(None, private) + card.sram_new_bytes(share, work))
    budget.check(f"placing {name!r} on {dev.name!r}", events=sum(map(len, consts.values())),
                 host_bytes=2 * sum(a.nbytes for per in consts.values() for a in per.values()))
    run = Run("place_op", dev, machine=mach)
    mach.clear_log()
    bufs = {b: mach.alloc_sram(f"{name}:{b}", nbytes) for b, nbytes in private.items()}
    if work:
        bufs.update(card.sram_buffers(name, share, work))
    moves, at, parts = Moves(), 0, []
    for b, per in consts.items():
        for t, a in sorted(per.items()):
            parts.append(np.ascontiguousarray(a, np.float32))
            at += parts[-1].nbytes
    load = None                             # an op without constants loads nothing
    if at:
        host = run.host(f"{name}:constants", None if card.timing else parts, at)
        at = 0
        for b, per in consts.items():
            for t, a in sorted(per.items()):
                moves.host_read(t, host, at, bufs[b], 0, a.nbytes)
                at += a.nbytes
        with run.phase("load"):
            run.launch(MOVE_RUN, moves.tiles(), moves.params(dev.n_tiles), **moves.caps())
        load = run.finish(plan=plan.to_dict())
        mach.clear_log()
    return PlacedOp(name, kind, rows, cols, plan, bufs, opts, load, card)


def check_placed(card, placed, kind=None):
    if not isinstance(placed, PlacedOp) or placed.card is not card:
        raise ConfigError(f"op={args.show(placed)}; allowed: a PlacedOp returned by this card's "
                          f"place_op()")
    if kind is not None and placed.kind != kind:
        raise ConfigError(f"op {placed.name!r} is a {placed.kind}; this call needs a {kind}")
    return placed
