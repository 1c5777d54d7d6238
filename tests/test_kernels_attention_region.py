"""Attention in a region (kernels/region.py): the whole region plans and runs exactly as without
one; a sub-region is bit-exact in both twins and keeps every event on its tiles and DIMC slots."""
import numpy as np
import pytest

from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError
from chipemu.emulator.events import OPS
from chipemu.kernels import attention
from chipemu.kernels.attention.plan import plan_attention
from chipemu.kernels.attention.ref import attention_reference
from chipemu.kernels.region import Region

_CHOICES = ("path", "members", "blocks_per_tile", "replicas", "span", "mq", "chunks", "levels",
            "n_bias")

# (device, (b, hq, hkv, sq, skv, d), fmt, max_replicas) -> the choices of the planner before
# regions existed (kernels/attention/plan.py at 04f730b): the whole region must keep them
PLANS_BEFORE_REGIONS = {
    ("tiny", (1, 2, 2, 33, 33, 64), "mxint8", None): ("dimc", 1, 1, 2, 2, 32, 2, 0, 1),
    ("tiny", (1, 4, 1, 9, 100, 128), "mxint8", None): ("vector", 2, 1, 3, 2, 16, 3, 1, 1),
    ("corsair", (1, 8, 2, 40, 300, 128), "mxint8", None): ("dimc", 1, 5, 5, 2, 32, 5, 0, 1),
    ("corsair", (16, 32, 8, 1, 4112, 128), "mxint8", 1): ("dimc", 5, 13, 1, 640, 4, 1, 3, 1),
    ("corsair", (1, 8, 8, 2048, 2048, 128), "mxint8", None): ("dimc", 2, 16, 16, 16, 64, 32, 1, 0),
    ("corsair", (2, 2, 2, 20, 130, 64), "int8", None): ("dimc", 1, 3, 1, 4, 20, 1, 0, 1),
}


def _bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def _qkv(b, hq, hkv, sq, skv, d, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((b, hq, sq, d), dtype=np.float32),
            rng.standard_normal((b, hkv, skv, d), dtype=np.float32),
            rng.standard_normal((b, hkv, skv, d), dtype=np.float32))


@pytest.mark.parametrize("dev,shape,fmt,reps", sorted(PLANS_BEFORE_REGIONS, key=str))
def test_the_whole_region_plans_as_before(dev, shape, fmt, reps):
    d = Device.preset(dev)
    kw = {} if reps is None else dict(max_replicas=reps)
    whole = plan_attention(*shape, fmt, d, region=Region.whole(d), **kw)
    none = plan_attention(*shape, fmt, d, **kw)
    for name, value in vars(none).items():                  # field by field
        other = getattr(whole, name)
        assert np.array_equal(other, value) if name == "status" else other == value, name
    assert tuple(getattr(whole, f) for f in _CHOICES) == PLANS_BEFORE_REGIONS[dev, shape, fmt, reps]
    assert (whole.slot_base, whole.slots) == (0, d.tile.dimc.weight_slots)
    assert [whole.tile_of(u, m, r) for r in range(whole.replicas) for u in range(whole.units)
            for m in range(whole.members)] == list(range(whole.span * whole.replicas))


@pytest.mark.parametrize("dev,shape,fmt,causal", [
    ("tiny", (1, 2, 2, 33, 33, 64), "mxint8", True),
    ("corsair", (1, 8, 2, 40, 300, 128), "bfp16", False)])
def test_the_whole_region_runs_as_without_one(dev, shape, fmt, causal):
    q, k, v = _qkv(*shape)
    r0 = attention(q, k, v, is_causal=causal, fmt=fmt, device=dev)
    r1 = attention(q, k, v, is_causal=causal, fmt=fmt, device=dev,
                   region=Region.whole(Device.preset(dev)))
    assert np.array_equal(_bits(r0.output), _bits(r1.output))
    assert (r0.cycles, r0.energy_fj, r0.phases) == (r1.cycles, r1.energy_fj, r1.phases)
    assert r0.events.equals(r1.events)


SUB_REGIONS = [   # across chiplets; replicas; the vector path (no DIMC slot used)
    ("tiny", Region([1, 3], [0, 1, 3], (0, 2)), (1, 2, 2, 33, 100, 64), "mxint8", True),
    ("corsair", Region([2], range(0, 256, 3), (10, 26)), (1, 8, 2, 40, 300, 128), "bfp16", False),
    ("tiny", Region([0, 1], [2, 3], (1, 2)), (1, 4, 1, 9, 100, 128), "mxint8", True),
]


@pytest.mark.parametrize("dev,region,shape,fmt,causal", SUB_REGIONS)
def test_a_sub_region_is_bit_exact_and_stays_inside_it(dev, region, shape, fmt, causal):
    d = Device.preset(dev)
    q, k, v = _qkv(*shape, seed=3)
    kw = dict(is_causal=causal, fmt=fmt, device=dev, region=region)
    rc = attention(q, k, v, **kw)
    rn = attention(q, k, v, backend="numba", **kw)
    ref = attention_reference(q, k, v, rc.plan, is_causal=causal, device=rc.device)
    assert np.array_equal(_bits(rc.output), _bits(ref))
    assert np.array_equal(_bits(rn.output), _bits(ref))
    assert rc.events.equals(rn.events) and (rc.cycles, rc.energy_fj) == (rn.cycles, rn.energy_fj)
    ev, inside = rc.events.events, set(region.tile_ids(d))
    assert set(ev["tile"].tolist()) <= inside and set(rc.events.peers.tolist()) <= inside
    slots = ev["c"][np.isin(ev["op"], [OPS["dimc_load"], OPS["dimc_mvm"]])]
    if rc.plan["path"] == "dimc":
        assert region.s0 in slots and set(slots.tolist()) <= set(range(*region.slots))
    else:
        assert slots.size == 0
    rt = attention(q.shape, k.shape, v.shape, mode="timing", **kw)
    assert rt.events.equals(rc.events) and (rt.cycles, rt.energy_fj) == (rc.cycles, rc.energy_fj)


def test_regions_too_small_or_outside_the_device_are_named_before_any_work():
    with pytest.raises(CapacityError, match=r"the region has 2 \(region: chiplets 0, tiles "
                                            r"\[0, 3\], slots 0\.\.1\)"):
        attention((1, 2, 1, 64), (1, 2, 200, 64), (1, 2, 200, 64), device="tiny",
                  mode="timing", region=Region([0], [0, 3], (0, 2)), path="dimc")
    with pytest.raises(ConfigError, match="region tiles=4 includes 4"):
        attention((1, 1, 1, 64), (1, 1, 1, 64), (1, 1, 1, 64), device="tiny", mode="timing",
                  region=Region([0], [4], (0, 1)))
    with pytest.raises(ConfigError, match="region='all'"):
        attention((1, 1, 1, 64), (1, 1, 1, 64), (1, 1, 1, 64), device="tiny", mode="timing",
                  region="all")
