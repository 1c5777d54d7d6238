"""chipemu.kernels.matmul.api: twins vs the plan-replaying NumPy reference, bit for bit; counts equal
across backends and modes; hand-derived cycles; error bounds; floors; bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, FormatError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.kernels.matmul.api import matmul
from chipemu.kernels.matmul.plan import plan_matmul
from chipemu.kernels.matmul.ref import matmul_reference
from chipemu.kernels.region import Region

TINY = Device.preset("tiny")
CORSAIR = Device.preset("corsair")

# Pairwise over (device, shape, fmt, weight fmt): every DIMC format as activation and as weight,
# W4A8 and W8A4, odd sizes 1 / 31 / 33 / 1000, batched a, streamed weights, K-split groups.
CASES = [
    ("tiny", (64,), 64, 64, "mxint8", "mxint8"),
    ("tiny", (33,), 1000, 31, "mxint8", "mxint4"),       # W4A8, weights streamed in passes
    ("tiny", (2, 3, 31), 130, 200, "int8", "int8"),      # batched a, K-split groups
    ("tiny", (1,), 31, 1, "bfp12", "mxint8"),
    ("tiny", (70,), 520, 65, "bfp16", "bfp12"),          # several chunks and passes
    ("tiny", (300,), 33, 33, "mxint4", "bfp16"),
    ("corsair", (1000,), 33, 70, "mxint4", "bfp12"),
    ("tiny", (5, 7), 64, 300, "bfp12", "int8"),
    ("corsair", (33,), 1000, 31, "mxint4", "mxint4"),
    ("corsair", (31,), 300, 1000, "mxint8", "int8"),
    ("corsair", (1,), 1000, 33, "int8", "bfp16"),
    ("corsair", (4, 8), 256, 200, "bfp16", "mxint8"),
]


def _data(batch, k, n, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((*batch, k)).astype(np.float32)
    b = (rng.standard_normal((k, n)) * rng.uniform(0.01, 10, (1, n))).astype(np.float32)
    return a, b


def _bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


@pytest.mark.parametrize("dev,batch,k,n,fa,fw", CASES)
def test_twins_equal_reference_bit_for_bit(dev, batch, k, n, fa, fw):
    a, b = _data(batch, k, n)
    rc = matmul(a, b, fmt=fa, weight_fmt=fw, device=dev, backend="c")
    rn = matmul(a, b, fmt=fa, weight_fmt=fw, device=dev, backend="numba")
    ref = matmul_reference(a, b, rc.plan)
    assert rc.output.shape == (*batch[:-1], batch[-1], n) if len(batch) > 1 else (batch[0], n)
    assert np.array_equal(_bits(rc.output), _bits(ref))
    assert np.array_equal(_bits(rn.output), _bits(ref))
    assert rc.events.events.tobytes() == rn.events.events.tobytes()
    assert np.array_equal(rc.events.peers, rn.events.peers)
    assert (rc.cycles, rc.energy_fj) == (rn.cycles, rn.energy_fj)
    rt = matmul(a.shape, b.shape, fmt=fa, weight_fmt=fw, device=dev, mode="timing")
    assert rt.output is None
    assert rt.events.events.tobytes() == rc.events.events.tobytes()
    assert (rt.cycles, rt.energy_fj, rt.phases) == (rc.cycles, rc.energy_fj, rc.phases)


def test_nan_and_inf_follow_the_format_rules():
    a, b = _data((40,), 100, 70, seed=3)
    a[3, 5], a[7, 60], b[10, 2], b[90, 66] = np.nan, np.inf, -np.inf, np.nan
    for dev in ("tiny", "corsair"):
        rc = matmul(a, b, device=dev, backend="c")
        rn = matmul(a, b, device=dev, backend="numba")
        ref = matmul_reference(a, b, rc.plan)
        assert np.array_equal(_bits(rc.output), _bits(ref))
        assert np.array_equal(_bits(rn.output), _bits(ref))
        # a NaN/Inf in a block makes that block's scale NaN: rows 3 and 7 are NaN where the
        # block meets them; every NaN is the canonical quiet NaN
        nan = np.isnan(rc.output)
        assert nan[3].all() and nan[7].all() and nan[:, 2].all() and nan[:, 66].all()
        assert (_bits(rc.output[nan]) == 0x7FC00000).all()
        assert not nan[0, 0]


def test_corrupting_one_weight_cell_changes_exactly_its_block():
    a, b = _data((48,), 200, 150, seed=5)
    clean = matmul(a, b, device="tiny")
    C = clean.plan["cols"]
    seen = {}

    def hook(machine, p):
        # the first block of N-block 1 held by member 1 (or the owner) of replica 0: its cell
        # (row 5, column 7) feeds output column C + 7 for the rows of replica 0's chunks
        tile = p.group_base(1, 0) + (1 if p.g > 1 else 0)
        machine.corrupt_weight(tile, 0, 5, 7, 100)
        seen["rows"] = [r for c in range(p.chunks) if p.replica_of(c) == 0
                        for r in range(*p.chunk_rows(c))]
    bad = matmul(a, b, device="tiny", debug_hook=hook)
    diff = _bits(bad.output) != _bits(clean.output)
    assert list(np.flatnonzero(diff.any(axis=0))) == [C + 7]       # exactly the cell's column
    rows = np.flatnonzero(diff[:, C + 7])
    assert set(rows) <= set(seen["rows"]) and len(rows) >= len(seen["rows"]) - 2


def test_64_cubed_on_tiny_cycles_by_hand():
    """tiny: 64x64 arrays, mxint8 -> one weight block; chiplet 0 has 4 tiles, so the plan puts
    4 replicas of the block on tiles 0-3, and chunk c (16 rows) runs on tile c.
    Compute phase = each tile's multicast of its 16 activation rows to itself, then one MVM, the
    four tiles in parallel (no shared resource):
    - SEND of 16 rows x 66 bytes (64 codes + 2 block scales) = 1056 bytes in 64-byte packets:
      16 full packets + one of 32 bytes; each uses the tile's one SRAM port (32 B/cycle) to read
      and again to write on delivery: 16 x (2 + 2) + (1 + 1) = 66 cycles.
    - DIMC_MVM of 16 vectors: pipeline 4 + 16 x 8 cycles (8-bit inputs, 1 bit per cycle) = 132
      cycles (its I/O path, (1056 + 16*64*4) / 64 B = 81 cycles, is hidden).
    Total 66 + 132 = 198 cycles."""
    r = matmul((64, 64), (64, 64), device="tiny", mode="timing")
    assert r.plan["replicas"] == 4 and r.plan["mc"] == 16
    assert r.phases["compute"]["cycles"] == 198
    ev, tm = r.events.events, r.timing
    for step, cycles in ((2, 66), (3, 132)):
        sel = ev["step"] == step
        assert sel.sum() == 4 and (tm.end_cycles[sel] - tm.start_cycles[sel] == cycles).all()


# Error vs float64, as max |err| / max |exact| over the output, for N(0,1) data with K = 256:
# the documented bounds of docs/matmul.md.
BOUNDS = {"mxint8": 0.02, "bfp16": 0.02, "int8": 0.02, "mxint4": 0.3, "bfp12": 0.3}


@pytest.mark.parametrize("fmt", sorted(BOUNDS))
def test_error_vs_float64_within_documented_bound(fmt):
    a, b = _data((64,), 256, 96, seed=11)
    b = np.random.default_rng(12).standard_normal((256, 96)).astype(np.float32)
    r = matmul(a, b, fmt=fmt, device="tiny")
    exact = a.astype(np.float64) @ b.astype(np.float64)
    assert np.abs(r.output - exact).max() / np.abs(exact).max() <= BOUNDS[fmt]


@pytest.mark.parametrize("dev,shape", [
    ("tiny", (64, 64, 64)), ("tiny", (200, 300, 100)), ("tiny", (1, 512, 64)),
    ("corsair", (1, 4096, 1024)), ("corsair", (300, 700, 900)), ("corsair", (17, 64, 5000)),
    ("corsair", (2048, 1024, 512))])
def test_cycles_never_below_the_floor(dev, shape):
    m, k, n = shape
    r = matmul((m, k), (k, n), device=dev, mode="timing")
    f = r.metrics
    for key in ("mac_cycles", "mvm_cycles", "port_cycles", "latency_cycles", "floor_cycles"):
        assert r.phases["compute"]["cycles"] >= f[key], key


def test_decode_gemv_on_corsair_is_within_twice_its_floor_and_weights_never_move():
    r = matmul((1, 4096), (4096, 14336), mode="timing")
    assert r.metrics["floor_ratio"] <= 2.0
    by_op = r.metrics["compute_energy_fj_by_op"]
    assert by_op.get("dimc_load", 0) == 0 and by_op.get("host_read", 0) == 0
    assert by_op.get("dram_read", 0) == 0 and by_op["dimc_mvm"] > 0


def test_phases_separate_the_weight_load():
    r = matmul((8, 128), (128, 64), device="tiny", mode="timing")
    load, comp = r.phases["load"], r.phases["compute"]
    assert load["cycles"] > 0 and comp["cycles"] > 0
    assert load["cycles"] + comp["cycles"] <= r.cycles + 1
    ops = r.events.events["op"][np.isin(r.events.events["step"], comp["steps"])]
    assert 1 not in ops and 7 not in ops                   # no weight loads, no host reads


@settings(max_examples=12, deadline=None)
@given(m=st.integers(1, 40), k=st.integers(1, 300), n=st.integers(1, 140),
       fa=st.sampled_from(["mxint8", "mxint4", "bfp16", "bfp12", "int8"]),
       fw=st.sampled_from(["mxint8", "mxint4", "bfp16", "bfp12", "int8"]))
def test_hypothesis_shapes_on_tiny(m, k, n, fa, fw):
    a, b = _data((m,), k, n, seed=m * 7 + k)
    rc = matmul(a, b, fmt=fa, weight_fmt=fw, device=TINY, backend="c")
    rn = matmul(a, b, fmt=fa, weight_fmt=fw, device=TINY, backend="numba")
    assert np.array_equal(_bits(rc.output), _bits(rn.output))
    assert np.array_equal(_bits(rc.output), _bits(matmul_reference(a, b, rc.plan)))
    rt = matmul((m, k), (k, n), fmt=fa, weight_fmt=fw, device=TINY, mode="timing")
    assert (rt.cycles, rt.energy_fj) == (rc.cycles, rc.energy_fj)


@pytest.mark.parametrize("kwargs,exc,text", [
    (dict(a=np.zeros((4, 8), np.float32), b=np.zeros((9, 4), np.float32)), ShapeError, "K mismatch"),
    (dict(a=np.zeros((0, 8), np.float32), b=np.zeros((8, 4), np.float32)), ShapeError, "dimension 0 is 0"),
    (dict(a=np.zeros(8, np.float32), b=np.zeros((8, 4), np.float32)), ShapeError, "at least 2-D"),
    (dict(a=np.zeros((4, 8), np.float32), b=np.zeros((2, 8, 4), np.float32)), ShapeError, "2-D"),
    (dict(a=np.zeros((4, 8), np.int32), b=np.zeros((8, 4), np.float32)), ShapeError, "dtype int32"),
    (dict(a=(4, 8), b=(8, 4)), ShapeError, "works in timing mode"),
    (dict(a=np.zeros((4, 8), np.float32), b=np.zeros((8, 4), np.float32), fmt="fp32"),
     FormatError, "not a DIMC format"),
    (dict(a=np.zeros((4, 8), np.float32), b=np.zeros((8, 4), np.float32), weight_fmt="nope"),
     FormatError, "mxint8"),
])
def test_bad_input_is_named(kwargs, exc, text):
    kwargs.setdefault("device", "tiny")
    with pytest.raises(exc, match=text):
        matmul(**kwargs)


def test_weights_the_device_can_never_hold_raise_capacity_error():
    with pytest.raises(CapacityError, match="do not fit the device"):
        matmul((1, 8192), (8192, 8192), device="tiny", mode="timing")
    with pytest.raises(CapacityError, match="bytes of SRAM"):
        matmul((5000, 512), (512, 64), device="tiny", mode="timing")


def test_trace_shows_load_compute_reduction_and_transfers_per_tile(tmp_path):
    import json
    r = matmul((40, 300), (300, 100), device="tiny", mode="timing")
    assert r.plan["g"] > 1                                  # a K-split: the trace has reductions
    trace = json.loads(r.write_trace(tmp_path).read_text())["traceEvents"]
    names = {(e["name"], e.get("cat")) for e in trace}
    assert {("load", "phase"), ("compute", "phase")} <= names
    assert {"dimc_load", "dimc_mvm", "vec_add", "send", "host_read"} <= {n for n, _ in names}
    lanes = {e["args"]["name"] for e in trace if e["name"] == "thread_name"}
    assert any(name.endswith("phase") for name in lanes) and any("recv" in n for n in lanes)


# ---- regions (kernels/region.py) ----

# (g, kpt, nb_per_tile, replicas, span, kgroup, mc, chunks, parts, passes) of the planner before
# regions existed: the whole region must keep choosing them
PLANS_BEFORE_REGIONS = {
    ("tiny", 33, 1000, 31, "mxint8", "mxint4"): (4, 4, 1, 1, 4, 1, 33, 1, 1, 2),
    ("tiny", 70, 520, 65, "bfp16", "bfp12"): (2, 5, 1, 2, 2, 1, 35, 2, 1, 3),
    ("corsair", 2048, 2048, 2048, "mxint8", "mxint8"): (8, 4, 1, 8, 32, 4, 33, 63, 1, 1),
    ("corsair", 1000, 300, 5000, "mxint8", "int8"): (3, 2, 1, 8, 30, 9, 51, 20, 4, 1),
    ("ring8", 1, 4096, 4096, "mxint8", "mxint8"): (8, 4, 1, 1, 32, 4, 1, 1, 1, 1),
    ("ring8", 2048, 2048, 2048, "mxint8", "mxint8"): (4, 4, 1, 8, 8, 2, 81, 26, 1, 1),
}
_CHOICES = ("g", "kpt", "nb_per_tile", "replicas", "span", "kgroup", "mc", "chunks", "parts",
            "passes")


@pytest.mark.parametrize("dev,m,k,n,fa,fw", sorted(PLANS_BEFORE_REGIONS))
def test_the_whole_region_plans_as_before(dev, m, k, n, fa, fw):
    d = Device.preset(dev)
    whole = plan_matmul(m, k, n, fa, fw, d, region=Region.whole(d))
    assert whole == plan_matmul(m, k, n, fa, fw, d)
    assert tuple(getattr(whole, f) for f in _CHOICES) == PLANS_BEFORE_REGIONS[dev, m, k, n, fa, fw]
    assert (whole.tiles_per_chiplet, whole.slots, whole.slot_base) == (
        d.tiles_per_chiplet, d.tile.dimc.weight_slots, 0)
    for nb in range(whole.nb):            # the region's ids are the device's own
        assert whole.group_tiles(nb) == [whole.group_base(nb) + i for i in range(whole.g)]


@pytest.mark.parametrize("dev,shape,fa,fw", [
    ("tiny", (33, 1000, 31), "mxint8", "mxint4"), ("tiny", (40, 130, 200), "int8", "int8"),
    ("corsair", (31, 300, 1000), "mxint8", "int8"), ("ring8", (40, 700, 300), "bfp16", "mxint8")])
def test_the_whole_region_runs_as_without_one(dev, shape, fa, fw):
    m, k, n = shape
    a, b = _data((m,), k, n, seed=2)
    r0 = matmul(a, b, fmt=fa, weight_fmt=fw, device=dev)
    r1 = matmul(a, b, fmt=fa, weight_fmt=fw, device=dev, region=Region.whole(Device.preset(dev)))
    assert np.array_equal(_bits(r0.output), _bits(r1.output))
    assert (r0.cycles, r0.energy_fj, r0.phases) == (r1.cycles, r1.energy_fj, r1.phases)
    assert r0.events.equals(r1.events)


SUB_REGIONS = [   # K-split groups, owners of several blocks, replicas, streamed weights
    ("tiny", Region([1], [1, 3], (1, 2)), (33, 300, 70), "mxint8", "mxint4"),
    ("tiny", Region([0, 2], [0, 1, 3], (0, 1)), (20, 130, 200), "int8", "int8"),
    ("corsair", Region([1], range(0, 256, 2), (2, 6)), (31, 1000, 300), "mxint8", "mxint8"),
    ("ring8", Region([3, 5], [5, 9, 10, 40], (1, 3)), (40, 700, 300), "bfp12", "mxint8"),
]


@pytest.mark.parametrize("dev,region,shape,fa,fw", SUB_REGIONS)
def test_a_sub_region_is_bit_exact_and_stays_inside_it(dev, region, shape, fa, fw):
    m, k, n = shape
    a, b = _data((m,), k, n, seed=4)
    rc = matmul(a, b, fmt=fa, weight_fmt=fw, device=dev, region=region)
    rn = matmul(a, b, fmt=fa, weight_fmt=fw, device=dev, region=region, backend="numba")
    ref = matmul_reference(a, b, rc.plan)
    assert np.array_equal(_bits(rc.output), _bits(ref))
    assert np.array_equal(_bits(rn.output), _bits(ref))
    assert rc.events.equals(rn.events) and (rc.cycles, rc.energy_fj) == (rn.cycles, rn.energy_fj)
    ev, inside = rc.events.events, region.tile_ids(Device.preset(dev))
    assert set(ev["tile"].tolist()) <= set(inside)
    assert set(rc.events.peers.tolist()) <= set(inside)
    dimc = np.isin(ev["op"], [OPS["dimc_load"], OPS["dimc_mvm"]])
    assert set(ev["c"][dimc].tolist()) == set(range(*region.slots))
    rt = matmul((m, k), (k, n), fmt=fa, weight_fmt=fw, device=dev, region=region, mode="timing")
    assert rt.events.equals(rc.events) and rt.cycles == rc.cycles
    assert rc.cycles >= rc.metrics["floor_cycles"]


def test_a_region_short_of_slots_streams_and_one_short_of_sram_is_named():
    a, b = _data((24,), 256, 64, seed=6)
    one = Region([2], [3], (1, 2))                          # one tile, one slot, four blocks
    r = matmul(a, b, device="tiny", region=one)
    assert r.plan["passes"] == 4 and r.plan["blocks_per_tile"] == 4
    assert np.array_equal(_bits(r.output), _bits(matmul_reference(a, b, r.plan)))
    with pytest.raises(CapacityError, match=r"do not fit .*\(region: chiplets 2, tiles 3, "
                                            r"slots 1\.\.1\)"):
        matmul((1, 512), (512, 256), device="tiny", region=one, mode="timing")


@pytest.mark.parametrize("region,text", [
    (Region([4], [0], (0, 1)), "region chiplets=4 includes 4; allowed on device 'tiny'"),
    (Region([0], [7], (0, 1)), "region tiles=7 includes 7; allowed on device 'tiny': ids in 0..3"),
    (Region([0], [0], (0, 3)), "0 <= s0 < s1 <= 2"),
    ((0, 1), "region=(0, 1) (tuple); allowed: None"),
])
def test_bad_regions_are_named_before_any_work(region, text):
    with pytest.raises(ConfigError) as e:
        matmul(np.zeros((4, 8), np.float32), np.zeros((8, 4), np.float32), device="tiny",
               region=region)
    assert text in str(e.value)
