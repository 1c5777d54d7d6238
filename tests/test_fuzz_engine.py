"""Fuzzing the timing engine (chipemu.emulator.simulate, the wrapper of chipemu_engine_run) with
random valid logs, corrupted logs, and device parameters at and past their limits. Each call is
a ChipemuError naming the event, buffer, peer or parameter, or an EngineResult whose figures are
sane: no negative or wrapped cycles or energy, breakdowns summing to the total, the same with 1
or 2 threads; a single op's time is at least its own cost; more energy per action never gives
less energy. The C calls run in a forked child, so a crash or hang fails one example."""
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from chipemu.emulator import simulate
from chipemu.emulator.events import EVENT_DTYPE, EventLog, VOPS

from engine_logs import LogBuilder, random_log, tiny_params
from fuzz_strategies import (NOT_NUMBERS, check_timing, edges, examples, expect, guarded)

U32, I64 = 2**32 - 1, 2**63 - 1


def _same(a, b):
    return (a.makespan_cycles == b.makespan_cycles and a.energy_fj == b.energy_fj
            and np.array_equal(a.start_cycles, b.start_cycles)
            and np.array_equal(a.end_cycles, b.end_cycles)
            and a.energy_breakdown == b.energy_breakdown)


@examples(40)
@given(st.integers(1, 8), st.integers(0, 10**6), st.booleans(), st.sampled_from([0, 1]),
       st.sampled_from([0, 1]))
def test_random_logs_give_sane_figures_on_any_thread_count(steps, seed, barriers, network, tree):
    params = tiny_params(network=network, noc_multicast=tree)
    log = random_log(params, n_steps=steps, seed=seed, barriers=barriers)

    def body():
        one = simulate(log, params, threads=1)
        check_timing(one, "engine")
        two = simulate(log, params, threads=2)
        assert _same(one, two), "1 and 2 threads differ"
        other = simulate(log, tiny_params(network=1 - network, noc_multicast=tree), threads=1)
        assert other.energy_fj == one.energy_fj, "energy depends on the network model"
        return True

    expect(guarded(body), what=f"random_log steps={steps} seed={seed} net={network} tree={tree}")


EVENT_FIELDS = ["op", "fmt", "fmt2", "unit", "tile", "step", "a", "b", "peer_first", "peer_count",
                "c", "src0.buf", "src0.off", "src0.len", "src1.buf", "src1.off", "src1.len",
                "dst.buf", "dst.off", "dst.len", "flags"]
BUFFER_FIELDS = ["kind", "where", "base", "size"]


def _field_values(dtype):
    dt = np.dtype(dtype)
    info = np.iinfo(dt)
    fixed = [v for v in (0, 1, 2, 3, 8, 9, 63, 64, 65, 255, 256, 4096, 65535, 2**31, 2**32 - 1,
                         int(info.max) - 1, int(info.max), int(info.min))
             if info.min <= v <= info.max]
    return st.one_of(st.sampled_from(fixed), st.integers(int(info.min), int(info.max)))


def _event_dtype(field):
    f = field.split(".")
    d = EVENT_DTYPE[f[0]]
    return d[f[1]] if len(f) > 1 else d


CORRUPTION = st.one_of(
    st.sampled_from(EVENT_FIELDS).flatmap(lambda f: st.tuples(
        st.just("event"), st.just(f), _field_values(_event_dtype(f)))),
    st.sampled_from(BUFFER_FIELDS).flatmap(lambda f: st.tuples(
        st.just("buffer"), st.just(f), _field_values(np.uint32 if f in ("kind", "where")
                                                     else np.uint64))),
    st.tuples(st.just("peer"), st.just("id"), _field_values(np.uint32)),
    st.tuples(st.just("truncate"), st.sampled_from(["peers", "buffers"]), st.integers(0, 3)))


@examples(150)
@given(st.integers(0, 10**6), st.lists(st.tuples(CORRUPTION, st.integers(0, 10**6)),
                                       min_size=1, max_size=3))
def test_corrupted_logs_are_named_errors_or_sane(seed, corruptions):
    params = tiny_params()
    log = random_log(params, n_steps=3, seed=seed)
    ev, peers, bufs = log.events.copy(), log.peers.copy(), log.buffers.copy()
    for (where, field, value), pick in corruptions:
        if where == "event" and len(ev):
            f = field.split(".")
            rec = ev[pick % len(ev)]
            if len(f) > 1:
                rec[f[0]][f[1]] = value
            else:
                rec[f[0]] = value
        elif where == "buffer" and len(bufs):
            bufs[pick % len(bufs)][field] = value
        elif where == "peer" and len(peers):
            peers[pick % len(peers)] = value
        elif where == "truncate":
            if field == "peers":
                peers = peers[: max(0, len(peers) - 1 - value)]
            else:
                bufs = bufs[: max(0, len(bufs) - 1 - value)]
    bad = EventLog(ev, peers, bufs)

    def body():
        r = simulate(bad, params, threads=1)
        check_timing(r, "engine")
        r2 = simulate(bad, params, threads=2)
        assert _same(r, r2), "1 and 2 threads differ"
        return True

    expect(guarded(body), names=("event", "buffer", "peer", "log"),
           what=f"seed={seed} corruptions={corruptions}")


SCALARS = ["clock_ghz", "noc_hop_cycles", "noc_link_bytes_per_cycle", "noc_max_packet_bytes",
           "dma_inject_bytes_per_cycle", "dma_eject_bytes_per_cycle", "dimc_rows", "dimc_cols",
           "dimc_slots", "dimc_engines", "dimc_cell_bits", "dimc_input_bits_per_cycle",
           "dimc_pipeline_cycles", "dimc_io_bytes_per_cycle", "dimc_write_cycles_per_row",
           "sram_port_bytes_per_cycle", "sram_capacity_bytes", "vec_lanes", "dram_channels",
           "dram_bytes_per_cycle", "dram_latency_cycles", "host_chiplet", "host_tile",
           "host_bytes_per_cycle", "host_latency_cycles", "barrier_cycles", "n_chiplets",
           "tile_rows", "tile_cols", "fj_overhead_per_mac", "fj_dimc_row_write",
           "fj_sram_read_bit", "fj_sram_write_bit", "fj_noc_bit_hop", "fj_dram_bit", "fj_host_bit",
           "static_uw_tile", "static_uw_chiplet", "static_uw_card", "network", "noc_multicast"]
LISTS = ["vec_cycles", "fj_mac", "fj_vec_op", "dram_channel_tile"]
EDGE = st.one_of(st.sampled_from([0, 1, -1, 2, 3, 4, 63, 64, 4095, 4096, 4097, 65535, 65536,
                                  2**31 - 1, 2**31, U32, U32 + 1, I64 // 4, I64, I64 + 1]),
                 NOT_NUMBERS, st.sampled_from([1e-12, 0.5, float("nan"), float("inf"), 1e300]))


@examples(120)
@given(st.one_of(st.tuples(st.sampled_from(SCALARS), st.just(None), EDGE),
                 st.tuples(st.sampled_from(LISTS), st.integers(0, 12), EDGE)),
       st.integers(0, 100))
def test_params_at_and_past_their_limits(change, seed):
    name, index, value = change
    over = {}
    if index is None:
        over[name] = value
    else:
        lst = list(tiny_params()[name])
        lst[index % len(lst)] = value
        over[name] = lst
    params = tiny_params(**over)
    log = random_log(tiny_params(), n_steps=2, seed=seed)

    def body():
        r = simulate(log, params, threads=1)
        check_timing(r, "engine")
        base = simulate(log, tiny_params(), threads=1)
        if name.startswith(("fj_", "static_uw")) and isinstance(value, int) and value >= 0:
            assert r.makespan_cycles == base.makespan_cycles, "an energy figure changed the time"
            old = tiny_params()[name]
            old = old[index % len(old)] if index is not None else old
            assert (r.energy_fj >= base.energy_fj) if value >= old else \
                (r.energy_fj <= base.energy_fj), \
                f"{name} {old} -> {value}: energy {base.energy_fj} -> {r.energy_fj}"
        return True

    expect(guarded(body), names=(name,), what=f"{name}[{index}]={value!r} seed={seed}")


@examples(60)
@given(st.sampled_from(sorted(VOPS)), edges(1, U32).filter(lambda n: n <= U32), edges(1, 1 << 20),
       edges(1, U32))
def test_one_vector_op_takes_at_least_its_own_time(kind, n, lanes, cycles):
    """One VEC op of n elements: its time is at least ceil(n / lanes) x cycles per batch, or the
    run is refused by name (never a wrapped, short figure)."""
    vc = list(tiny_params()["vec_cycles"])
    vc[VOPS[kind]] = cycles
    params = tiny_params(vec_lanes=lanes, vec_cycles=vc)

    def body():
        b = LogBuilder()
        big = b.sram(max(1, min(n, U32 // 4)) * 4 if n * 4 <= U32 else U32)
        ln = b.buffers[big][3]
        b.vec(0, 0, kind, n, (big, 0, ln), src0=(big, 0, ln),
              src1=(big, 0, ln) if kind in ("add", "mul", "max") else None,
              row_len=n if kind.startswith("row_") else 0)
        r = simulate(b.build(), params, threads=1)
        check_timing(r, "engine")
        least = -(-n // lanes) * cycles
        assert r.makespan_cycles >= least, \
            f"VEC {kind} n={n} lanes={lanes} cycles={cycles}: {r.makespan_cycles} < {least}"
        return True

    expect(guarded(body), names=("vec_lanes", "vec_cycles", "event", "cycles", "large"),
           what=f"vec {kind} n={n} lanes={lanes} cycles={cycles}")


@examples(30)
@given(st.sampled_from(["threads", "progress", "log", "params"]),
       st.one_of(NOT_NUMBERS, st.sampled_from([-1, 2**63, 1.5, 1000, "2", {}, {"n_chiplets": 4}])))
def test_simulate_arguments_are_named(name, value):
    # a callable progress is the caller's code: its own exceptions are its own
    assume(not (name == "progress" and callable(value)))
    kw = dict(log=random_log(tiny_params(), n_steps=1, seed=1), params=tiny_params())
    kw[name] = value

    def body():
        r = simulate(kw.pop("log"), kw.pop("params"), **kw)
        check_timing(r, "engine")
        return True

    expect(guarded(body), names=(name, "n_chiplets", "params", "lacks"),
           what=f"simulate({name}={value!r})")
