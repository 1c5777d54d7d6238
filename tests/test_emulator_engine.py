"""The timing and energy engine (csrc/engine/, emulator/engine/core.py; semantics in docs/engine.md).

Device: tests/engine_logs.tiny_params() unless stated. Its numbers, used in the hand derivations:
  SRAM port 128 B/cycle, inject/eject 64, NoC link 32 (hop latency 2), D2D 16 (latency 20),
  DRAM 32 (latency 100), host 16 (latency 500), packets <= 256 B; local tiles 0 1 / 2 3.
  DIMC: 64x64 cells of 8 bits, 2 engines, 4 slots, 1 input bit/cycle (int8: 8 cycles per vector),
  pipeline 4, io 64 B/cycle, 1 cycle per weight row. Vector: 16 lanes, exp 4 cycles per batch.
Cut-through: a packet of p bytes takes channel i at s_i = max(ready_i, free_i) for
ser_i cycles (ceil(p / bw_i), less when it shares the last cycle its predecessor left partly
unused); ready_{i+1} = s_i + lat_i + max(0, ser_i - ser_{i+1}); delivered at
s_last + ser_last + lat_last.
"""
import numpy as np
import pytest

from chipemu.emulator.engine.core import (ENERGY_COMPONENTS, PATH_CLASSES, RESOURCE_CLASSES,
                                     resource_table, simulate)
from chipemu.emulator.events import OPS, EventLog

from engine_logs import LogBuilder, corsair_params, mvm_chain_builder, random_log, tiny_params

P = tiny_params()
SRAM_R, SRAM_W, NOC, D2D_L0, DRAM, HOST = 2, 3, 5, 100, 50, 70    # fJ per bit (per hop for NoC)


def run(b, **over):
    return simulate(b.build(), tiny_params(**over))


def path_sum(r):
    return sum(r.critical_path.cycles_by_class.values())


# ---- hand-derived timing -------------------------------------------------------------------------

def test_send_chain_three_hops_on_one_chiplet():
    # tile s -> s+1 in superstep s; each send reads X where the previous one wrote it (RAW).
    # 64 B: SRAM ser 1, inject 1, NoC link 2 (+2 latency), eject 1, SRAM 1.
    # 0->1 (1 link): link [0,2) -> eject ready 0+2+(2-1) = 3 -> SRAM 3 -> delivered 4
    # 1->2 (west, then south: 2 links): start 4; link1 4 -> 6; link2 6 -> eject 9 -> SRAM 9 -> 10
    # 2->3 (1 link): start 10; link 10 -> eject 13 -> 14
    b = LogBuilder()
    X = b.sram(64)
    for s in range(3):
        b.send(s, s, [s + 1], b.rng(X), b.rng(X))
    r = run(b)
    assert r.start_cycles.tolist() == [0, 4, 10]
    assert r.end_cycles.tolist() == [4, 10, 14]
    assert r.makespan_cycles == 14 and r.seconds == pytest.approx(14e-9)
    cp = r.critical_path
    assert cp.events.tolist() == [0, 1, 2] and cp.length == 3
    # per send: NoC = latency + the link's serialization beyond the eject's; SRAM = the final write
    assert cp.cycles_by_class["noc_link"] == 3 + 5 + 3 and cp.cycles_by_class["sram"] == 3
    assert cp.binding_class == "noc_link" and path_sum(r) == 14
    # energy: 3 sends of 512 bits: SRAM read + write each, 4 link traversals in all
    assert r.energy_by_component["sram"] == 3 * 512 * (SRAM_R + SRAM_W)
    assert r.energy_by_component["noc"] == 4 * 512 * NOC
    assert r.energy_fj == r.energy_by_op["send"] == 3 * 512 * 5 + 4 * 512 * NOC


def test_dimc_sequence_unit_order_accumulate_and_slot_hazard():
    b = LogBuilder()
    W, X, Y, X2, Y2 = b.sram(4096), b.sram(256), b.sram(1024), b.sram(256), b.sram(1024)
    b.dimc_load(0, 0, slot=0, src=b.rng(W), rows=64)                  # 64 rows x 1 = 64; SRAM 32
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=4, k=64)                     # waits for slot 0: [64, 100)
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=4, k=64, acc=True)           # io (256+2*1024)/64 = 36 -> 40
    b.mvm(0, 0, b.rng(X2), b.rng(Y2), nvec=4, k=64, engine=1, slot=1)  # own engine and slot: [0, 36)
    b.mvm(0, 0, b.rng(Y, 0, 256), b.rng(Y2), nvec=4, k=64, engine=1, slot=1)   # reads Y: after 140
    r = run(b)
    assert r.start_cycles.tolist() == [0, 64, 100, 0, 140]
    assert r.end_cycles.tolist() == [64, 100, 140, 36, 176]
    cp = r.critical_path
    assert cp.events.tolist() == [0, 1, 2, 4]
    assert cp.cycles_by_class["dimc_write"] == 64 and cp.cycles_by_class["dimc"] == 36 + 40 + 36
    assert cp.binding_class == "dimc" and path_sum(r) == 176
    macs = 4 * 64 * 64
    assert r.energy_by_component["dimc"] == 4 * macs * 100                     # int8 x int8: 100 fJ
    assert r.energy_by_component["overhead"] == 4 * macs * 10
    assert r.energy_by_component["dimc_write"] == 64 * 1000
    bits_read = 4096 * 8 + 4 * 256 * 8 + 1024 * 8                      # weights, 4 x, y (accumulate)
    assert r.energy_by_component["sram"] == bits_read * SRAM_R + 4 * 1024 * 8 * SRAM_W
    busy = {(row["class"], row["tile"], row["index"]): row["busy_cycles"] for row in r.resources}
    assert busy[("dimc", 0, 0)] == 36 + 40 and busy[("dimc", 0, 1)] == 72
    assert busy[("dimc_write", 0, 0)] == 64 and busy[("sram", 0, 0)] == 32


def test_cross_chiplet_send_through_d2d():
    # tile 0 (chiplet 0, local 0) -> tile 4 (chiplet 1, local 0): east to the PHY (local 1), D2D.
    # link [0,2) +2 -> D2D ready 2 (ser 4, latency 20) -> eject ready 2+20+(4-1) = 25 -> 26
    b = LogBuilder()
    X = b.sram(64)
    b.send(0, 0, [4], b.rng(X), b.rng(X))
    r = run(b)
    assert r.end_cycles.tolist() == [26]
    assert r.energy_by_component["d2d"] == 512 * D2D_L0
    assert r.energy_by_component["noc"] == 512 * NOC
    assert r.critical_path.cycles_by_class["d2d"] == 23 and path_sum(r) == 26
    d2d = r.resources[r.resources["class"] == "d2d"]
    assert d2d[(d2d["index"] == 0) & (d2d["chiplet"] == 0)]["busy_cycles"].tolist() == [4]


def test_dram_read_two_packets():
    # tile 3 reads 512 B from channel 0 (at local tile 0): 2 packets of 256 B; DRAM ser 8 + 100;
    # route 0 -> 1 -> 3 (links ser 8, +2 each), eject ser 4, SRAM ser 2.
    # pkt 0: DRAM [0,8) -> 100 -> 102 -> eject 104+4 = 108 -> SRAM 110 -> 112
    # pkt 1: DRAM [8,16) -> 108 -> 110 -> eject 112+4 = 116 -> SRAM 118 -> 120
    b = LogBuilder()
    D, S = b.dram(4096, channel=0), b.sram(512)
    b.dram_read(3, 0, b.rng(D, 0, 512), b.rng(S))
    r = run(b)
    assert r.end_cycles.tolist() == [120]
    assert r.critical_path.cycles_by_class == dict.fromkeys(PATH_CLASSES, 0) | {
        "dram": 108, "noc_link": 8, "eject": 2, "sram": 2}
    assert r.energy_by_component["dram"] == 4096 * DRAM
    assert r.energy_by_component["noc"] == 2 * 4096 * NOC
    assert r.energy_by_component["sram"] == 4096 * SRAM_W
    dma = r.resources[(r.resources["class"] == "dma") & (r.resources["tile"] == 3)]
    assert dma["busy_cycles"].tolist() == [16]                          # released when both left DRAM


def test_dram_write_and_host_read():
    # DRAM write, tile 1 -> channel 0 at tile 0: link [0,2) -> DRAM ready 2, ser 2, +100 -> 104
    # host read to tile 0 (the host tile): host ser 4, +500 -> eject 503 -> SRAM 503 -> 504
    b = LogBuilder()
    D, S, H = b.dram(1024, channel=0), b.sram(64), b.host(64)
    b.dram_write(1, 0, b.rng(S), b.rng(D, 0, 64))
    b.host_read(0, 0, b.rng(H), b.rng(S))
    r = run(b)
    assert r.end_cycles.tolist() == [104, 504]
    assert r.energy_by_tile["card"] == 512 * HOST                       # the host link is card-level
    assert r.energy_by_component["host"] == 512 * HOST
    assert r.energy_by_op["host_read"] == 512 * HOST + 512 * SRAM_W


def test_multicast_streams_in_peer_order():
    # One stream per destination, in peer order, all from tile 0 (256 B: SRAM 2, inject 4, links 8).
    # [1, 3]: to 1: inject [0,4), link 0->1 [0,8) +2, eject [6,10), SRAM [8,10) -> 10.
    #         to 3: SRAM [2,4), inject [4,8), link 0->1 (busy) [8,16), link 1->3 [10,18),
    #         eject ready 10+2+4 = 16, SRAM ready 18 -> 20.
    # [3, 1]: to 3: links [0,8), [2,10), eject [8,12), SRAM -> 12; to 1: link 0->1 [8,16),
    #         eject [14,18), SRAM [16,18) -> 18.
    def multicast(peers):
        b = LogBuilder()
        X = b.sram(256)
        b.send(0, 0, peers, b.rng(X), b.rng(X))
        return run(b)

    a, b = multicast([1, 3]), multicast([3, 1])
    assert a.end_cycles.tolist() == [20] and b.end_cycles.tolist() == [18]
    assert a.energy_fj == b.energy_fj == 2 * 2048 * (SRAM_R + SRAM_W) + 3 * 2048 * NOC
    inj = a.resources[(a.resources["class"] == "inject") & (a.resources["tile"] == 0)]
    assert inj["busy_cycles"].tolist() == [8]


# ---- overlap, contention, bandwidth ------------------------------------------------------------

def test_disjoint_tiles_overlap():
    alone = run(mvm_chain_builder((0,))).makespan_cycles
    both = run(mvm_chain_builder((0, 5))).makespan_cycles
    assert alone == both == 3 * 36                                       # max, not sum


def _fan_in(n_senders, **over):
    """3x3 chiplet; n of the 4 neighbours of tile 4 send it 4096 B (16 packets)."""
    dev = dict(n_chiplets=1, tile_rows=3, tile_cols=3, links=[], noc_link_bytes_per_cycle=64,
               dma_eject_bytes_per_cycle=32)
    dev.update(over)
    b = LogBuilder()
    X, IN = b.sram(4096), b.sram(4 * 4096)
    for k, t in enumerate([1, 3, 5, 7][:n_senders]):
        b.send(t, 0, [4], b.rng(X), b.rng(IN, k * 4096, 4096))
    return simulate(b.build(), tiny_params(**dev))


def test_eject_port_serializes_fan_in():
    one = _fan_in(1).makespan_cycles
    per = 4096 // 32                                                     # 128 cycles at the eject
    assert per <= one <= per + 12
    for n in (2, 3, 4):
        r = _fan_in(n)
        assert abs(r.makespan_cycles - (n * per + (one - per))) <= 4, n
        ej = r.resources[(r.resources["class"] == "eject") & (r.resources["tile"] == 4)]
        assert ej["busy_cycles"].tolist() == [n * per]
        assert r.critical_path.binding_class == "eject"


def test_halving_link_bandwidth_halves_a_bandwidth_bound_pattern_only():
    def bw_bound(link_bw):
        b = LogBuilder()
        X = b.sram(16384)
        b.send(0, 0, [3], b.rng(X), b.rng(X))                            # 2 links, 64 packets
        return run(b, noc_link_bytes_per_cycle=link_bw).makespan_cycles

    full, half = bw_bound(32), bw_bound(16)
    assert 512 <= full <= 530 and 1024 <= half <= 1045
    assert 1.9 < half / full < 2.05
    dimc = mvm_chain_builder((0, 1, 2, 3), n=5).build()
    assert simulate(dimc, tiny_params(noc_link_bytes_per_cycle=32)).makespan_cycles == \
        simulate(dimc, tiny_params(noc_link_bytes_per_cycle=16)).makespan_cycles == 5 * 36


def test_packets_of_different_messages_interleave_by_ready_time():
    # tile 0 streams 8 KB to tile 3 over links 0->1 and 1->3 (32 packets, 8 cycles each per link);
    # tile 1 sends 256 B to tile 3 over link 1->3 once its MVM is done (RAW, cycle 36). The short
    # message takes its turn on the shared link and the eject port; it is not queued behind the
    # long one, which ends near 32 * 8 cycles.
    b = LogBuilder()
    BIG, X, Y, IN = b.sram(8192), b.sram(256), b.sram(1024), b.sram(256)
    b.send(0, 0, [3], b.rng(BIG), b.rng(BIG))
    b.mvm(1, 0, b.rng(X), b.rng(Y), nvec=4, k=64)
    b.send(1, 0, [3], b.rng(Y, 0, 256), b.rng(IN))
    r = run(b)
    assert r.start_cycles[2] == 36
    assert r.end_cycles[2] <= 36 + 4 * 8 + 8
    assert r.end_cycles[0] >= 32 * 8 + 8


# ---- hazards and ordering ------------------------------------------------------------------------

def test_war_send_into_a_buffer_its_destination_reads_in_the_same_superstep():
    # phase 1: the delivery into tile 1's X comes after tile 1's own step-0 read of X [0, 36).
    # The send starts at once (its source is free); its packet (256 B: SRAM 2, inject 4, link 8,
    # eject 4) reaches tile 1's SRAM write at 6 + (4 - 2) = 8 and waits there until 36: [36, 38).
    b = LogBuilder()
    X, Y = b.sram(256), b.sram(1024)
    b.send(0, 0, [1], b.rng(X), b.rng(X))
    b.mvm(1, 0, b.rng(X), b.rng(Y), nvec=4, k=64)
    r = run(b)
    assert r.start_cycles.tolist() == [0, 0] and r.end_cycles.tolist() == [38, 36]
    cp = r.critical_path
    assert cp.events.tolist() == [1, 0] and cp.cycles_by_class["dimc"] == 36
    assert cp.cycles_by_class["sram"] == 2 and path_sum(r) == 38


def test_waw_across_units_and_raw_across_tiles_in_dram():
    b = LogBuilder()
    X, Z, D = b.sram(256), b.sram(6400), b.dram(4096, channel=0)
    b.vec(0, 0, "exp", 1600, b.rng(Z), src0=b.rng(Z))                    # 100 batches x 4 = 400
    b.mvm(0, 0, b.rng(X), b.rng(Z, 0, 1024), nvec=4, k=64)               # writes Z too: WAW
    b.dram_write(0, 0, b.rng(X, 0, 64), b.rng(D, 0, 64))
    b.dram_read(1, 0, b.rng(D, 0, 64), b.rng(X, 0, 64))                  # RAW on DRAM, other tile
    r = run(b)
    assert r.start_cycles[0] == 0 and r.end_cycles[0] == 400
    assert r.start_cycles[1] == 400
    assert r.start_cycles[3] == r.end_cycles[2]


def test_bsp_send_visible_in_the_next_superstep_only():
    # step 0: tile 0 sends into tile 1's Y while tile 1 reads Y (16 floats: SRAM (64+64)/128 -> 1,
    # vector 1 -> 1 cycle): the read is not delayed; the delivery may not overwrite Y before it
    # (WAR) and does not need to wait: it arrives at 3 (link +2, eject) and is written [3, 4).
    # step 1: tile 1 reads Y again: after the delivery.
    b = LogBuilder()
    X, Y, Z = b.sram(64), b.sram(64), b.sram(64)
    b.send(0, 0, [1], b.rng(X), b.rng(Y))
    b.vec(1, 0, "copy", 16, b.rng(Z), src0=b.rng(Y))
    b.vec(1, 1, "copy", 16, b.rng(Z), src0=b.rng(Y))
    r = run(b)
    assert r.start_cycles.tolist() == [0, 0, 4]
    assert r.end_cycles.tolist() == [4, 1, 5]


def test_crossing_sends_do_not_deadlock():
    # BSP-legal and physically fine: tile 0 sends Q to tile 1 and reads DRAM into R; tile 1 sends
    # its (old) Q into tile 0's R. Gating whole SENDs on their destination hazards would deadlock
    # (tile 0's DMA queue waits for its send, which waits for tile 1's send, which waits for the
    # DRAM read); gating only the destination writes does not.
    b = LogBuilder()
    Q, R, D = b.sram(256), b.sram(256), b.dram(1024, channel=0)
    b.send(0, 0, [1], b.rng(Q), b.rng(Q))
    b.dram_read(0, 0, b.rng(D, 0, 256), b.rng(R))
    b.send(1, 0, [0], b.rng(Q), b.rng(R))
    r = run(b)
    assert r.end_cycles[2] > r.end_cycles[1]                            # WAW: after the DRAM read
    assert path_sum(r) == r.makespan_cycles


def test_sram_hazards_are_on_physical_bytes_across_aliasing_buffers():
    b = LogBuilder()
    A = b.sram(1024)
    B = b.sram(256, base=512)                                           # aliases A[512:768]
    X, Y = b.sram(256), b.sram(1024)
    b.vec(0, 0, "exp", 256, b.rng(A), src0=b.rng(A))                    # writes A: 64 cycles
    b.mvm(0, 0, b.rng(B), b.rng(Y), nvec=4, k=64)                       # reads B = A's bytes: RAW
    b.mvm(0, 0, b.rng(X), b.rng(Y, 0, 512), nvec=4, k=64, engine=1)     # unrelated bytes of A? no: Y
    r = run(b)
    assert r.start_cycles[1] == r.end_cycles[0] == 64
    assert r.start_cycles[2] == r.end_cycles[1]                         # WAW on Y


def test_barrier_waits_for_the_group():
    b = LogBuilder()
    X, Y, Z = b.sram(256), b.sram(1024), b.sram(64)
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=4, k=64)                       # [0, 36)
    b.barrier(0, 0, [0, 1])
    b.vec(0, 0, "copy", 16, b.rng(Z, 0, 32), src0=b.rng(Z, 32, 32))
    b.barrier(1, 0, [0, 1])
    b.vec(1, 0, "copy", 16, b.rng(Z), src0=b.rng(Z))
    r = run(b)
    assert r.end_cycles[1] == r.end_cycles[3] == 36 + 10
    assert r.start_cycles[3] == 0 and r.start_cycles[1] == 36          # arrivals
    assert r.start_cycles[2] == r.start_cycles[4] == 46
    cp = r.critical_path
    assert cp.cycles_by_class["barrier"] == 10 and cp.cycles_by_class["dimc"] == 36
    assert path_sum(r) == r.makespan_cycles


def test_barriers_match_kth_instance_per_group():
    b = LogBuilder()
    X, Y = b.sram(256), b.sram(1024)
    for k in range(3):
        b.mvm(0, k, b.rng(X), b.rng(Y), nvec=4, k=64)
        b.barrier(0, k, [0, 5])
        b.barrier(5, k, [0, 5])
    r = run(b)
    bars = [i for i, e in enumerate(b.events) if e["op"] == OPS["barrier"]]
    assert [r.end_cycles[i] for i in bars] == [46, 46, 92, 92, 138, 138]


def test_dimc_load_blocks_the_engines_unless_writes_overlap_compute():
    b = LogBuilder()
    W, X, Y = b.sram(4096), b.sram(256), b.sram(1024)
    b.dimc_load(0, 0, slot=1, src=b.rng(W), rows=64)
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=4, k=64, slot=0)
    assert run(b).start_cycles[1] == 0
    assert run(b, dimc_write_overlaps_compute=0).start_cycles[1] == 64


def test_dma_queue_releases_at_injection():
    # two sends from tile 0 to different tiles: the second starts when the first's last packet
    # has left the inject port (4 packets of 256 B at 64 B/cycle = 16 cycles), not at its delivery
    b = LogBuilder()
    X = b.sram(1024)
    b.send(0, 0, [1], b.rng(X), b.rng(X))
    b.send(0, 0, [2], b.rng(X), b.rng(X))
    r = run(b)
    assert r.start_cycles[1] == 16 < r.end_cycles[0]


# ---- energy ----------------------------------------------------------------------------------------

def test_mac_energy_halved_for_4_bit_weights():
    b = LogBuilder()
    X, Y = b.sram(256), b.sram(2048)
    b.mvm(0, 0, b.rng(X), b.rng(Y), nvec=4, k=32, fmt="mxint8", wfmt="mxint4")
    r = run(b)
    macs = 4 * 32 * (64 * 8 // 4)                                       # 128 columns of 4-bit weights
    assert r.energy_by_component["dimc"] == macs * (100 * 4 // 8)
    assert r.energy_by_component["overhead"] == macs * 10 * 8 * 4 // 64  # per 8b x 8b MAC, scaled
    assert r.energy_by_component["sram"] == 256 * 8 * SRAM_R + 2048 * 8 * SRAM_W
    # 4 + max(4 * 8, (256 + 2048) / 64 = 36)
    assert r.end_cycles.tolist() == [40]


def test_static_energy_per_bucket():
    over = dict(static_uw_tile=1000, static_uw_chiplet=3001, static_uw_card=7, clock_ghz=0.8)
    r = run(mvm_chain_builder((0,), n=1), **over)
    ms = r.makespan_cycles
    assert ms == 36
    tile, chip, card = round(1000 * ms / 0.8), round(3001 * ms / 0.8), round(7 * ms / 0.8)
    assert (tile, chip, card) == (45000, 135045, 315)
    assert r.energy_by_component["static"] == 16 * tile + 4 * chip + card == r.energy_by_op["static"]
    dyn = r.energy_fj - r.energy_by_component["static"]
    assert r.energy_by_tile[1] == tile + chip // 4
    assert r.energy_by_tile[4] == tile + chip // 4 + chip % 4                 # a chiplet's tile 0
    assert r.energy_by_tile[0] == tile + chip // 4 + chip % 4 + dyn
    assert r.energy_by_tile["card"] == card == r.energy_by_chiplet["card"]
    assert r.energy_by_chiplet[2] == 4 * tile + chip


@pytest.mark.parametrize("seed", range(6))
def test_breakdowns_sum_exactly_and_path_sums_to_makespan(seed):
    over = dict(static_uw_tile=12345, static_uw_chiplet=54321, static_uw_card=777, clock_ghz=1.3)
    log = random_log(tiny_params(**over), n_steps=6, seed=seed)
    r = simulate(log, tiny_params(**over))
    for name, breakdown in r.energy_breakdown.items():
        assert sum(breakdown.values()) == r.energy_fj, name
    assert set(r.energy_by_component) == set(ENERGY_COMPONENTS)
    assert path_sum(r) == r.makespan_cycles == r.end_cycles.max()
    assert r.critical_path.binding_class == max(PATH_CLASSES, key=lambda k: (
        r.critical_path.cycles_by_class[k], -PATH_CLASSES.index(k)))
    assert np.all(r.start_cycles <= r.end_cycles) and np.all(r.start_cycles >= 0)
    path = r.critical_path.events
    assert len(path) == r.critical_path.length and path[-1] == int(np.argmax(r.end_cycles))
    assert np.all(r.resources["busy_cycles"] <= r.makespan_cycles)
    assert np.all((0 <= r.resources["utilization"]) & (r.resources["utilization"] <= 1))


def test_determinism():
    log = random_log(P, n_steps=8, seed=42)
    a, b = simulate(log, P, reuse=False), simulate(log, P, reuse=False)
    assert np.array_equal(a.start_cycles, b.start_cycles) and np.array_equal(a.end_cycles, b.end_cycles)
    assert a.makespan_cycles == b.makespan_cycles and a.energy_breakdown == b.energy_breakdown
    assert np.array_equal(a.resources, b.resources)
    assert np.array_equal(a.critical_path.events, b.critical_path.events)
    assert a.critical_path.cycles_by_class == b.critical_path.cycles_by_class


def test_empty_log():
    r = simulate(EventLog(), tiny_params(static_uw_card=1000))
    assert r.makespan_cycles == 0 and r.energy_fj == 0 and r.critical_path.binding_class is None
    assert len(r.start_cycles) == 0 and len(r.critical_path.events) == 0


def test_resource_table_numbering():
    t = resource_table(P)
    n_tile = 2 + 6
    assert len(t) == 16 * n_tile + 4 * 8 + 2 * 4 + 4 + 1
    assert t["class"][:n_tile].tolist() == ["dimc", "dimc", "dimc_write", "vector", "dma", "sram",
                                            "inject", "eject"]
    assert t["index"][:2].tolist() == [0, 1] and set(t["tile"][:16 * n_tile]) == set(range(16))
    noc = t[t["class"] == "noc_link"]
    assert noc["tile"][:2].tolist() == [0, 0] and noc["index"][:2].tolist() == [0, 2]   # E, S
    d2d = t[t["class"] == "d2d"]
    assert d2d["chiplet"].tolist() == [0, 1, 2, 3, 0, 2, 1, 3] and set(d2d["tile"]) == {-1}
    assert t[-1]["class"] == "host" and t[-1]["chiplet"] == -1
    assert set(t["class"]) == set(RESOURCE_CLASSES)


def test_corsair_sized_device_runs():
    p = corsair_params()
    assert len(resource_table(p)) == 2048 * 8 + 8 * 2 * 2 * 16 * 15 + 2 * 16 + 16 + 1
    b = LogBuilder()
    X = b.sram(256)
    b.send(0, 0, [7 * 256 + 200], b.rng(X), b.rng(X))                   # via a bridge and a package
    r = simulate(b.build(), p)
    assert r.makespan_cycles > 60 and r.energy_by_component["d2d"] > 0
