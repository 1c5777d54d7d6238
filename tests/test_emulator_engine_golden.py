"""Golden digests of the engine's outputs: optimizations of csrc/engine*.c must not change any result.

Each case is a (log, device) pair from tests/engine_logs.py or built here (random SPMD logs with
every op kind, multicast, aliasing buffers, barriers; the contended benchmark log on the tiny and
Corsair-sized devices; structured logs for gated deliveries, WAR/WAW chains, accumulation, DRAM
contention, barrier subgroups, blocking weight loads, many small packets, latencies beyond the
queue's calendar window, and packet/hop numbers too large for the queue's 64-bit key). The digest is SHA-256 over every output of simulate(): start and end
cycles, busy cycles per resource, makespan, the critical path (events, length, cycles by class,
binding class) and every energy breakdown. `energy_fj_event` is checked separately (it postdates
the digests). A second digest covers the error messages of corrupted logs (validation order).

The digests were computed with the engine before its performance rework (one thread, the whole
dependency graph built before simulating); if one changes, the engine's results changed. Regenerate only for an intended semantic change:
    python tests/test_emulator_engine_golden.py
"""
import hashlib
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from engine_logs import LogBuilder, bench_log, corsair_params, random_log, tiny_params  # noqa: E402

from chipemu.emulator.engine.core import simulate  # noqa: E402
from chipemu.emulator.errors import EngineError  # noqa: E402
from chipemu.emulator.events import EVENT_DTYPE, EventLog  # noqa: E402

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


def digest(r):
    h = hashlib.sha256()
    for a in (r.start_cycles, r.end_cycles, r.resources["busy_cycles"], r.critical_path.events):
        h.update(np.ascontiguousarray(a, np.int64).tobytes())
    h.update(repr((r.makespan_cycles, r.energy_fj, r.critical_path.length,
                   r.critical_path.binding_class, sorted(r.critical_path.cycles_by_class.items()),
                   sorted(r.energy_by_component.items()), sorted(r.energy_by_op.items()),
                   sorted(r.energy_by_chiplet.items(), key=str),
                   sorted(r.energy_by_tile.items(), key=str))).encode())
    return h.hexdigest()


def error_digest(n_trials=300):
    """Messages (or a digest of the results) of single-byte corruptions of a random log."""
    p = tiny_params()
    base = random_log(p, n_steps=3, seed=1)
    rng = np.random.default_rng(17)
    h = hashlib.sha256()
    for _ in range(n_trials):
        ev = base.events.copy()
        raw = ev.view(np.uint8).reshape(len(ev), EVENT_DTYPE.itemsize)
        raw[rng.integers(0, len(ev)), rng.integers(0, EVENT_DTYPE.itemsize)] = rng.integers(0, 256)
        try:
            h.update(digest(simulate(EventLog(ev, base.peers, base.buffers), p)).encode())
        except EngineError as ex:
            h.update(str(ex).encode())
    return h.hexdigest()


GOLDEN = {
'random_0': '759e6e918bd8c16e9cfce23e44af4b96c9994043b4b17d0fc3e6e2f11d473bbe',  # 247 events
    'random_1': 'a9a91ae5dd30f385e92b8d83c3e5d925311ec754ea52ff591c091a1038e6d0ec',  # 234 events
    'random_2': '2438deee53786cafccb32c4275dfea6eea9a0b7b0fd64b9d51a452d1c24986b5',  # 261 events
    'random_3': '09a10d725e4e621ee7353b074c3792676ed540021b383aea319329d5e64149a0',  # 260 events
    'random_nobarrier': 'e6fd3ea317523726d714cf9fb488cd15dc44a84b0949253e0dd1bcd1a46a9c74',  # 184 events
    'random_blocking_load': 'f5145ee5bc15f4ab9115af88ce6de270c2f5eddd01382d18b36fff9529613c2e',  # 225 events
    'random_far_future': 'c58ef1a53c2e4b00fb83144dcf6b95ef1d4ae75c13a414f55e953b04c9da6de5',  # 256 events
    'bench_tiny': 'f0297eccde4c979de3f87995444922e04dd8999869264169a4ce03066e3398dc',  # 6000 events
    'bench_tiny_small_packets': '5cb3e683c3bd9eaa0cdde8ad82254c7d988ae66468b9dc50aa9ac4bb1151bfff',  # 4000 events
    'gated': 'b6133097fd3fbbf22b7a23d60c477e81439f5865ffaf0fe09099d4120fe9a536',  # 288 events
    'dram_contention': '85f84091866d4ec6f8ece10d2dd8059e6ec9355c25949a30205727e94a46f61b',  # 162 events
    'barrier_groups': 'e196ac7242b1484d189e3469c776ba5cc6ee9934c5884ef9f546507426209903',  # 288 events
    'bench_corsair': '49099854be3dd3d1e7d43969f3de82bdb9e716ac74c835052af78aa93debd22d',  # 40000 events
    'bench_corsair_200k': '05fecc57bbda7699aa5f966c8a14375d7ca1cb97367dc7ec398f52ad44e6d6e5',  # 200000 events
    'random_corsair': '7235a267e3cf698fad4a74f8e6db22458368db3cd9d16ce23d4f04f067642ce1',  # 8100 events
    'random_long': 'db9c6ffe934cb41584283be0eb2ee0f14472a47d5319d5595ccaae7977fc7e10',  # 2283 events
    'wide_keys': '287a4f7c4fe81e1196d0972bfed886b1b13772adfdea9c54830e84464222a7d0',  # 3 events
}
GOLDEN_ERRORS = '30933a7cc9f5f69262b8207bff3bbde2e20029ca229e6860bb07da1a6a521627'


@pytest.fixture(scope="module")
def all_cases():
    return cases()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_outputs_match_golden_digest(all_cases, name, threads):
    # threads=1 admits each op only when its unit releases it (the hazard walk runs on demand);
    # threads=2 runs the walk ahead on the worker: both must give the same bytes
    log, params = all_cases[name]
    r = simulate(log, params, threads=threads)
    assert digest(r) == GOLDEN[name], f"{name}: the engine's outputs changed"
    assert int(r.energy_fj_event.sum()) + r.energy_by_component["static"] == r.energy_fj


def test_error_messages_match_golden_digest():
    assert error_digest() == GOLDEN_ERRORS


if __name__ == "__main__":
    for name, (log, params) in cases().items():
        print(f"    {name!r}: {digest(simulate(log, params))!r},  # {len(log.events)} events")
    print(f"GOLDEN_ERRORS = {error_digest()!r}")
