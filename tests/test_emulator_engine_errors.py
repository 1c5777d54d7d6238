"""Engine errors: malformed logs and parameters raise clear exceptions; nothing crashes."""
import numpy as np
import pytest

from chipemu.emulator.errors import ChipemuError, ConfigError, EngineError
from chipemu.emulator.engine.core import simulate
from chipemu.emulator.events import EVENT_DTYPE, NO_BUF, EventLog
from chipemu.emulator.native import lib

from engine_logs import LogBuilder, link, mvm_chain_builder, random_log, tiny_params

P = tiny_params()


def run(b, **over):
    return simulate(b.build(), tiny_params(**over))


# ---- errors ----------------------------------------------------------------------------------------

def _log_with(field_values, peers=(), buffers=None):
    b = LogBuilder()
    X, Y = b.sram(256), b.sram(1024)
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=1, k=8)
    b.send(0, 0, [1], b.rng(X), b.rng(X))
    log = b.build()
    for k, v in field_values.items():
        log.events[1][k] = v
    if peers:
        log.peers = np.array(peers, np.uint32)
    if buffers is not None:
        log.buffers = buffers
    return log


@pytest.mark.parametrize("fields, words", [
    ({"op": 9}, ["event 1", "op9", "unknown op code 9"]),
    ({"tile": 16}, ["event 1", "send", "tile 16", "n_tiles = 16"]),
    ({"step": 0, "peer_count": 0}, ["event 1 (send", "peer_count"]),
    ({"peer_first": 5}, ["event 1 (send", "peers"]),
    ({"src0": (7, 0, 256)}, ["src0 buffer 7", "2 entries"]),
    ({"src0": (0, 128, 256)}, ["src0 ends at byte 384", "256 bytes"]),
    ({"dst": (NO_BUF, 0, 0)}, ["dst has no buffer"]),
    ({"a": 0}, ["0 bytes"]),
    ({"a": 128}, ["src0.len = 256", "a = 128"]),
])
def test_malformed_send(fields, words):
    with pytest.raises(EngineError) as ex:
        simulate(_log_with(fields), P)
    for w in words:
        assert w in str(ex.value), (w, str(ex.value))


def test_malformed_logs_name_event_op_and_problem():
    def fails(b, *words, log=None):
        with pytest.raises(EngineError) as ex:
            simulate(log if log is not None else b.build(), P)
        for w in words:
            assert w in str(ex.value), (w, str(ex.value))
        assert isinstance(ex.value, ChipemuError) and isinstance(ex.value, ValueError)

    def fresh():
        b = LogBuilder()
        return b, b.sram(256), b.sram(1024), b.dram(1024, channel=0), b.host(256)

    b, X, Y, D, H = fresh()
    b.send(0, 0, [99], b.rng(X), b.rng(X))
    fails(b, "event 0 (send", "peer #0 is tile 99")
    b, X, Y, D, H = fresh()
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=1, k=8, engine=2)
    fails(b, "event 0 (dimc_mvm", "engine (unit) 2", "dimc_engines = 2")
    b, X, Y, D, H = fresh()
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=1, k=8, slot=4)
    fails(b, "slot (c) 4")
    b, X, Y, D, H = fresh()
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=1, k=65)
    fails(b, "rows end at 65")
    b, X, Y, D, H = fresh()
    b.dimc_load(0, 0, 0, b.rng(X, 0, 64), rows=8, first_row=60)
    fails(b, "event 0 (dimc_load", "rows end at 68")
    b, X, Y, D, H = fresh()
    i = b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=1, k=8)
    b.events[i]["fmt"] = 13
    fails(b, "fmt = 13")
    b, X, Y, D, H = fresh()
    i = b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=1, k=8)
    b.events[i]["fmt2"] = -1
    fails(b, "fmt2 = -1", "required by dimc_mvm")
    b, X, Y, D, H = fresh()
    b.vec(0, 0, "copy", 4, b.rng(X), src0=b.rng(X))
    b.events[0]["c"] = 10
    fails(b, "vector op kind (c) 10")
    b, X, Y, D, H = fresh()
    b.dram_read(0, 0, b.rng(X, 0, 64), b.rng(Y, 0, 64))
    fails(b, "event 0 (dram_read", "src0 buffer has kind SRAM", "needs DRAM")
    b, X, Y, D, H = fresh()
    b.host_read(0, 0, b.rng(H, 0, 64), b.rng(D, 0, 64))
    fails(b, "dst buffer has kind DRAM", "needs SRAM")
    b, X, Y, D, H = fresh()
    b.vec(0, 1, "copy", 4, b.rng(X), src0=b.rng(X))
    b.vec(0, 0, "copy", 4, b.rng(X), src0=b.rng(X))
    fails(b, "event 1 (vec", "superstep 0 after superstep 1")
    b, X, Y, D, H = fresh()
    b.barrier(0, 0, [1, 2])
    fails(b, "event 0 (barrier", "does not contain the issuing tile 0")
    b, X, Y, D, H = fresh()
    b._ev("barrier", 0, 0, peers=[1, 0])
    fails(b, "not strictly ascending")
    b, X, Y, D, H = fresh()
    b.barrier(0, 0, [0, 1])
    b.barrier(1, 0, [0, 1])
    b.barrier(0, 1, [0, 1])
    fails(b, "event 2 (barrier", "tile 1 of the barrier group has no matching barrier")
    # a superstep's SEND into a buffer its destination reads after a barrier: a cycle
    b, X, Y, D, H = fresh()
    b.send(0, 0, [1], b.rng(X), b.rng(X))
    b.barrier(0, 0, [0, 1])
    b.barrier(1, 0, [0, 1])
    b.mvm(1, 0, b.rng(X), b.rng(Y), nvec=1, k=8)
    fails(b, "form a cycle")
    # buffer table: SRAM beyond capacity, DRAM channel out of range
    b, X, Y, D, H = fresh()
    b.sram(1 << 20)
    b.vec(0, 0, "copy", 4, b.rng(X), src0=b.rng(X))
    fails(b, "event log:", "buffer table entry 4 (SRAM) ends at byte", "beyond sram_capacity_bytes")
    b, X, Y, D, H = fresh()
    b.dram(64, channel=4)
    b.vec(0, 0, "copy", 4, b.rng(X), src0=b.rng(X))
    fails(b, "buffer table entry 4 (DRAM) is on channel 4; allowed: < ")
    # no D2D route: a device whose chiplets are not linked is refused up front, as Device does
    b, X, Y, D, H = fresh()
    b.send(0, 0, [4], b.rng(X), b.rng(X))
    with pytest.raises(ConfigError, match=r"links: chiplet 1 \(of n_chiplets = \d+\) is unreachable from chiplet 0"):
        simulate(b.build(), tiny_params(links=[]))


def test_wrong_log_types():
    with pytest.raises(ChipemuError):
        simulate("not a log", P)
    bad = EventLog(np.zeros(2, np.int64))
    with pytest.raises(ChipemuError, match="dtype"):
        simulate(bad, P)
    ok = LogBuilder().build()
    ok.peers = np.array([-1], np.int64)
    with pytest.raises(ChipemuError, match="uint32"):
        simulate(ok, P)


@pytest.mark.parametrize("change, words", [
    (lambda p: p.pop("noc_hop_cycles"), ["missing keys ['noc_hop_cycles']"]),
    (lambda p: p.update(bogus=1), ["unknown keys ['bogus']"]),
    (lambda p: p.update(n_chiplets=0), ["n_chiplets = 0", "1 <= n_chiplets"]),
    (lambda p: p.update(tile_rows=2.5), ["tile_rows = 2.5", "integer"]),
    (lambda p: p.update(clock_ghz=0), ["clock_ghz = 0"]),
    (lambda p: p.update(dimc_engines=300), ["dimc_engines = 300"]),
    (lambda p: p.update(vec_cycles=[1] * 9), ["vec_cycles", "10 integers"]),
    (lambda p: p.update(fj_mac=[-1] + [0] * 12), ["fj_mac[0] = -1"]),
    (lambda p: p.update(dram_channel_tile=[0, 1]), ["dram_channel_tile", "dram_channels = 1"]),
    (lambda p: p.update(dram_channel_tile=[4]), ["dram_channel_tile[0] = 4"]),
    (lambda p: p.update(host_tile=4), ["host_tile = 4"]),
    (lambda p: p.update(links=[link(0, 0, 0, 0)]), ["links[0] joins chiplet 0 to itself"]),
    (lambda p: p.update(links=[dict(link(0, 1, 0, 0), extra=1)]), ["links[0]", "exactly the keys"]),
    (lambda p: p.update(links=[link(0, 9, 0, 0)]), ["links[0].b = 9"]),
    (lambda p: p.update(version=99), ["version = 99"]),
    (lambda p: p.update(network=2), ["network = 2", "0 (packet), 1 (message)"]),
    (lambda p: p.update(n_links=3), ["n_links = 3"]),
    (lambda p: p.update(tile_rows=8192, tile_cols=8192), ["tile_cols"]),
])
def test_bad_params_raise_config_error(change, words):
    p = tiny_params()
    change(p)
    with pytest.raises(ConfigError) as ex:
        simulate(LogBuilder().build(), p)
    for w in words:
        assert w in str(ex.value), (w, str(ex.value))


def test_optional_version_n_links_and_network_accepted():
    p = tiny_params(version=lib.CHIPEMU_ENGINE_PARAMS_VERSION, n_links=4)
    assert simulate(mvm_chain_builder().build(), p).makespan_cycles == 108
    assert simulate(mvm_chain_builder().build(), dict(p, network=1)).makespan_cycles == 108


def test_random_garbage_never_crashes():
    rng = np.random.default_rng(7)
    base = random_log(P, n_steps=3, seed=1)
    for trial in range(200):
        ev = base.events.copy()
        raw = ev.view(np.uint8).reshape(len(ev), EVENT_DTYPE.itemsize)
        i = rng.integers(0, len(ev))
        raw[i, rng.integers(0, EVENT_DTYPE.itemsize)] = rng.integers(0, 256)
        try:
            r = simulate(EventLog(ev, base.peers, base.buffers), P)
            assert sum(r.energy_by_tile.values()) == r.energy_fj
        except EngineError:
            pass
