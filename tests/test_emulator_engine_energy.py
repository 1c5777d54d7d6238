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
from chipemu.emulator.errors import CapacityError, ConfigError
from chipemu.emulator.events import OP_NAMES, EventLog

from chipemu.emulator.tables.limits import LIMIT

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


# ---- issue 11: energy and time never wrap ---------------------------------------------------------

def _mvm_log(nvec, n=1):
    b = LogBuilder()
    X, Y = b.sram(256), b.sram(1024)
    for _ in range(n):
        b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=nvec, k=64)
    return b.build()


def _vec_log(n_elems, count=1, kind="copy"):
    b = LogBuilder()
    X = b.sram(64)
    for _ in range(count):
        b.vec(0, 0, kind, n_elems, b.rng(X), src0=b.rng(X))
    return b.build()


TOP = LIMIT["fj_mac"].highest


def test_one_event_beyond_int64_femtojoules_is_a_capacity_error_naming_it():
    """2^31 vectors x 64 rows x 64 columns = 8.8e12 MACs at 1e6 fJ + 1e6 fJ overhead: 17.6 kJ,
    beyond int64 fJ (9.2 kJ). It used to wrap to a negative total; now CapacityError naming the
    event and the figures, and one MAC cost lower it fits."""
    p = tiny_params(fj_mac=[TOP if x else 0 for x in tiny_params()["fj_mac"]], fj_overhead_per_mac=TOP)
    with pytest.raises(CapacityError, match=r"event 0 \(dimc_mvm, tile 0, superstep 0\): energy of "
                                            r"at least 1759\d J; the engine counts at most 9223 J"):
        simulate(_mvm_log(2**31), p)
    r = simulate(_mvm_log(2**31), p | {"fj_overhead_per_mac": 0})
    assert r.energy_fj == 2**31 * 64 * 64 * TOP + r.energy_by_component["sram"] > 0


def test_a_sum_beyond_int64_femtojoules_names_no_event_and_is_thread_independent():
    """Each event fits, their sum does not: the error names no event (-1), whatever the threads."""
    p = tiny_params(fj_mac=[TOP if x else 0 for x in tiny_params()["fj_mac"]])
    log = _mvm_log(2**30, n=3)                  # 3 x 4.4 kJ
    for threads in (1, 2):
        with pytest.raises(CapacityError, match=r"^event log: energy of at least 1319\d J"):
            simulate(log, p, threads=threads)


def test_static_energy_beyond_int64_is_a_capacity_error():
    """The issue's clock_ghz=1e-12 gave -9.2e18 fJ: at the slowest clock and the most static power
    allowed, a 2^31-cycle run holds 2.1e22 fJ of static energy."""
    p = tiny_params(clock_ghz=LIMIT["clock_ghz"].lowest, vec_lanes=1,
                    static_uw_card=LIMIT["static_uw_card"].highest)
    with pytest.raises(CapacityError, match=r"^event log: energy of at least 214748\d\d J"):
        simulate(_vec_log(2**31 - 1), p)
    r = simulate(_vec_log(2**31 - 1), p | {"static_uw_card": 4000})    # 8.6 kJ: fits
    assert abs(r.energy_by_component["static"] - 4000 * (2**31 - 1) / 0.001) < 4096


def test_time_beyond_the_engine_range_is_a_capacity_error():
    """The issue's VEC op (2^32-1 elements, 1 lane, 2^32-1 cycles per batch) returned 4 cycles:
    vec_cycles is now bounded (tables.limits), and time that passes 2^62 cycles fails by name."""
    with pytest.raises(ConfigError, match=r"vec_cycles\[0\] = 4294967295 is out of range; allowed: "
                                          r"1 <= vec_cycles <= 65535"):
        simulate(_vec_log(2**32 - 1), tiny_params(vec_lanes=1, vec_cycles=[2**32 - 1] * 10))
    p = tiny_params(vec_lanes=1, vec_cycles=[65535] * 10)
    r = simulate(_vec_log(2**32 - 1), p)
    assert r.makespan_cycles == (2**32 - 1) * 65535                      # 2.8e14, no wrap
    with pytest.raises(CapacityError, match=r"event \d+ \(vec, tile 0, superstep 0\): time reaches "
                                            r"cycle \d+; the engine times at most 4611686018427387904"):
        simulate(_vec_log(2**32 - 1, count=16500), p)


@pytest.mark.parametrize("field, value", [
    ("fj_overhead_per_mac", 10**14), ("static_uw_card", 2**61), ("static_uw_tile", 10**10),
    ("clock_ghz", 1e-12), ("fj_sram_read_bit", -1), ("fj_dimc_row_write", 10**9 + 1)])
def test_energy_parameters_beyond_the_table_are_refused(field, value):
    with pytest.raises(ConfigError, match=field if field != "static_uw_tile" else "static power"):
        simulate(_vec_log(16), tiny_params(**{field: value}))
