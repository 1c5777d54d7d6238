"""KV cache steps with their inputs on the device (kernels/attention/ingest.py): the queries,
keys and values float32 in SRAM on each unit's home are quantized and written into the DIMC on
the device; outputs and DIMC contents equal the host path's bit for bit in both twins, across
block boundaries, per-sequence lengths, several tokens per step, special values, every K/V
format, host and device steps mixed, a new scale; timing mode logs what functional mode does;
nothing comes over the host link but the mask and constants; bad use refused before work."""
import numpy as np
import pytest

from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.kernels import KVCache, attention
from chipemu.kernels.attention import ingest as I
from chipemu.kernels.attention.placed import place_kv_cache
from chipemu.kernels.card import Card
from chipemu.kernels.region import Region
from chipemu.kernels.scaffold import Run

B, H, HKV, D, ML, LENS = 2, 4, 2, 64, 200, [60, 30]


def _bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def _slots_equal(a, b, tiles, slots):
    for t in tiles:
        for s in slots:
            x, y = a.machine.dimc_state(t, s), b.machine.dimc_state(t, s)
            if x["fmt"] != y["fmt"] or (x["fmt"] is not None and (
                    not np.array_equal(x["codes"], y["codes"])
                    or np.asarray(x["scales"]).tobytes() != np.asarray(y["scales"]).tobytes())):
                return False
    return True


def _pair(backend="c", kv_fmt=None, fmt="mxint8", seed=0, **kw):
    rng = np.random.default_rng(seed)
    k = rng.standard_normal((B, HKV, 60, D), dtype=np.float32)
    v = rng.standard_normal((B, HKV, 60, D), dtype=np.float32)
    kw = dict(max_len=ML, heads=H, device="tiny", max_new=4, lengths=LENS, backend=backend,
              fmt=fmt, kv_fmt=kv_fmt, **kw)
    return KVCache(k, v, **kw), KVCache(k, v, device_inputs=True, **kw), rng


def _new(rng, sq):
    return (rng.standard_normal((B, H, sq, D), dtype=np.float32),
            rng.standard_normal((B, HKV, sq, D), dtype=np.float32),
            rng.standard_normal((B, HKV, sq, D), dtype=np.float32))


# Sq per step: sequence 0 crosses key block 1 -> 2 (64 -> 128 keys) in step 3, sequence 1
# fills its block 0 past 32 keys (a new MXINT8 scale group of V) on the way
STEPS = [1, 3, 4, 1, 2, 4, 4, 1]


@pytest.mark.parametrize("backend,kv_fmt,fmt", [("c", None, "mxint8"), ("numba", None, "mxint8"),
                                                ("c", "bfp16", "bfp16"), ("c", "int8", "int8"),
                                                ("numba", "mxint8", "mxint4")])
def test_device_steps_equal_host_steps_bit_for_bit(backend, kv_fmt, fmt):
    host, dev, rng = _pair(backend, kv_fmt, fmt)
    tiles = sorted(host.tiles)
    for i, sq in enumerate(STEPS):
        q, kn, vn = _new(rng, sq)
        if i == 2:                                    # special values through both paths
            q[0, 0, 0, :3] = [-0.0, np.inf, 1e-40]
            kn[1, 1, 0, 5], vn[0, 0, 1, 7] = -np.inf, np.nan
        rh = attention(q, kn, vn, cache=host)
        I.write_inputs(dev, q, kn, vn)
        rd = dev.step_on_device(sq)
        assert np.array_equal(_bits(rd.output), _bits(rh.output)), i
        assert _slots_equal(host, dev, tiles, range(2)), i
        assert list(rd.phases) == ["load", "ingest", "compute"]
        ev = rd.events.events
        host_reads = ev[ev["op"] == OPS["host_read"]]
        # only the mask's bias blocks and the softmax constants come from the host
        assert host_reads["a"].sum() < rh.events.events[
            rh.events.events["op"] == OPS["host_read"]]["a"].sum() / 4
    assert dev.lengths.tolist() == host.lengths.tolist() == [n + sum(STEPS) for n in LENS]


def test_host_and_device_steps_mix_and_a_new_scale_is_loaded_once():
    host, dev, rng = _pair()
    for i, sq in enumerate([2, 1, 3, 1, 4]):
        q, kn, vn = _new(rng, sq)
        scale = 0.2 if i >= 3 else None
        rh = attention(q, kn, vn, cache=host, scale=scale)
        if i % 2:                                     # the host path keeps the shadows current
            rd = attention(q, kn, vn, cache=dev, scale=scale)
        else:
            I.write_inputs(dev, q, kn, vn)
            rd = dev.step_on_device(sq, scale=scale)
            ev = rd.events.events
            reads = ev[(ev["op"] == OPS["host_read"]) & (ev["b"] == 0)]
            assert (reads["dst"]["buf"] == dev.bufs["qscale"]).any() == (i == 4)
        assert np.array_equal(_bits(rd.output), _bits(rh.output)), i
    assert _slots_equal(host, dev, sorted(host.tiles), range(2))


def test_timing_mode_logs_what_functional_mode_logs():
    _, dev, rng = _pair()
    t = KVCache((B, HKV, 60, D), (B, HKV, 60, D), max_len=ML, heads=H, device="tiny", max_new=4,
                lengths=LENS, mode="timing", device_inputs=True)
    assert t.fill.events.equals(dev.fill.events) and t.fill.cycles == dev.fill.cycles
    for sq in (1, 4, 3):
        I.write_inputs(dev, *_new(rng, sq))
        rf, rt = dev.step_on_device(sq), t.step_on_device(sq)
        assert rf.events.equals(rt.events) and (rf.cycles, rf.energy_fj) == (rt.cycles,
                                                                            rt.energy_fj)


def test_inputs_and_outputs_are_described_as_blocks():
    _, dev, rng = _pair()
    q, kn, vn = _new(rng, 3)
    I.write_inputs(dev, q, kn, vn)
    blocks = I.input_blocks(dev, 3)
    qt = q.transpose(0, 2, 1, 3).reshape(B * 3, H * D)             # [B*Sq, Hq*D]
    kt = kn.transpose(0, 2, 1, 3).reshape(B * 3, HKV * D)
    for name, full in (("q", qt), ("k", kt)):
        for tile, buf, off, r0, rows, c0, cols, stride in blocks[name]:
            got = dev.machine.read(buf, tile=tile, offset=off, nbytes=rows * stride * 4,
                                   dtype=np.float32).reshape(rows, stride)[:, :cols]
            assert np.array_equal(got, full[r0:r0 + rows, c0:c0 + cols])
    r = dev.step_on_device(3)
    out = np.full((B * 3, H * D), np.nan, np.float32)
    plan_dict = r.plan
    plan = dev._step_plan(3)[0]
    assert plan.sq == plan_dict["sq"] == 3
    for tile, buf, off, r0, rows, c0, cols, stride in I.output_blocks(plan, dev.bufs["y"]):
        out[r0:r0 + rows, c0:c0 + cols] = dev.machine.read(
            buf, tile=tile, offset=off, nbytes=rows * stride * 4, dtype=np.float32).reshape(
            rows, stride)[:, :cols]
    assert np.array_equal(out, r.output.transpose(0, 2, 1, 3).reshape(B * 3, H * D))


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_corsair_head_dim_128_across_a_block_boundary(backend):
    """D = 128: two K^T and two V slots per block; G = 4; keys 62..65 cross block 0 -> 1."""
    rng = np.random.default_rng(5)
    k = rng.standard_normal((1, 2, 62, 128), dtype=np.float32)
    v = rng.standard_normal((1, 2, 62, 128), dtype=np.float32)
    kw = dict(max_len=300, heads=8, device="corsair", max_new=4, backend=backend,
              region=Region([3], range(64), (40, 64)))
    host, dev = KVCache(k, v, **kw), KVCache(k, v, device_inputs=True, **kw)
    for sq in (1, 2, 4):
        q = rng.standard_normal((1, 8, sq, 128), dtype=np.float32)
        kn = rng.standard_normal((1, 2, sq, 128), dtype=np.float32)
        vn = rng.standard_normal((1, 2, sq, 128), dtype=np.float32)
        rh = attention(q, kn, vn, cache=host)
        I.write_inputs(dev, q, kn, vn)
        rd = dev.step_on_device(sq)
        assert np.array_equal(_bits(rd.output), _bits(rh.output))
        assert rd.cycles < rh.cycles
    assert _slots_equal(host, dev, sorted(host.tiles), range(40, 64))


def test_on_a_card_beside_a_placed_weight():
    rng = np.random.default_rng(2)
    card = Card("tiny")
    w = rng.standard_normal((64, 128), dtype=np.float32)
    x = rng.standard_normal((1, 64), dtype=np.float32)
    wq = card.place("wq", w)
    before = card.matmul(x, wq).output
    k = rng.standard_normal((1, 2, 60, D), dtype=np.float32)
    v = rng.standard_normal((1, 2, 60, D), dtype=np.float32)
    reg = Region([2, 3], range(4), (0, 2))
    kw = dict(max_len=ML, heads=H, max_new=2)
    dev = place_kv_cache(card, "kv", k, v, region=reg, device_inputs=True, **kw)
    alone = KVCache(k, v, device="tiny", region=reg, **kw)
    for _ in range(5):
        q = rng.standard_normal((1, H, 1, D), dtype=np.float32)
        kn = rng.standard_normal((1, 2, 1, D), dtype=np.float32)
        vn = rng.standard_normal((1, 2, 1, D), dtype=np.float32)
        I.write_inputs(dev, q, kn, vn)
        rd = dev.step_on_device(1)
        assert set(rd.events.events["tile"].tolist()) <= set(reg.tile_ids(card.device))
        assert np.array_equal(_bits(rd.output), _bits(attention(q, kn, vn, cache=alone).output))
        assert np.array_equal(_bits(card.matmul(x, wq).output), _bits(before))


def test_bad_use_is_refused_before_any_work():
    host, dev, rng = _pair()
    with pytest.raises(ConfigError, match="device_inputs=True"):
        host.step_on_device(1)
    with pytest.raises(ShapeError, match="sq=5 is out of range"):
        dev.step_on_device(5)
    with pytest.raises(ShapeError, match="head_dim=96 is not a multiple of the DIMC rows R=64"):
        KVCache((1, 1, 10, 96), (1, 1, 10, 96), max_len=64, device="corsair", mode="timing",
                device_inputs=True)
    with pytest.raises(Exception, match=r"does not fit the DIMC arrays of 'tiny' \(region: "
                                        r"chiplets 1, tiles 0\.\.3, slots 0\.\.1\)"):
        KVCache((1, 1, 10, 128), (1, 1, 10, 128), max_len=64, device="tiny", mode="timing",
                region=Region([1], range(4), (0, 2)))
    with pytest.raises(ShapeError, match="write_inputs"):
        I.write_inputs(dev, *_new(rng, 5))
    t = KVCache((1, 1, 10, 64), (1, 1, 10, 64), max_len=16, max_new=4, device="tiny",
                mode="timing", device_inputs=True)
    with pytest.raises(ConfigError, match="functional"):
        I.write_inputs(t, *_new(rng, 1))
    t.step_on_device(4)
    with pytest.raises(Exception, match="max_len"):
        t.step_on_device(4)
    assert t.lengths.tolist() == [14]


def test_launch_on_device_records_into_the_callers_run():
    """A program's view: the step's supersteps inside one phase of the caller's run on a card's
    machine; the output, read from output_blocks, equals a step on a cache alone."""
    rng = np.random.default_rng(4)
    card = Card("tiny")
    card.place("wq", rng.standard_normal((64, 128), dtype=np.float32))
    k = rng.standard_normal((1, 2, 60, D), dtype=np.float32)
    v = rng.standard_normal((1, 2, 60, D), dtype=np.float32)
    reg, kw = Region([2, 3], range(4), (0, 2)), dict(max_len=ML, heads=H, max_new=2)
    cache = place_kv_cache(card, "kv", k, v, region=reg, device_inputs=True, **kw)
    alone = KVCache(k, v, device="tiny", region=reg, device_inputs=True, **kw)
    for _ in range(3):
        q = rng.standard_normal((1, H, 2, D), dtype=np.float32)
        kn = rng.standard_normal((1, 2, 2, D), dtype=np.float32)
        vn = rng.standard_normal((1, 2, 2, D), dtype=np.float32)
        I.write_inputs(cache, q, kn, vn)
        I.write_inputs(alone, q, kn, vn)
        card.machine.clear_log()
        run = Run("program", card.device, machine=card.machine)
        with run.phase("attention"):
            plan = cache.launch_on_device(run, 2)
        r = run.finish()
        card.machine.clear_log()
        assert list(r.phases) == ["attention"] and r.cycles > 0
        out = np.empty((2, H * D), np.float32)
        for tile, buf, off, r0, rows, c0, cols, stride in I.output_blocks(plan, cache.bufs["y"]):
            out[r0:r0 + rows, c0:c0 + cols] = card.machine.read(
                buf, tile=tile, offset=off, nbytes=rows * stride * 4,
                dtype=np.float32).reshape(rows, stride)[:, :cols]
        want = alone.step_on_device(2).output.transpose(0, 2, 1, 3).reshape(2, H * D)
        assert np.array_equal(_bits(out), _bits(want))
    assert cache.lengths.tolist() == alone.lengths.tolist() == [66]
