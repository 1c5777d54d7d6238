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
from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.emulator.runtime import budget
from chipemu.kernels.glu import api as glu_api, data as glu_data
from chipemu.kernels.glu.params import ACTS
from chipemu.kernels.glu.plan import plan_glu
from chipemu.kernels.move import MOVE_RUN, Moves
from chipemu.kernels.residual import api as res_api, data as res_data
from chipemu.kernels.residual.plan import plan_residual
from chipemu.kernels.rmsnorm import api as rms_api, data as rms_data
from chipemu.kernels.rmsnorm.plan import plan_rmsnorm
from chipemu.kernels.scaffold import Run, shape_of

__all__ = ["OpKind", "PlacedOp", "KINDS", "place_op", "check_placed", "HostlessBufs"]


@dataclass(frozen=True)
class OpKind:
    """How a program places and calls one layer op (see the module docstring)."""
    op: object                       # its LayerOp
    plan: Callable                   # plan(rows, cols, device)
    params: Callable                 # params(plan, n_tiles, bufs, opts) -> int64 vector
    setup: Callable                  # setup(plan, timing, **kw) -> (opts, constants); in timing
                                     # mode the constants are zeros of the right sizes
    call: tuple = ()                 # names of per-call keywords its params() reads


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


def _rms_setup(plan, timing, *, gamma=None, eps=1e-5):
    eps = args.real("eps", eps, 0.0, 1.0)
    if gamma is None:
        raise ShapeError("rmsnorm needs gamma=: a float array [cols] (a shape tuple in timing "
                         "mode)")
    gs, ga = shape_of(gamma, "gamma", timing)
    if gs != (plan.hidden,):
        raise ShapeError(f"gamma has shape {gs}; it must be [{plan.hidden}] (cols)")
    if timing:
        ga = np.zeros(plan.hidden, np.float32)
    return {"eps": eps}, rms_data.constant_data(plan, ga, eps)


def _rms_params(plan, n_tiles, bufs, opts):
    return rms_data.params(plan, n_tiles, bufs)


def _glu_setup(plan, timing, *, act="silu"):
    act = args.choice("act", act, ACTS)
    return {"act": act}, glu_data.constant_data(plan)


def _glu_params(plan, n_tiles, bufs, opts):
    return glu_data.params(plan, n_tiles, bufs, ACTS.index(opts["act"]))


def _residual_setup(plan, timing):
    return {}, res_data.constant_data(plan)


def _residual_params(plan, n_tiles, bufs, opts):
    return res_data.params(plan, n_tiles, bufs)


KINDS = {
    "rmsnorm": OpKind(rms_api.OP, plan_rmsnorm, _rms_params, _rms_setup),
    "glu": OpKind(glu_api.OP, plan_glu, _glu_params, _glu_setup),
    "residual": OpKind(res_api.OP, plan_residual, _residual_params, _residual_setup),
}

class HostlessBufs(dict):
    """Buffer ids for an op's parameter builder in a program: the host buffers its load would
    read are never used there (-1)."""

    def __missing__(self, key):
        return -1


def place_op(card, name: str, kind: str, rows: int, cols: int, **kw) -> PlacedOp:
    """Plan, allocate and load one layer op on `card` (see the module docstring)."""
    kind = args.choice("kind", kind, tuple(KINDS))
    rows = args.integer("rows", rows, 1, error=ShapeError)
    cols = args.integer("cols", cols, 1, error=ShapeError)
    spec, dev, mach = KINDS[kind], card.device, card.machine
    names = [n for n in inspect.signature(spec.setup).parameters][2:]
    args.no_extra(f"place_op {kind!r}", kw, names)
    plan = spec.plan(rows, cols, dev)
    opts, consts = spec.setup(plan, card.timing, **kw)
    need = sum(-(-v // 64) * 64 for v in plan.sram.values())
    card.check_sram(name, need)
    budget.check(f"placing {name!r} on {dev.name!r}", events=sum(map(len, consts.values())),
                 host_bytes=2 * sum(a.nbytes for per in consts.values() for a in per.values()))
    run = Run("place_op", dev, machine=mach)
    mach.clear_log()
    bufs = {}
    for b, nbytes in plan.sram.items():
        bufs[b] = mach.alloc_sram(f"{name}:{b}", nbytes)
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
