"""Per-event energy (EngineResult.energy_fj_event) and the engine's thread count.

energy_fj_event[i] is the dynamic energy of event i (int64 fJ, every action of the event, static
power excluded); sum(energy_fj_event) + energy_by_component["static"] == energy_fj exactly. Device
numbers: tests/engine_logs.tiny_params() (fJ: MAC int8 100, overhead 10 per MAC, weight row 1000,
SRAM read 2 / write 3 per bit, NoC 5 per bit-hop, D2D link 0 100 per bit, DRAM 50, host 70 per bit,
vector add 20 per element).
"""
import numpy as np
import pytest

from chipemu.emulator.engine.core import simulate
from chipemu.emulator.errors import ConfigError
from chipemu.emulator.events import OP_NAMES, EventLog

from engine_logs import LogBuilder, bench_log, random_log, tiny_params

STATIC = dict(static_uw_tile=12345, static_uw_chiplet=54321, static_uw_card=777, clock_ghz=1.3)


def test_send_chain_per_event_energy_by_hand():
    # tile s -> s+1 in superstep s, 64 B = 512 bits: SRAM read + write 512 * (2 + 3) = 2560 each;
    # NoC 512 * 5 = 2560 per link: 0->1 one link, 1->2 two (west, south), 2->3 one
    b = LogBuilder()
    X = b.sram(64)
    for s in range(3):
        b.send(s, s, [s + 1], b.rng(X), b.rng(X))
    r = simulate(b.build(), tiny_params())
    assert r.energy_fj_event.dtype == np.int64
    assert r.energy_fj_event.tolist() == [2560 + 2560, 2560 + 2 * 2560, 2560 + 2560]
    assert int(r.energy_fj_event.sum()) == r.energy_fj


def test_every_op_kind_per_event_energy_by_hand():
    b = LogBuilder()
    W, X, Y, A, S, Z = b.sram(4096), b.sram(256), b.sram(1024), b.sram(256), b.sram(512), b.sram(64)
    D, H = b.dram(4096, channel=0), b.host(64)
    b.dimc_load(0, 0, slot=0, src=b.rng(W), rows=64)
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=4, k=64)
    b.vec(1, 0, "add", 64, b.rng(A), src0=b.rng(X), src1=b.rng(X))
    b.dram_read(3, 0, b.rng(D, 0, 512), b.rng(S))
    b.dram_write(1, 0, b.rng(Z), b.rng(D, 1024, 64))
    b.host_read(0, 0, b.rng(H), b.rng(Z))
    b.send(0, 0, [4], b.rng(Z), b.rng(Z))
    r = simulate(b.build(), tiny_params(**STATIC))
    want = [
        64 * 1000 + 4096 * 8 * 2,                          # 64 weight rows; 4096 B read
        4 * 64 * 64 * (100 + 10) + 256 * 8 * 2 + 1024 * 8 * 3,   # 16384 MACs + overhead; x, y
        64 * 20 + 512 * 8 * 2 + 256 * 8 * 3,               # 64 adds; two 256 B reads, one write
        4096 * 50 + 4096 * 2 * 5 + 4096 * 3,               # DRAM; local 0 -> 3 is 2 hops; write
        512 * 2 + 512 * 1 * 5 + 512 * 50,                  # read; 1 -> 0 one hop; DRAM
        512 * 70 + 512 * 3,                                # host link (card bucket); no hop; write
        512 * (2 + 3) + 512 * 5 + 512 * 100,               # SRAM; to the PHY (local 1); link 0
    ]
    assert r.energy_fj_event.tolist() == want
    static = r.energy_by_component["static"]
    assert static > 0 and int(r.energy_fj_event.sum()) + static == r.energy_fj
    assert r.energy_by_tile["card"] - r.energy_by_chiplet["card"] == 0
    assert r.energy_by_component["host"] == 512 * 70


@pytest.mark.parametrize("seed", range(4))
def test_per_event_energy_sums_exactly(seed):
    p = tiny_params(**STATIC)
    log = random_log(p, n_steps=8, seed=seed)
    r = simulate(log, p)
    e = r.energy_fj_event
    assert e.shape == (len(log.events),) and np.all(e >= 0)
    assert int(e.sum()) + r.energy_by_component["static"] == r.energy_fj
    ops = log.events["op"]
    for code, name in OP_NAMES.items():                      # each op kind's share, exactly
        assert int(e[ops == code].sum()) == r.energy_by_op[name], name


def test_per_event_energy_of_an_empty_log():
    r = simulate(EventLog(), tiny_params(static_uw_card=1000))
    assert r.energy_fj_event.dtype == np.int64 and len(r.energy_fj_event) == 0


def _same(a, b):
    assert np.array_equal(a.start_cycles, b.start_cycles) and np.array_equal(a.end_cycles, b.end_cycles)
    assert np.array_equal(a.energy_fj_event, b.energy_fj_event)
    assert np.array_equal(a.resources, b.resources) and a.energy_breakdown == b.energy_breakdown
    assert np.array_equal(a.critical_path.events, b.critical_path.events)
    assert a.critical_path.cycles_by_class == b.critical_path.cycles_by_class


def test_results_do_not_depend_on_the_thread_count():
    p = tiny_params(**STATIC)
    for log in (bench_log(p, 30_000, seed=5), random_log(p, n_steps=40, seed=8)):
        runs = [simulate(log, p, threads=t) for t in (0, 1, 2, 7)]
        for r in runs[1:]:
            _same(runs[0], r)


def test_bad_thread_count():
    with pytest.raises(ConfigError, match="threads"):
        simulate(EventLog(), tiny_params(), threads=-1)
    with pytest.raises(ConfigError, match="threads"):
        simulate(EventLog(), tiny_params(), threads=1.5)
