"""Microbenchmarks: twins agree, patterns reach their configured peaks, counts derived by hand."""
import numpy as np
import pytest

from chipemu.emulator import Device
from chipemu.emulator.numerics import layout
from chipemu.emulator.reference import dimc as dimc_ref
from chipemu.kernels import microbench as mb

TINY = Device.preset("tiny")
CORSAIR = Device.preset("corsair")


def _same(r1, r2):
    assert r1.events.equals(r2.events)
    assert r1.cycles == r2.cycles and r1.energy_fj == r2.energy_fj
    assert r1.energy_breakdown == r2.energy_breakdown


@pytest.mark.parametrize("name", list(mb.MICROBENCHMARKS))
def test_twins_and_modes_agree_on_tiny(name):
    fn = mb.MICROBENCHMARKS[name]
    kw = {"iterations": 4, "nvec": 8} if name == "dimc_peak" else {}
    c = fn(TINY, backend="c", **kw)
    n = fn(TINY, backend="numba", **kw)
    t = fn(TINY, backend="c", mode="timing", **kw)
    _same(c, n)
    _same(c, t)
    if c.output is not None:
        np.testing.assert_array_equal(np.asarray(c.output), np.asarray(n.output))
    assert c.metrics == n.metrics == t.metrics


def test_dimc_peak_output_is_the_reference_mvm():
    r = mb.dimc_peak(TINY, nvec=4, iterations=3, tiles=[0, 5])
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 64)).astype(np.float32)
    x = rng.standard_normal((4, 64)).astype(np.float32)
    wb, xb = layout.encode_weights(w, "mxint8"), layout.encode_rows(x, "mxint8")
    want = None
    for _ in range(3):                                                  # three MVMs, accumulated
        want = dimc_ref.mvm_bytes(xb, "mxint8", wb, "mxint8", 4, 64, 64, y_old=want)
    np.testing.assert_array_equal(r.output.view(np.uint32), want.view(np.uint32))


def test_dimc_peak_cycles_by_hand_on_tiny():
    # tiny: 64x64 array, 1 engine, 1 input bit/cycle -> mxint8 takes 8 cycles per vector;
    # pipeline 4 cycles; the engines' I/O path moves 64 B/cycle.
    # x: 2 vectors x (64 codes + 2 scales) = 132 B; y: 2 x 64 float32 = 512 B.
    # MVM 1 (no accumulate): max(2 x 8 = 16, ceil((132 + 512) / 64) = 11) + 4 = 20 cycles.
    # MVMs 2, 3 (accumulate, y read too): max(16, ceil((132 + 1024) / 64) = 19) + 4 = 23 cycles.
    # In order on one engine: 20 + 23 + 23 = 66 cycles of compute phase.
    r = mb.dimc_peak(TINY, nvec=2, iterations=3, tiles=[0], mode="timing")
    assert r.phases["compute"]["cycles"] == 66


def test_contention_free_patterns_reach_the_configured_peak():
    for dev in (TINY, CORSAIR):
        for fn in (mb.noc_bandwidth, mb.d2d_bandwidth, mb.dram_stream):
            r = fn(dev, mode="timing")
            assert 0.98 <= r.metrics["fraction_of_configured"] <= 1.0, (dev.name, fn.__name__, r.metrics)
    # tiny's DIMC I/O path (64 B/cycle) cannot feed accumulating MVMs at full rate; corsair's can
    r = mb.dimc_peak(CORSAIR, mode="timing", nvec=256, iterations=8)
    assert 0.98 <= r.metrics["fraction_of_peak"] <= 1.0, r.metrics


def test_hotspot_senders_serialize_at_the_eject_port():
    one = mb.noc_hotspot(TINY, senders=1, mode="timing").cycles
    three = mb.noc_hotspot(TINY, senders=3, mode="timing").cycles
    assert three == pytest.approx(3 * one, rel=0.05)
    r = mb.noc_hotspot(CORSAIR, senders=8, nbytes=65536, mode="timing")
    assert r.metrics["ratio_to_one_serialization"] == pytest.approx(8, rel=0.05)


@pytest.mark.parametrize("dev", [TINY, CORSAIR], ids=["tiny", "corsair"])
def test_ping_pong_latency_is_the_configured_hop_latency(dev):
    # one packet: hops x hop_cycles on the links (ports have latency 0), plus its serialization
    # on the last channel (one cycle for 64 bytes at >= 64 B/cycle ... ceil(64 / 32) on tiny).
    r = mb.ping_pong(dev, nbytes=64, rounds=4, mode="timing")
    ser = -(-64 // dev.tile.sram.port_bytes_per_cycle)
    assert r.metrics["one_way_cycles"] == r.metrics["hops"] * dev.chiplet.noc.hop_cycles + ser


RING8 = Device.preset("ring8")
# tiny's ring 0-1-2-3-0 listed so that chiplet 0 reaches 2 through 1 but 2 reaches 0 through 3
# (breadth-first over links in index order); PHYs make the two ways 3 and 4 NoC hops
SKEW_LINKS = [{"a": 0, "b": 1, "phy_a": 1, "phy_b": 0}, {"a": 2, "b": 3, "phy_a": 0, "phy_b": 0},
              {"a": 1, "b": 2, "phy_a": 3, "phy_b": 0}, {"a": 3, "b": 0, "phy_a": 3, "phy_b": 3}]
TINY_SKEW = TINY.replace({"chiplet.phy_tiles": [0, 1, 3], "chiplets.topology": "links",
                          "chiplets.links": SKEW_LINKS})


@pytest.mark.parametrize("dev, a, b, hops, d2d, back", [
    # tiny (2x2 tiles; links 0-1 on PHYs 1/1, 0-2 on 2/1, 1-3 on 2/1): chiplet 0 reaches 3 over
    # link 0-1 (lowest index), then 1-3: tile 0 -> PHY 1 (1 hop), arrive at 1, -> PHY 2 (2 hops),
    # arrive at chiplet 3's tile 1, -> tile 3 (1 hop); back over 1-3 then 0-1, also 1 + 2 + 1
    (TINY, 0, 15, 4, 2, 4),
    (TINY, 0, 5, 1, 1, 1),              # tile 0 -> PHY 1, arrive at chiplet 1's tile 1 = b
    # ring8 (8x8 tiles, chiplet k's links to k-1 and k+1 on PHYs (3,0) and (3,7), chiplet 0's
    # the other way round): (0,0) -> (3,0) 3 hops, (3,0) -> (3,7) 7, (3,0) -> (7,7) 11
    (RING8, 0, 2 * 64 + 63, 21, 2, 21),
    (TINY_SKEW, 0, 8, 3, 2, 4),         # 1 + 2 + 0 there; back 0 + 2 + 2 through chiplet 3
], ids=["tiny_corner", "tiny_neighbour", "ring8", "tiny_skewed_ring"])
def test_ping_pong_across_chiplets_by_hand(dev, a, b, hops, d2d, back):
    # one 64-byte packet; SRAM ports, DMA ports and NoC links all take ser = 64 / their rate cycles
    # (tiny 2, ring8 1): hops x hop_cycles, plus per D2D hop its latency and the extra cycles of
    # its slower serialization (tiny 64 / 16 = 4: 2 more; ring8 none), plus ser at the end
    r = mb.ping_pong(dev, a=a, b=b, nbytes=64, rounds=4, mode="timing")
    m = r.metrics
    assert (m["hops"], m["d2d_hops"], m["hops_back"], m["same_chiplet"]) == (hops, d2d, back, False)
    ser = -(-64 // dev.tile.sram.port_bytes_per_cycle)
    link = dev.d2d_links()[0]
    per_d2d = link.latency_cycles + max(0, -(-64 // link.bytes_per_cycle) - ser)
    hop = dev.chiplet.noc.hop_cycles
    assert m["one_way_cycles"] == ((hops + back) / 2) * hop + d2d * per_d2d + ser


def test_halving_noc_links_halves_noc_bandwidth_only():
    half = CORSAIR.replace("chiplet.noc.link_bytes_per_cycle", CORSAIR.chiplet.noc.link_bytes_per_cycle // 2)
    a, b = mb.noc_bandwidth(CORSAIR, mode="timing"), mb.noc_bandwidth(half, mode="timing")
    assert b.metrics["achieved_bytes_per_cycle"] == pytest.approx(a.metrics["achieved_bytes_per_cycle"] / 2, rel=0.01)
    p, q = (mb.dimc_peak(d, mode="timing", tiles=range(16)) for d in (CORSAIR, half))
    assert p.phases["compute"]["cycles"] == q.phases["compute"]["cycles"]


def test_corsair_peaks_and_power():
    for fmt, pf in (("mxint8", 2.4), ("mxint4", 9.6)):
        r = mb.dimc_peak(CORSAIR, fmt=fmt, mode="timing", nvec=256, iterations=8)
        assert r.metrics["achieved_tflops"] / 1000 == pytest.approx(pf, rel=0.02)
    r = mb.dimc_peak(CORSAIR, mode="timing", nvec=256, iterations=8)
    assert r.metrics["compute_power_w"] <= 600.0


def test_bad_parameters_are_clear_errors():
    from chipemu.emulator.errors import ShapeError
    with pytest.raises(ShapeError, match=r"senders=9 is out of range; allowed: an integer in \[1, 3\]"):
        mb.noc_hotspot(TINY, senders=9)
    with pytest.raises(ShapeError, match="link=99"):
        mb.d2d_bandwidth(TINY, link=99)
    with pytest.raises(ShapeError, match="two different tiles"):
        mb.ping_pong(TINY, a=1, b=1)


def test_corsair_overhead_is_the_calibrated_fit():
    """The shipped overhead is the largest whole fJ keeping dimc_peak <= 600 W in MXINT8 and
    MXINT4 (docs/calibration.md): it fits, and one fJ more does not."""
    from chipemu.kernels.microbench.calibration import peak_power
    fit = CORSAIR.power.overhead_fj_per_mac
    powers = [peak_power(CORSAIR, f) for f in ("mxint8", "mxint4")]
    assert max(powers) <= 600.0
    above = CORSAIR.replace("power.overhead_fj_per_mac", fit + 1)
    assert max(peak_power(above, f) for f in ("mxint8", "mxint4")) > 600.0


def test_three_hop_send_chain_on_tiny_by_hand():
    # tiny: 2x2 tiles per chiplet, 1-cycle hops, 32 B/cycle links and ports (latency 0).
    # 64 bytes = one packet, 2 cycles on every 32 B/cycle channel; cut-through: each hop adds its
    # latency, the packet ends 2 cycles after its head: one send 0->1 (1 hop) takes 1 + 2 = 3.
    # Chain 0 -> 1 -> 3 -> 2 in supersteps 0, 1, 2 (each reads what the last one wrote: RAW):
    # 3 + 3 + 3 = 9 cycles.
    from chipemu.kernels.scaffold import finish, machine_for
    from chipemu.kernels.microbench.params import SEND
    from chipemu.kernels.microbench.tile import SEND_TABLE
    m = machine_for(TINY, mode="timing")
    buf = m.alloc_sram("b", 64)
    for s, d in ((0, 1), (1, 3), (3, 2)):
        table = SEND.build(TINY.n_tiles, dict(src_buf=buf, dst_buf=buf, msg_bytes=64),
                           {s: (dict(active=1, dst_tile=d, dst_off=0), [])})
        m.launch(SEND_TABLE, [s], table, events_per_tile=1)
    r = finish(m, TINY, kernel="chain")
    assert r.timing.end_cycles.tolist() == [3, 6, 9] and r.cycles == 9


# ---- issue 11: strict arguments, refusing before work, device capacities ----

@pytest.mark.parametrize("name,kw,err,match", [
    ("d2d_bandwidth", dict(link=True), "ShapeError", r"link=True \(bool\) is not an integer"),
    ("noc_bandwidth", dict(nbytes=0), "ShapeError", r"nbytes=0 is out of range; allowed: an integer in \[1,"),
    ("ping_pong", dict(rounds=-2), "ShapeError", r"rounds=-2 is out of range; allowed: an integer in \[1, "),
    ("ping_pong", dict(rounds=0), "ShapeError", r"rounds=0 is out of range"),
    ("dimc_peak", dict(iterations=0), "ShapeError", r"iterations=0 is out of range"),
    ("noc_bandwidth", dict(chiplet=4), "ShapeError", r"chiplet=4 is out of range; allowed: an integer in \[0, 3\]"),
    ("noc_hotspot", dict(chiplet=-1), "ShapeError", r"chiplet=-1 is out of range"),
    ("dimc_peak", dict(nvec=0), "ShapeError", r"^nvec=0 is out of range"),
    ("dram_stream", dict(reps=-1), "ShapeError", r"^reps=-1 is out of range"),
    ("dimc_peak", dict(iterations=1e9), "ShapeError", r"iterations=1000000000.0 \(float\)"),
    ("dimc_peak", dict(nvec="4"), "ShapeError", r"nvec='4' \(str\)"),
    ("dimc_peak", dict(tiles=[0, 0]), "ShapeError", r"names a tile twice"),
    ("dimc_peak", dict(tiles=[True]), "ShapeError", r"tiles=True \(bool\)"),
    ("dimc_peak", dict(seed=1.5), "ShapeError", r"seed=1.5 \(float\)"),
    ("dimc_peak", dict(fmt=5), "FormatError", r"fmt=5 \(int\) is not a format name"),
    ("dimc_peak", dict(weight_fmt="fp32"), "FormatError", r"weight_fmt='fp32' is not a DIMC format"),
    ("noc_hotspot", dict(senders=2.0), "ShapeError", r"senders=2.0 \(float\)"),
    ("ping_pong", dict(a=True), "ShapeError", r"a=True \(bool\)"),
    ("ping_pong", dict(b="0"), "ShapeError", r"b='0' \(str\)"),
    ("dram_stream", dict(nbytes=False), "ShapeError", r"nbytes=False \(bool\)"),
    ("dram_stream", dict(mode="fast"), "ConfigError", r"mode='fast' is not allowed"),
    ("ping_pong", dict(backend=None), "BackendError", r"backend=None is not allowed"),
    ("noc_bandwidth", dict(bogus=1), "ConfigError", r"noc_bandwidth: unknown argument bogus; allowed: backend, chiplet"),
])
def test_bad_keywords_name_the_argument_before_any_work(name, kw, err, match, monkeypatch):
    from chipemu.emulator import errors
    from chipemu.kernels.microbench import plan

    def no_machine(*a, **k):
        raise AssertionError("a Machine was built before the arguments were checked")
    monkeypatch.setattr(plan, "Machine", no_machine)
    with pytest.raises(getattr(errors, err), match=match):
        mb.MICROBENCHMARKS[name](TINY, **kw)


def test_dram_capacity_is_enforced():
    from chipemu.emulator.errors import CapacityError
    with pytest.raises(CapacityError, match=r"needs 2,097,152 bytes of one DRAM channel; device "
                                            r"'tiny' has 1,048,576 per channel"):
        mb.dram_stream("tiny", nbytes=65536, reps=32)
    r = mb.dram_stream("tiny", nbytes=65536, reps=16, mode="timing")      # exactly one channel
    assert r.plan["reps"] == 16


@pytest.mark.parametrize("name,kw,figure", [
    ("dimc_peak", dict(iterations=3_000_000), "events"),       # 2048 tiles x 3 M MVMs
    ("dimc_peak", dict(iterations=10**9), "events"),
    ("dram_stream", dict(reps=10**7, nbytes=64), "events"),
])
def test_runs_beyond_the_budget_are_refused_up_front(name, kw, figure, monkeypatch):
    from chipemu.emulator.errors import CapacityError
    from chipemu.kernels.microbench import plan
    monkeypatch.setattr(plan, "Machine", None)      # refused before a Machine is built
    with pytest.raises(CapacityError, match=f"{name} .* would log about .* {figure}.*set_budget"):
        mb.MICROBENCHMARKS[name](CORSAIR, mode="timing", **kw)


def test_ping_pong_rounds_beyond_the_superstep_budget_are_refused_at_once(monkeypatch):
    from chipemu.emulator.errors import CapacityError
    from chipemu.emulator.runtime.budget import budget
    from chipemu.kernels.microbench import plan
    with pytest.raises(CapacityError, match=r"about 200,000,000 supersteps, beyond the budget of "
                                            r"1,000,000; .*max_supersteps"):
        mb.ping_pong("tiny", rounds=100_000_000)
    with budget(max_supersteps=7):                  # 2 x 4 supersteps: refused, then raised
        monkeypatch.setattr(plan, "Machine", None)
        with pytest.raises(CapacityError, match="about 8 supersteps"):
            mb.ping_pong("tiny", rounds=4, mode="timing")
        monkeypatch.undo()
    with budget(max_supersteps=8):
        assert mb.ping_pong("tiny", rounds=4, mode="timing").cycles > 0


def test_the_machine_refuses_a_superstep_past_the_budget():
    from chipemu.emulator import Machine
    from chipemu.emulator.errors import CapacityError
    from chipemu.emulator.runtime.budget import budget
    from chipemu.kernels.scaffold import barrier
    m = Machine(TINY.engine_params(), mode="timing")
    with budget(max_supersteps=2):
        for _ in range(2):
            barrier(m, range(m.n_tiles))
        with pytest.raises(CapacityError, match="superstep 2 .* about 3 supersteps"):
            barrier(m, range(m.n_tiles))
    assert m.step == 2


def test_budget_limits_are_figures_that_can_be_raised():
    from chipemu.emulator.errors import CapacityError
    from chipemu.emulator.runtime.budget import budget
    with budget(max_events=100):
        with pytest.raises(CapacityError, match="about 208 events, beyond the budget of 100"):
            mb.dimc_peak(TINY, nvec=2, iterations=8, mode="timing")       # 16 x (3+2+1+8)
    with budget(max_events=224):
        assert mb.dimc_peak(TINY, nvec=2, iterations=8, mode="timing").cycles > 0
    with budget(max_host_bytes=100_000):        # functional data is counted, timing holds none
        with pytest.raises(CapacityError, match="bytes on the host"):
            mb.dimc_peak(TINY, nvec=2, iterations=2)
        assert mb.dimc_peak(TINY, nvec=2, iterations=2, mode="timing").cycles > 0


@pytest.mark.parametrize("name", list(mb.MICROBENCHMARKS))
def test_timing_mode_allocates_no_data(name, monkeypatch):
    from chipemu.emulator.runtime.state import State
    from chipemu.kernels.microbench import api

    def refuse(*a, **k):
        raise AssertionError("timing mode made or wrote data")
    monkeypatch.setattr(api.np.random, "default_rng", refuse)
    monkeypatch.setattr(State, "write", refuse)
    built = []
    real = State.__init__

    def keep(self, *a, **k):
        real(self, *a, **k)
        built.append(self)
    monkeypatch.setattr(State, "__init__", keep)
    kw = {"iterations": 4} if name == "dimc_peak" else {}
    mb.MICROBENCHMARKS[name](TINY, mode="timing", **kw)
    assert built and all(s.host_bytes() == 0 and s._host.size == 0 for s in built)
