"""Chrome trace JSON (the Trace Event format that ui.perfetto.dev opens) for a Result.

Layout: pid = chiplet, tid = one lane per tile unit (DIMC engines, weight write, vector, DMA,
barrier) plus a "recv" lane per tile where incoming transfers land and a "phase" lane with one
slice per phase of the run (e.g. load, compute) from the tile's first op in it to its last; a
program's Result adds a process "program" with one lane per kernel call (its span). Ops are complete ("X")
slices; transfers (SEND, DRAM, host) are async slices on the issuing tile and flow arrows to each
destination's recv lane, because their lifetimes overlap on one DMA queue and "X" slices on one
thread must nest. Times are microseconds (cycles / clock MHz); raw cycles sit in args.
"""
from __future__ import annotations

import json

import numpy as np

from chipemu.emulator.events import OPS, OP_NAMES, VOP_NAMES
from chipemu.emulator.numerics.formats import FORMATS

__all__ = ["write_chrome_trace", "LANES"]

_BY_CODE = {s.code: s.name for s in FORMATS.values()}
_TRANSFERS = {OPS["send"], OPS["dram_read"], OPS["dram_write"], OPS["host_read"]}
LANES = {"dimc_write": 64, "vector": 65, "dma": 66, "sync": 67, "recv": 68,  # dimc engine e -> e
         "phase": 69}
_UNIT_LANE = {OPS["dimc_load"]: "dimc_write", OPS["vec"]: "vector", OPS["barrier"]: "sync",
              **{op: "dma" for op in _TRANSFERS}}
_STRIDE = 100


def _lane(op, unit):
    return int(unit) if op == OPS["dimc_mvm"] else LANES[_UNIT_LANE[op]]


def _lane_name(lane):
    if lane < 64:
        return f"dimc{lane}"
    return {v: k for k, v in LANES.items()}[lane]


def _op_name(ev):
    name = OP_NAMES.get(int(ev["op"]), "op?")
    if ev["op"] == OPS["vec"]:
        return f"vec_{VOP_NAMES.get(int(ev['c']), '?')}"
    return name


def _phase_slices(result, ev, timing, tpc, mhz, lanes_used):
    """Per tile and phase, one slice from its first op's start to its last op's end."""
    out = []
    for ph in getattr(result, "phase_list", ()):
        sel = np.flatnonzero(np.isin(ev["step"], ph.steps))
        if not sel.size:
            continue
        tiles = ev["tile"][sel].astype(np.int64)
        uniq, inv = np.unique(tiles, return_inverse=True)
        lo = np.full(len(uniq), np.iinfo(np.int64).max)
        hi = np.zeros(len(uniq), np.int64)
        np.minimum.at(lo, inv, timing.start_cycles[sel])
        np.maximum.at(hi, inv, timing.end_cycles[sel])
        for t, a, b in zip(uniq.tolist(), lo.tolist(), hi.tolist()):
            chiplet, local = divmod(t, tpc)
            lanes_used.add((chiplet, local, LANES["phase"]))
            out.append({"name": ph.name, "cat": "phase", "ph": "X", "pid": chiplet,
                        "tid": local * _STRIDE + LANES["phase"], "ts": a / mhz,
                        "dur": (b - a) / mhz, "args": {"start_cycle": a, "end_cycle": b}})
    return out


def _kernel_lanes(result, pid, mhz):
    """A program's calls: process "program" (pid after the chiplets), one lane per call."""
    spans = getattr(result, "kernel_list", ())
    if not spans:
        return []
    out = [{"name": "process_name", "ph": "M", "pid": pid, "args": {"name": "program"}}]
    for i, k in enumerate(spans):
        out.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": i,
                    "args": {"name": f"{i:02d} {k.name}"}})
        out.append({"name": k.name, "cat": "kernel", "ph": "X", "pid": pid, "tid": i,
                    "ts": k.start_cycle / mhz, "dur": k.cycles / mhz,
                    "args": {"kind": k.kind, "start_cycle": k.start_cycle,
                             "end_cycle": k.end_cycle, "energy_fj": k.energy_fj}})
    return out


def write_chrome_trace(path, result, *, max_events: int = 200_000) -> None:
    """Write `result`'s ops as a Chrome trace to `path`, keeping at most `max_events` ops."""
    dev, log, timing = result.device, result.events, result.timing
    ev, peers = log.events, log.peers
    tpc = dev.tiles_per_chiplet
    mhz = dev.clock_ghz * 1000.0
    n = len(ev)
    order = np.argsort(timing.start_cycles, kind="stable")[:max_events]
    dropped = n - len(order)
    out = []
    lanes_used = set()
    for i in order.tolist():
        e = ev[i]
        op, tile = int(e["op"]), int(e["tile"])
        chiplet, local = divmod(tile, tpc)
        start, end = int(timing.start_cycles[i]), int(timing.end_cycles[i])
        lane = _lane(op, e["unit"])
        tid = local * _STRIDE + lane
        lanes_used.add((chiplet, local, lane))
        args = {"event": i, "step": int(e["step"]), "start_cycle": start, "end_cycle": end,
                "a": int(e["a"]), "b": int(e["b"])}
        if e["fmt"] >= 0:
            args["fmt"] = _BY_CODE.get(int(e["fmt"]), int(e["fmt"]))
        base = {"name": _op_name(e), "cat": OP_NAMES.get(op, "op"), "pid": chiplet, "tid": tid,
                "ts": start / mhz, "args": args}
        if op not in _TRANSFERS:
            out.append({**base, "ph": "X", "dur": (end - start) / mhz})
            continue
        args["bytes"] = int(e["a"])
        out.append({**base, "ph": "b", "id": i})
        out.append({**base, "ph": "e", "id": i, "ts": end / mhz, "args": {}})
        dests = peers[e["peer_first"]: e["peer_first"] + e["peer_count"]] if op == OPS["send"] else [tile]
        for k, dst in enumerate(int(d) for d in dests):
            dch, dloc = divmod(dst, tpc)
            lanes_used.add((dch, dloc, LANES["recv"]))
            rtid = dloc * _STRIDE + LANES["recv"]
            fid = i * 65536 + k
            out.append({"name": "recv", "cat": "transfer", "ph": "X", "pid": dch, "tid": rtid,
                        "ts": end / mhz, "dur": 0.0, "args": {"event": i, "from_tile": tile}})
            out.append({"name": "transfer", "cat": "flow", "ph": "s", "id": fid, "pid": chiplet,
                        "tid": tid, "ts": start / mhz})
            out.append({"name": "transfer", "cat": "flow", "ph": "f", "bp": "e", "id": fid,
                        "pid": dch, "tid": rtid, "ts": end / mhz})
    out += _phase_slices(result, ev, timing, tpc, mhz, lanes_used)
    out += _kernel_lanes(result, dev.n_chiplets, mhz)
    meta = []
    for chiplet in sorted({c for c, _, _ in lanes_used}):
        meta.append({"name": "process_name", "ph": "M", "pid": chiplet, "args": {"name": f"chiplet {chiplet}"}})
    cols = dev.chiplet.tile_cols
    for chiplet, local, lane in sorted(lanes_used):
        r, c = divmod(local, cols)
        meta.append({"name": "thread_name", "ph": "M", "pid": chiplet, "tid": local * _STRIDE + lane,
                     "args": {"name": f"tile {local} (r{r} c{c}) {_lane_name(lane)}"}})
    other = {"chipemu_trace_version": 1, "kernel": result.kernel, "device": dev.name,
             "clock_ghz": dev.clock_ghz, "ops": n, "ops_written": len(order),
             "makespan_cycles": result.cycles, "energy_fj": result.energy_fj}
    if dropped:
        other["note"] = (f"{dropped} of {n} ops dropped (max_events={max_events}); the earliest "
                         f"{len(order)} by start cycle are kept. Totals in otherData cover all ops.")
    with open(path, "w") as f:
        json.dump({"traceEvents": meta + out, "displayTimeUnit": "ns", "otherData": other}, f)
