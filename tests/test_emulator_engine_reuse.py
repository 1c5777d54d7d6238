"""Timing reuse (chipemu.emulator.engine.reuse): a run whose inputs equal an earlier run's returns
its output exactly; any changed input misses; the byte bound evicts; Results never share arrays
with the cache or each other."""
import threading

import numpy as np
import pytest

from chipemu.emulator.engine import reuse
from chipemu.emulator.engine.core import simulate
from chipemu.emulator.errors import ConfigError
from chipemu.emulator.events import EventLog
from chipemu.kernels import KVCache, attention, matmul
from engine_logs import random_log, tiny_params


@pytest.fixture(autouse=True)
def fresh_cache():
    old_limit, old_on = reuse.limit_bytes(), reuse.set_enabled(True)
    reuse.clear()
    yield
    reuse.set_limit_bytes(old_limit)
    reuse.set_enabled(old_on)
    reuse.clear()


def _same(a, b):
    """Every output field equal; arrays bit for bit with the same dtype."""
    for name in ("start_cycles", "end_cycles", "energy_fj_event", "resources"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name
    assert a.makespan_cycles == b.makespan_cycles and a.seconds == b.seconds
    assert a.energy_fj == b.energy_fj and a.energy_breakdown == b.energy_breakdown
    ca, cb = a.critical_path, b.critical_path
    assert ca.events.dtype == cb.events.dtype and np.array_equal(ca.events, cb.events)
    assert (ca.cycles_by_class, ca.binding_class, ca.length) == \
        (cb.cycles_by_class, cb.binding_class, cb.length)
    assert a.utilization_by_class() == b.utilization_by_class()


def _counts():
    s = reuse.stats()
    return s["hits"], s["misses"]


def _matmul_case():
    r = matmul((64, 128), (128, 64), device="tiny", mode="timing")
    return r.events, r.device.engine_params()


def _decode_case():
    cache = KVCache((1, 1, 100, 64), (1, 1, 100, 64), max_len=200, heads=2, device="tiny",
                    mode="timing")
    r = attention((1, 2, 1, 64), (1, 1, 1, 64), (1, 1, 1, 64), cache=cache)
    return r.events, r.device.engine_params()


@pytest.mark.parametrize("case", [_matmul_case, _decode_case], ids=["matmul", "decode_step"])
def test_a_reused_run_equals_a_recomputed_one(case):
    log, params = case()
    assert len(log) > 0
    reuse.clear()                      # the kernel's own run filled it
    fresh = simulate(log, params, reuse=False)
    h0, m0 = _counts()
    first = simulate(log, params)
    assert _counts() == (h0, m0 + 1)
    again = simulate(log, params)
    assert _counts() == (h0 + 1, m0 + 1)
    _same(fresh, first)
    _same(fresh, again)
    # an equal log in new arrays, and the same values given as NumPy integers, are equal inputs
    copy = EventLog(log.events.copy(), log.peers.copy(), log.buffers.copy())
    as_np = dict(params, noc_link_bytes_per_cycle=np.int64(params["noc_link_bytes_per_cycle"]))
    _same(fresh, simulate(copy, as_np))
    assert _counts() == (h0 + 2, m0 + 1)


@pytest.mark.parametrize("change", [
    {"network": 1}, {"noc_multicast": 1}, {"noc_link_bytes_per_cycle": 16},
    {"links": "first_link_slower"}, {"dram_channel_tile": "moved"}, {"fj_vec_op": "first_doubled"},
    {"clock_ghz": 2.0}])
def test_a_changed_param_misses(change):
    p = tiny_params()
    log = random_log(p, n_steps=4, seed=3)
    simulate(log, p)
    q = dict(p, **change)
    if change.get("links"):
        q["links"] = [dict(p["links"][0], bytes_per_cycle=p["links"][0]["bytes_per_cycle"] + 1)] \
            + p["links"][1:]
    if change.get("dram_channel_tile"):
        q["dram_channel_tile"] = [(t + 1) % 4 for t in p["dram_channel_tile"]]
    if change.get("fj_vec_op"):
        q["fj_vec_op"] = [2 * p["fj_vec_op"][0] + 1] + list(p["fj_vec_op"][1:])
    h0, m0 = _counts()
    r = simulate(log, q)
    assert _counts() == (h0, m0 + 1)
    _same(r, simulate(log, q, reuse=False))


@pytest.mark.parametrize("part", ["event", "peers", "buffers", "threads"])
def test_a_changed_input_misses(part):
    p = tiny_params()
    log = random_log(p, n_steps=4, seed=5)
    simulate(log, p)
    ev, peers, bufs, threads = log.events.copy(), log.peers.copy(), log.buffers.copy(), 0
    if part == "event":
        k = int(np.flatnonzero(ev["dst"]["len"] > 1)[0])
        ev["dst"]["len"][k] -= 1
    elif part == "peers":
        assert len(peers) > 0
        peers = peers[:-1]
    elif part == "buffers":
        bufs = np.concatenate([bufs, bufs[-1:]])
    else:
        threads = 1         # results never depend on it, but a named count runs the engine
    h0, m0 = _counts()
    try:
        simulate(EventLog(ev, peers, bufs), p, threads=threads)
    except Exception:       # an invalid changed log: the point is that it was not answered
        pass                # from the cache
    assert _counts() == (h0, m0 + 1)


def test_the_byte_bound_evicts_the_least_recently_used():
    p = tiny_params()
    logs = [random_log(p, n_steps=4, seed=s) for s in (1, 2, 3)]
    simulate(logs[0], p)
    one = reuse.stats()["bytes"]
    assert reuse.stats()["entries"] == 1 and one > 0
    reuse.set_limit_bytes(int(2.5 * one))     # the logs are alike in size: room for two
    simulate(logs[1], p)
    simulate(logs[0], p)                      # a hit: logs[0] is now the most recently used
    ev0 = reuse.stats()["evictions"]
    simulate(logs[2], p)                      # evicts logs[1]
    s = reuse.stats()
    assert s["entries"] == 2 and s["evictions"] == ev0 + 1 and s["bytes"] <= s["limit_bytes"]
    h0, m0 = _counts()
    simulate(logs[0], p)
    assert _counts() == (h0 + 1, m0)
    simulate(logs[1], p)
    assert _counts() == (h0 + 1, m0 + 1)
    reuse.set_limit_bytes(0)                  # nothing fits: the cache empties and stays empty
    r = simulate(logs[2], p)
    assert reuse.stats()["entries"] == 0 and reuse.stats()["bytes"] == 0
    assert r.start_cycles.flags.writeable     # a run not kept hands over its own arrays


def test_results_do_not_share_arrays_with_the_cache():
    p = tiny_params()
    log = random_log(p, n_steps=4, seed=7)
    fresh = simulate(log, p, reuse=False)
    a = simulate(log, p)
    b = simulate(log, p)
    for r in (a, b):
        assert r.start_cycles.flags.writeable and not np.shares_memory(a.start_cycles, b.start_cycles)
    a.start_cycles[:] = -1
    a.end_cycles[:] = -1
    a.energy_fj_event[:] = 0
    a.resources["busy_cycles"][:] = 0
    a.critical_path.events[:] = 0
    a.energy_by_op["static"] = -5
    a.critical_path.cycles_by_class["barrier"] = -5
    _same(fresh, b)
    _same(fresh, simulate(log, p))


def test_a_reused_run_reports_progress_done_at_once():
    p = tiny_params()
    log = random_log(p, n_steps=4, seed=9)
    simulate(log, p)
    calls = []
    simulate(log, p, progress=lambda done, n: calls.append((done, n)))
    assert calls == [(len(log), len(log))]


def test_opting_out():
    p = tiny_params()
    log = random_log(p, n_steps=3, seed=11)
    simulate(log, p)
    h0, m0 = _counts()
    simulate(log, p, reuse=False)
    with reuse.disabled():
        simulate(log, p)
    assert _counts() == (h0, m0) and reuse.enabled()
    with pytest.raises(ConfigError, match="reuse"):
        simulate(log, p, reuse="yes")
    with pytest.raises(ConfigError, match="limit_bytes"):
        reuse.set_limit_bytes(-1)
    with pytest.raises(ConfigError, match="enabled"):
        reuse.set_enabled(1)
    reuse.clear()
    assert reuse.stats()["entries"] == 0
    simulate(log, p)
    assert _counts() == (h0, m0 + 1)


def test_threads_share_the_cache_safely():
    p = tiny_params()
    logs = [random_log(p, n_steps=3, seed=s) for s in range(4)]
    want = [simulate(lg, p, reuse=False) for lg in logs]
    simulate(logs[0], p)
    reuse.set_limit_bytes(int(2.5 * reuse.stats()["bytes"]))   # room for two: threads evict
    reuse.clear()
    got, errors = {}, []

    def work(i):
        try:
            for k in range(12):
                j = (i + k) % len(logs)
                got.setdefault((i, k), (j, simulate(logs[j], p)))
        except Exception as e:           # surfaced below, with the thread's failure
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for j, r in got.values():
        _same(want[j], r)
    s = reuse.stats()
    assert s["bytes"] <= s["limit_bytes"]
