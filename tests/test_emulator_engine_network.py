"""The message network model against the packet model (docs/engine.md section 4, "The message
model"): equal energy always, equal times where the models must agree, the documented departures
where they may not."""
import numpy as np
import pytest

from chipemu.emulator.engine.core import simulate
from engine_logs import LogBuilder, random_log, tiny_params

PACKET, MESSAGE = 0, 1


def both(log, params, **kw):
    return [simulate(log, dict(params, network=n), **kw) for n in (PACKET, MESSAGE)]


def dynamic(r):
    return r.energy_fj - r.energy_by_component["static"]


@pytest.mark.parametrize("seed", range(6))
def test_one_packet_messages_time_exactly_as_packets(seed):
    # every message of random_log is at most 256 B, one packet: the models are the same model
    log = random_log(tiny_params(), n_steps=6, seed=seed)
    p, m = both(log, tiny_params())
    assert np.array_equal(p.start_cycles, m.start_cycles)
    assert np.array_equal(p.end_cycles, m.end_cycles)
    assert p.energy_fj == m.energy_fj
    assert np.array_equal(p.resources["busy_cycles"], m.resources["busy_cycles"])
    assert p.critical_path.cycles_by_class == m.critical_path.cycles_by_class


@pytest.mark.parametrize("seed", range(6))
def test_long_messages_keep_every_byte_of_energy(seed):
    # the same bytes cross the same channels: per-event energy is equal; static energy follows time
    params = tiny_params(noc_max_packet_bytes=64)
    log = random_log(params, n_steps=6, seed=seed)
    p, m = both(log, params)
    assert np.array_equal(p.energy_fj_event, m.energy_fj_event)
    assert dynamic(p) == dynamic(m)
    sent = log.events["op"] == 4
    assert sent.any()
    for r in (p, m):      # the critical path still tiles the makespan exactly
        assert sum(r.critical_path.cycles_by_class.values()) == r.makespan_cycles


@pytest.mark.parametrize("dst, packet_bytes", [(1, 256), (3, 256), (8, 64), (13, 48)])
def test_a_lone_stream_is_delivered_when_the_packet_model_delivers_it(dst, packet_bytes):
    # uncontended, the message's head moves as its first packet and its tail at the route's
    # slowest channel, as the packet pipeline does: same cycle, across NoC and D2D (32 vs 16 B/cycle)
    params = tiny_params(noc_max_packet_bytes=packet_bytes)
    b = LogBuilder()
    X = b.sram(8192)
    b.send(0, 0, [dst], b.rng(X), b.rng(X))
    p, m = both(b.build(), params)
    assert p.end_cycles.tolist() == m.end_cycles.tolist()
    assert p.start_cycles.tolist() == m.start_cycles.tolist()


def test_multicast_streams_follow_each_other_at_the_source():
    b = LogBuilder()
    X = b.sram(4096)
    b.send(0, 0, [1, 2, 3], b.rng(X), b.rng(X))
    p, m = both(b.build(), tiny_params())
    assert p.end_cycles.tolist() == m.end_cycles.tolist()


def test_contended_link_shares_differ_only_in_who_finishes_first():
    # tiles 0 and 1 send 8 KB each to tile 3; both routes end on link 1->3 (32 B/cycle): the
    # packet model interleaves them (the one nearer the link ends at 386, the other at 514), the
    # message model serves one whole (256 cycles), then the other; the last delivery is (nearly)
    # the same cycle
    b = LogBuilder()
    A, B = b.sram(8192), b.sram(8192)
    b.send(0, 0, [3], b.rng(A), b.rng(A))
    b.send(1, 0, [3], b.rng(B), b.rng(B))
    p, m = both(b.build(), tiny_params())
    assert sorted(p.end_cycles.tolist()) == [386, 514]
    assert p.makespan_cycles == pytest.approx(m.makespan_cycles, rel=0.02)
    assert min(m.end_cycles) < 300
    assert dynamic(p) == dynamic(m)


def test_a_vector_op_interrupts_a_long_message_read_as_between_packets():
    # tile 0 reads 8 KB out of its SRAM port for a SEND while a VEC becomes ready; in both models
    # the VEC starts within one packet's read, and the message is stretched by the VEC's port time
    b = LogBuilder()
    BIG, X, Y = b.sram(8192), b.sram(2048), b.sram(2048)
    b.send(0, 0, [1], b.rng(BIG), b.rng(BIG))
    b.vec(0, 0, "add", 512, b.rng(Y), src0=b.rng(X), src1=b.rng(X))
    p, m = both(b.build(), tiny_params(sram_port_bytes_per_cycle=16))
    assert m.start_cycles[1] <= 256 // 16 + 1
    assert p.start_cycles[1] <= 256 // 16 + 1
    assert m.end_cycles[0] == pytest.approx(p.end_cycles[0], rel=0.02)


@pytest.mark.parametrize("threads", [1, 2])
def test_deterministic_whatever_the_thread_count(threads):
    params = tiny_params(noc_max_packet_bytes=64)
    log = random_log(params, n_steps=12, seed=3)
    one = simulate(log, dict(params, network=MESSAGE), threads=1)
    other = simulate(log, dict(params, network=MESSAGE), threads=threads)
    assert np.array_equal(one.end_cycles, other.end_cycles)
    assert one.energy_fj == other.energy_fj
    assert one.critical_path.cycles_by_class == other.critical_path.cycles_by_class


def test_a_vector_op_interrupts_a_long_message_write_as_between_packets():
    # tile 0 sends 8 KB to tile 1, whose slow SRAM port is writing it when tile 1's VEC gets ready
    b = LogBuilder()
    BIG, X, Y = b.sram(8192), b.sram(2048), b.sram(2048)
    b.send(0, 0, [1], b.rng(BIG), b.rng(BIG))
    b.mvm(1, 0, b.rng(X, 0, 64), b.rng(Y, 0, 1024), nvec=1, k=64)
    b.vec(1, 0, "add", 512, b.rng(X), src0=b.rng(Y), src1=b.rng(Y))
    p, m = both(b.build(), tiny_params(sram_port_bytes_per_cycle=16))
    assert m.start_cycles[2] - p.start_cycles[2] <= 256 // 16 + 1
    assert m.end_cycles[0] == pytest.approx(p.end_cycles[0], rel=0.02)
