"""Tree multicast (noc_multicast = tree; csrc/engine/mcast.c, docs/engine.md section 4): routers
copy a SEND's packets along the union of the XY routes to its peers on the source's chiplet."""
import numpy as np
import pytest

from chipemu.emulator import Device
from chipemu.emulator.engine.core import simulate
from chipemu.kernels import matmul
from engine_logs import LogBuilder, corsair_params, random_log, tiny_params

UNICAST, TREE = 0, 1
BITS = 8 * 4096


def _fan(peers, src=5 * 16 + 5, nbytes=4096):
    b = LogBuilder()
    X = b.sram(nbytes)
    b.send(src, 0, peers, b.rng(X), b.rng(X))
    return b.build()


# on a 16x16 chiplet, from (5, 5): east to column 12, west to column 1; column 9 north to row 2
# and south to row 8, column 5 north to row 1 and south to row 9, column 12 north to row 3:
# 7 + 4 + 3 + 3 + 4 + 4 + 2 = 27 links (unicast routes: 39); one peer on chiplet 1 (35 hops)
PEERS = [5 * 16 + 9, 2 * 16 + 9, 8 * 16 + 9, 5 * 16 + 1, 9 * 16 + 5, 1 * 16 + 5, 3 * 16 + 12,
         5 * 16 + 5 + 256]


def test_the_tree_crosses_each_link_once_and_reads_once():
    p = corsair_params()
    uni = simulate(_fan(PEERS), dict(p, noc_multicast=UNICAST))
    tree = simulate(_fan(PEERS), dict(p, noc_multicast=TREE))
    hop = BITS * p["fj_noc_bit_hop"]
    assert uni.energy_by_component["noc"] == (39 + 35) * hop
    assert tree.energy_by_component["noc"] == (27 + 35) * hop
    # SRAM: one read for the tree and one for the remote stream; a write at every peer
    r, w = p["fj_sram_read_bit"], p["fj_sram_write_bit"]
    assert tree.energy_by_component["sram"] == BITS * (2 * r + 8 * w)
    assert uni.energy_by_component["sram"] == BITS * 8 * (r + w)
    assert tree.energy_by_component["d2d"] == uni.energy_by_component["d2d"]
    assert tree.end_cycles[0] < uni.end_cycles[0]


def test_both_network_models_time_a_lone_tree_alike():
    p = dict(corsair_params(), noc_multicast=TREE)
    pk, msg = (simulate(_fan(PEERS), dict(p, network=n)) for n in (0, 1))
    assert pk.end_cycles.tolist() == msg.end_cycles.tolist()
    assert pk.energy_fj == msg.energy_fj


@pytest.mark.parametrize("peers", [[1], [3], [0, 1], [1, 1, 2], [0]])
def test_one_destination_per_branch_is_unicast(peers):
    # a single peer (or the source itself, or a repeated peer) takes the unicast route
    b = LogBuilder()
    X = b.sram(1024)
    b.send(0, 0, [peers[0]], b.rng(X), b.rng(X))
    one = [simulate(b.build(), dict(tiny_params(), noc_multicast=m)) for m in (UNICAST, TREE)]
    assert one[0].end_cycles.tolist() == one[1].end_cycles.tolist()
    assert one[0].energy_fj == one[1].energy_fj
    fan = simulate(_fan(peers, src=0, nbytes=1024), dict(tiny_params(), noc_multicast=TREE))
    assert sum(fan.critical_path.cycles_by_class.values()) == fan.makespan_cycles


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("network", [0, 1])
def test_random_logs_sum_exactly_and_do_not_depend_on_threads(seed, network):
    params = dict(tiny_params(noc_max_packet_bytes=64), noc_multicast=TREE, network=network)
    log = random_log(params, n_steps=6, seed=seed)
    one = simulate(log, params, threads=1)
    two = simulate(log, params, threads=2)
    assert np.array_equal(one.end_cycles, two.end_cycles) and one.energy_fj == two.energy_fj
    assert one.energy_fj == sum(one.energy_by_component.values())
    assert one.energy_fj == int(one.energy_fj_event.sum()) + one.energy_by_component["static"]
    assert sum(one.critical_path.cycles_by_class.values()) == one.makespan_cycles
    uni = simulate(log, dict(params, noc_multicast=UNICAST))
    assert one.energy_by_component["noc"] <= uni.energy_by_component["noc"]


def test_matmul_activation_multicast_on_corsair():
    # the decode GEMV's activations go to every tile of a K-group: the tree saves link time
    base = Device.preset("corsair")
    runs = {m: matmul((16, 4096), (4096, 14336), mode="timing",
                      device=base.replace({"chiplet.noc.multicast": m})) for m in ("unicast", "tree")}
    uni, tree = runs["unicast"], runs["tree"]
    assert tree.phases["compute"]["cycles"] < uni.phases["compute"]["cycles"]
    assert tree.timing.energy_by_component["noc"] < uni.timing.energy_by_component["noc"]
    assert tree.device.engine_params()["noc_multicast"] == TREE
