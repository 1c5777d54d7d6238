"""`rope`: rotary position embedding of queries or keys x [rows, heads * head_dim] on the
emulated device, one position per row, Hugging Face's rotate_half convention, whole heads per
tile with the cos / sin tables in every member's SRAM (docs/rope.md).

    from chipemu.kernels import rope
    r = rope(q, positions, head_dim=128)  # q float32 [rows, heads * 128], positions int [rows]
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown

The NumPy reference replaying the same order is kernels/rope/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.kernels.layer import LayerOp
from chipemu.kernels.rope import data as D
from chipemu.kernels.rope.plan import plan_rope
from chipemu.kernels.rope.ref import rope_float64, rope_reference
from chipemu.kernels.rope.tile import ROPE_APPLY, ROPE_LOAD
from chipemu.kernels.scaffold import (Run, check_data, check_mode, elementwise_metrics,
                                     gather_cols, shape_of, strict_keywords)

__all__ = ["rope", "run_rope", "check_positions", "events_of", "compute_phase", "OP"]


def check_positions(positions, rows: int, max_positions) -> tuple[np.ndarray, int]:
    """(int64 [rows] positions, max_positions): integers >= 0, one per row, below max_positions
    (None: the largest + 1); else a ShapeError naming the value and what is allowed."""
    a = np.asarray(positions) if not isinstance(positions, (str, bytes)) else np.asarray([])
    if a.dtype.kind not in "iu" or a.shape != (rows,):
        raise ShapeError(f"positions={args.show(positions)} ({a.dtype}, shape {a.shape}); "
                         f"allowed: {rows} integers >= 0, one per row of x")
    if (a < 0).any():
        raise ShapeError(f"positions holds {int(a.min())}; allowed: integers >= 0")
    top = int(a.max()) + 1
    if max_positions is None:
        max_positions = top
    max_positions = args.integer("max_positions", max_positions, 1, error=ShapeError)
    if top > max_positions:
        raise ShapeError(f"positions holds {top - 1}; allowed with max_positions="
                         f"{max_positions}: 0 .. {max_positions - 1} (the tables' rows)")
    return a.astype(np.int64), max_positions


def events_of(plan) -> int:
    """Events of one call: 4 host reads per member; per member and row one negation of the sin
    row and 6 vector ops per head."""
    heads = [plan.tile_cols(t)[1] // plan.head_dim for t in range(plan.tiles)]
    return 4 * plan.tiles + sum(plan.rows * (1 + 6 * h) for h in heads)


def compute_phase(run, plan, p) -> None:
    """rope_apply on the members (the positions are the records' tails), inside the caller's
    phase; x, the tables and the constant are in SRAM already."""
    most = max(plan.tile_cols(t)[1] for t in range(plan.tiles)) // plan.head_dim
    run.launch(ROPE_APPLY, list(range(plan.tiles)), p, events_per_tile=plan.rows * (1 + 6 * most),
               peers_per_tile=0, stage_bytes_per_tile=0)


@strict_keywords
def rope(x, positions, *, head_dim, theta=500000.0, max_positions=None, device=None,
         backend="c", mode="functional", network=None, progress=None):
    """Rotary position embedding of x [rows, heads * head_dim], row r at positions[r] -> Result.

    x: a float32/float16/bfloat16 array (converted to float32), or a shape tuple in timing mode.
    positions: integers >= 0 [rows] (needed in timing mode too: they fix the table rows read).
    head_dim: even, dividing x's columns. theta: the base, > 0 (500000 llama-3, 10000 llama-2).
    max_positions: the tables hold positions 0 .. max_positions - 1 (None: the largest + 1).
    device: a Device, preset name or .toml path (None: corsair); backend "c" | "numba"; mode
    "functional" | "timing". Result.output is float32 [rows, heads * head_dim] (None in timing
    mode): y = x * cos + rotate_half(x) * sin per head; phases "load" (x and the tables, host ->
    SRAM) and "compute"; metrics the elements, member tiles, elements per cycle.
    """
    theta = args.real("theta", theta, 0.0, lo_open=True)
    head_dim = args.integer("head_dim", head_dim, 2, error=ShapeError)
    run = Run("rope", device, mode=mode, backend=backend, network=network, progress=progress)
    dev, timing = run.device, run.timing
    xs, xa = shape_of(x, "x", timing)
    if len(xs) != 2 or xs[1] % head_dim:
        raise ShapeError(f"x must be [rows, heads * head_dim] with head_dim={head_dim}; got "
                         f"shape {xs}")
    rows, cols = xs
    pos, max_positions = check_positions(positions, rows, max_positions)
    plan = plan_rope(rows, cols // head_dim, head_dim, max_positions, dev)
    table = max_positions * plan.half * 4
    # refuse before any state: in functional mode x's float32 and tile-ordered copies, the two
    # tables (float64 while computed), the host arena (grown 2x), every tile's SRAM, the output
    data = 0 if timing else 5 * rows * cols * 4 + 8 * table + dev.n_tiles * sum(
        plan.sram.values())
    mach = run.start(events=events_of(plan), host_bytes=data)
    if timing:
        host = dict.fromkeys(("x_host", "cos_host", "sin_host", "consts_host"))
    else:
        cos, sin = D.tables(max_positions, head_dim, theta)
        host = {"x_host": D.x_by_tile(np.asarray(xa, np.float32), plan), "cos_host": cos,
                "sin_host": sin, "consts_host": D.constants()}
    sizes = {"x_host": rows * cols * 4, "cos_host": table, "sin_host": table, "consts_host": 4}
    bufs = {name: run.host(name, host[name], sizes[name]) for name in sizes}
    for name, nbytes in plan.sram.items():
        bufs[name] = mach.alloc_sram(name, nbytes)
    p = D.params(plan, dev.n_tiles, bufs, pos)
    with run.phase("load"):
        run.launch(ROPE_LOAD, list(range(plan.tiles)), p, events_per_tile=4, peers_per_tile=0,
                   stage_bytes_per_tile=0)
    with run.phase("compute"):
        compute_phase(run, plan, p)
    out = None if timing else gather_cols(mach, bufs["y"], plan.rows,
                                          map(plan.tile_cols, range(plan.tiles)))
    r = run.finish(output=out, plan=dict(plan.to_dict(), theta=theta), phases=run.phases)
    return elementwise_metrics(r, rows * cols, tiles=plan.tiles)


@strict_keywords
def run_rope(device=None, *, backend="c", mode="functional", progress=None, rows=16, heads=32,
             head_dim=128, theta=500000.0, max_positions=512, seed=0):
    """RoPE of N(0,1) queries at random positions below max_positions; functional mode checks it
    against the NumPy reference (bit for bit) and float64."""
    rows, heads, head_dim = (args.integer(name, v, lo, error=ShapeError) for name, v, lo in
                             (("rows", rows, 1), ("heads", heads, 1), ("head_dim", head_dim, 2)))
    max_positions = args.integer("max_positions", max_positions, 1, error=ShapeError)
    seed = args.integer("seed", seed, 0)
    timing = check_mode(mode) == "timing"
    # the positions (int64), then in functional mode x, the output, the reference's temporaries
    # and the float64 yardstick (2 words)
    check_data(f"run_rope rows={rows}", (rows,), itemsize=8)
    if not timing:
        check_data(f"run_rope rows={rows}, heads={heads}, head_dim={head_dim}",
                   (rows, heads, head_dim), (rows, heads, head_dim), (6, rows, heads, head_dim),
                   (4, rows, heads, head_dim))
    rng = np.random.default_rng(seed)
    pos = rng.integers(0, max_positions, rows)
    if timing:
        return rope((rows, heads * head_dim), pos, head_dim=head_dim, theta=theta,
                    max_positions=max_positions, device=device, backend=backend,
                    mode="timing", progress=progress)
    x = rng.standard_normal((rows, heads * head_dim), dtype=np.float32)
    r = rope(x, pos, head_dim=head_dim, theta=theta, max_positions=max_positions,
             device=device, backend=backend, progress=progress)
    r.metrics["equal_to_reference"] = bool(np.array_equal(
        r.output.view(np.uint32),
        rope_reference(x, pos, head_dim, theta, max_positions).view(np.uint32)))
    exact = rope_float64(x, pos, head_dim, theta)
    r.metrics["max_abs_error_vs_float64"] = float(np.max(np.abs(r.output - exact)))
    return r


# the program interface: input x and output y are the [rows, n_t] column blocks of whole heads
# on members 0 .. T-1 (tile_cols); constants: the tables and -1 on every member; the positions
# are per-call control data in the parameter vector (data.params(plan, n, bufs, positions))
OP = LayerOp("rope", inputs=("x",), output="y", compute=compute_phase,
             constants=D.constant_data)
