"""Golden results of the engine: optimizations of csrc/engine/ must not change any of them.

Each case is a (log, device) pair from tests/engine_logs.py or built here (random SPMD logs with
every op kind, multicast, aliasing buffers, barriers; the contended benchmark log on the tiny and
Corsair-sized devices; structured logs for gated deliveries, WAR/WAW chains, accumulation, DRAM
contention, barrier subgroups, blocking weight loads, many small packets, latencies beyond the
queue's calendar window, and packet/hop numbers too large for the queue's 64-bit key).
tests/golden/engine/<case>.json holds every output of simulate() as named figures (see
tests/golden_figures.py): makespan, start and end cycles, busy cycles per resource class, the
critical path (events, length, cycles by class, binding class) and every energy breakdown;
`energy_fj_event` is checked against the total. corrupted_logs.json holds the error message (or a
few result figures) of single-byte corruptions of a log (validation order).

The figures were first written from results whose SHA-256 digests matched those computed with the
engine before its performance rework (one thread, the whole dependency graph built before
simulating). Regenerate only for an intended semantic change:
    python tests/test_emulator_engine_golden.py
"""
import json
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from engine_logs import LogBuilder, bench_log, corsair_params, random_log, tiny_params  # noqa: E402
from golden_figures import array_figures, assert_golden, dumps  # noqa: E402

from chipemu.emulator.engine.core import simulate  # noqa: E402
from chipemu.emulator.errors import EngineError  # noqa: E402
from chipemu.emulator.events import EVENT_DTYPE, EventLog  # noqa: E402

GOLDEN = pathlib.Path(__file__).with_name("golden") / "engine"
STATIC = dict(static_uw_tile=12345, static_uw_chiplet=54321, static_uw_card=777, clock_ghz=1.3)


def _gated(p):
    """SENDs (multicast, cross-chiplet) into buffers their destinations read and write in the same
    superstep: deliveries park at the destination write; WAR/WAW chains across units."""
    rng = np.random.default_rng(5)
    n = p["n_chiplets"] * p["tile_rows"] * p["tile_cols"]
    b = LogBuilder()
    X, Y, Z, W = b.sram(1024), b.sram(1024), b.sram(2048), b.sram(4096)
    for step in range(4):
        for t in range(n):
            peers = sorted({int(v) for v in rng.choice(n, size=3, replace=False)} - {t}) or [(t + 1) % n]
            b.send(t, step, peers, b.rng(Z, 0, 512 + 64 * (t % 5)), b.rng(X, 0, 512 + 64 * (t % 5)))
            b.mvm(t, step, b.rng(X, 0, 256), b.rng(Y), nvec=4, k=64, engine=t % 2, acc=bool(t % 3 == 0))
            b.vec(t, step, "add", 256, b.rng(Z, 0, 1024), src0=b.rng(Y), src1=b.rng(X))
            b.vec(t, step, "exp", 128, b.rng(X, 512, 512), src0=b.rng(Z, 512, 512))
            if t % 4 == step % 4:
                b.dimc_load(t, step, slot=step % 4, src=b.rng(W, 0, 64 * 32), rows=32, first_row=16)
                b.mvm(t, step, b.rng(X, 0, 256), b.rng(Z, 1024, 1024), nvec=4, k=48, slot=step % 4,
                      engine=1, fmt="mxint8", wfmt="mxint4")
    return b.build()


def _dram_contention(p):
    """Every tile reads and writes the same DRAM channel; RAW on DRAM across tiles and supersteps."""
    n = p["n_chiplets"] * p["tile_rows"] * p["tile_cols"]
    b = LogBuilder()
    S, T2 = b.sram(2048), b.sram(2048)
    D = b.dram(1 << 16, channel=0)
    H = b.host(1 << 16)
    for step in range(3):
        for t in range(n):
            b.dram_read(t, step, b.rng(D, 512 * ((t + step) % n), 700), b.rng(S, 0, 700))
            b.vec(t, step, "mul", 175, b.rng(T2, 0, 700), src0=b.rng(S, 0, 700), src1=b.rng(S, 0, 700))
            b.dram_write(t, step, b.rng(T2, 0, 700), b.rng(D, 512 * t, 700))
            if t % 3 == 0:
                b.host_read(t, step, b.rng(H, 256 * t, 300), b.rng(S, 1024, 300))
    return b.build()


def _barrier_groups(p):
    """Barriers over pairs and quads of tiles (subgroups), a fence on DMA ops, several instances."""
    n = p["n_chiplets"] * p["tile_rows"] * p["tile_cols"]
    b = LogBuilder()
    X, Y, Z = b.sram(256), b.sram(1024), b.sram(1024)
    for step in range(4):
        for t in range(n):
            b.mvm(t, step, b.rng(X), b.rng(Y), nvec=1 + t % 4, k=64, engine=t % 2)
            b.send(t, step, [(t + 5) % n], b.rng(Y, 0, 300), b.rng(Z, 0, 300))
            pair = [t - t % 2, t - t % 2 + 1]
            b.barrier(t, step, pair)
            b.vec(t, step, "copy", 64, b.rng(X), src0=b.rng(Y, 0, 256))
            if step % 2 == 1:
                quad = [t - t % 4 + k for k in range(4)]
                b.barrier(t, step, quad)
    return b.build()


def _wide_keys():
    """Packets and routes too many for the queue's 64-bit key (70,000 one-byte packets, routes up to
    32,773 channels): the queue's full-key comparisons; SENDs contending at one eject port."""
    p = tiny_params(n_chiplets=1, tile_rows=1, tile_cols=32768, links=[], dram_channel_tile=[0],
                    noc_max_packet_bytes=1)
    b = LogBuilder()
    X, Y = b.sram(70000), b.sram(70000)
    b.send(0, 0, [1], b.rng(X), b.rng(X))
    b.send(2, 0, [1], b.rng(Y, 0, 3000), b.rng(Y, 0, 3000))
    b.send(3, 0, [1, 0], b.rng(Y, 0, 500), b.rng(Y, 3000, 500))
    return b.build(), p


def cases():
    """name -> (log, params)."""
    tiny = tiny_params(**STATIC)
    out = {}
    for seed in range(4):
        out[f"random_{seed}"] = (random_log(tiny, n_steps=7, seed=seed), tiny)
    out["random_nobarrier"] = (random_log(tiny, n_steps=6, seed=11, barriers=False), tiny)
    blocking = tiny_params(dimc_write_overlaps_compute=0, **STATIC)
    out["random_blocking_load"] = (random_log(blocking, n_steps=6, seed=3), blocking)
    slow = tiny_params(dram_latency_cycles=9000, host_latency_cycles=20000, noc_max_packet_bytes=64,
                       **STATIC)
    out["random_far_future"] = (random_log(slow, n_steps=6, seed=4), slow)
    out["bench_tiny"] = (bench_log(tiny, 6000, seed=1), tiny)
    small = tiny_params(noc_max_packet_bytes=48, **STATIC)
    out["bench_tiny_small_packets"] = (bench_log(small, 4000, seed=2, send_bytes=1000), small)
    out["gated"] = (_gated(tiny), tiny)
    out["dram_contention"] = (_dram_contention(tiny), tiny)
    out["barrier_groups"] = (_barrier_groups(tiny), tiny)
    cor = corsair_params()
    out["bench_corsair"] = (bench_log(cor, 40_000, seed=0), cor)
    out["bench_corsair_200k"] = (bench_log(cor, 200_000, seed=3), cor)
    rc = random_log(cor, n_steps=2, seed=9)
    rc.buffers[-1]["size"] = 1 << 20                        # the host buffer, for 2048 tiles
    out["random_corsair"] = (rc, cor)
    out["random_long"] = (random_log(tiny, n_steps=60, seed=21), tiny)
    out["wide_keys"] = _wide_keys()
    return out


def _named(d):
    """A breakdown by index ('card' and the like kept by name); long ones as array figures."""
    ints = sorted(k for k in d if isinstance(k, int))
    named = {str(k): int(v) for k, v in d.items() if not isinstance(k, int)}
    if len(ints) <= 64:
        return {str(k): int(d[k]) for k in ints} | named
    assert ints == list(range(len(ints)))
    return named | {"by_index": array_figures([d[k] for k in ints])}


def figures(r):
    """Every output of simulate() as named figures (what the SHA-256 digests used to cover)."""
    busy = r.resources
    cp = r.critical_path
    return {
        "makespan_cycles": int(r.makespan_cycles),
        "energy_fj": int(r.energy_fj),
        "start_cycles": array_figures(r.start_cycles),
        "end_cycles": array_figures(r.end_cycles),
        "busy_cycles": {str(c): array_figures(busy["busy_cycles"][busy["class"] == c])
                        for c in dict.fromkeys(busy["class"])},
        "critical_path": {"length": int(cp.length), "binding_class": cp.binding_class,
                          "cycles_by_class": {k: int(v) for k, v in cp.cycles_by_class.items()},
                          "events": array_figures(cp.events)},
        "energy_by_component": _named(r.energy_by_component),
        "energy_by_op": _named(r.energy_by_op),
        "energy_by_chiplet": _named(r.energy_by_chiplet),
        "energy_by_tile": _named(r.energy_by_tile),
    }


def _brief(f):
    """A few figures of a result (300 whole documents would swamp the file)."""
    sums = ("sum", "index_weighted_sum")
    return {"makespan_cycles": f["makespan_cycles"], "energy_fj": f["energy_fj"],
            "start_cycles": {k: f["start_cycles"][k] for k in sums},
            "end_cycles": {k: f["end_cycles"][k] for k in sums}}


def corrupted_logs(n_trials=300):
    """Single-byte corruptions of a random log: the error message or a few figures of the result."""
    p = tiny_params()
    base = random_log(p, n_steps=3, seed=1)
    rng = np.random.default_rng(17)
    trials = []
    for _ in range(n_trials):
        value = int(rng.integers(0, 256))      # drawn before the position, as the digest's loop did
        i, byte = int(rng.integers(0, len(base.events))), int(rng.integers(0, EVENT_DTYPE.itemsize))
        ev = base.events.copy()
        ev.view(np.uint8).reshape(len(ev), EVENT_DTYPE.itemsize)[i, byte] = value
        t = {"event": i, "byte": byte, "value": value}
        try:
            t["result"] = _brief(figures(simulate(EventLog(ev, base.peers, base.buffers), p)))
        except EngineError as ex:
            t["error"] = str(ex)
        trials.append(t)
    return {"trials": trials}


def _golden(name):
    return json.loads((GOLDEN / f"{name}.json").read_text())


CASES = sorted(p.stem for p in GOLDEN.glob("*.json") if p.stem != "corrupted_logs")


@pytest.fixture(scope="module")
def all_cases():
    return cases()


def test_every_case_has_a_golden_file(all_cases):
    assert CASES == sorted(all_cases)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", CASES)
def test_outputs_match_golden(all_cases, name, threads):
    # threads=1 admits each op only when its unit releases it (the hazard walk runs on demand);
    # threads=2 runs the walk ahead on the worker: both must give the same results
    log, params = all_cases[name]
    r = simulate(log, params, threads=threads)
    assert_golden(name, figures(r), _golden(name))
    assert int(r.energy_fj_event.sum()) + r.energy_by_component["static"] == r.energy_fj


def test_error_messages_match_golden():
    assert_golden("corrupted_logs", corrupted_logs(), _golden("corrupted_logs"))


if __name__ == "__main__":
    GOLDEN.mkdir(parents=True, exist_ok=True)
    docs = {name: figures(simulate(log, params)) for name, (log, params) in cases().items()}
    docs["corrupted_logs"] = corrupted_logs()
    for name, doc in docs.items():
        (GOLDEN / f"{name}.json").write_text(dumps(doc) + "\n")
        print(f"wrote {GOLDEN / name}.json")
