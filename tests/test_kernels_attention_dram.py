"""A KV cache homed in DRAM (KVCache(kv_home="dram"), docs/attention.md): its K^T and V slot
images live in the chiplets' DRAM and each tile streams one block at a time through its first
slots. Steps equal the NumPy reference of their plan bit for bit in both twins, with identical
event logs in both modes; device-input steps equal host-path steps for every K/V format; the
cache holds one block's slots per tile and every computed block is read from DRAM; on a card it
leaves the rest of the slots to weights; bad use refused before any work."""
import numpy as np
import pytest

from chipemu.emulator.errors import ConfigError
from chipemu.emulator.events import OPS
from chipemu.kernels import KVCache, attention
from chipemu.kernels.attention import ingest as I
from chipemu.kernels.attention.placed import kv_cells, place_kv_cache
from chipemu.kernels.attention.ref import attention_reference
from chipemu.kernels.card import Card

B, H, HKV, D, ML, LENS = 2, 4, 2, 64, 200, [60, 30]
STEPS = [1, 3, 4, 1, 2, 4, 4, 1]          # sequence 0 crosses into key block 1 at step 3


def _bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def _kv(rng):
    return (rng.standard_normal((B, HKV, 60, D), dtype=np.float32),
            rng.standard_normal((B, HKV, 60, D), dtype=np.float32))


def _new(rng, sq):
    return (rng.standard_normal((B, H, sq, D), dtype=np.float32),
            rng.standard_normal((B, HKV, sq, D), dtype=np.float32),
            rng.standard_normal((B, HKV, sq, D), dtype=np.float32))


def _cache(k, v, timing=False, **kw):
    kw = dict(max_len=ML, heads=H, device="tiny", max_new=4, lengths=LENS, kv_home="dram", **kw)
    return KVCache(k.shape if timing else k, v.shape if timing else v,
                   mode="timing" if timing else "functional", **kw)


def _host_steps(backend, timing=False):
    rng = np.random.default_rng(0)
    k, v = _kv(rng)
    cache = _cache(k, v, timing, backend=backend)
    fk, fv = np.zeros((2, B, HKV, ML, D), np.float32)
    for b, n in enumerate(LENS):
        fk[b, :, :n], fv[b, :, :n] = k[b, :, :n], v[b, :, :n]
    out, lens = [], list(LENS)
    for sq in STEPS:
        q, kn, vn = _new(rng, sq)
        r = attention(*((x.shape if timing else x) for x in (q, kn, vn)), cache=cache)
        keep = np.zeros((B, H, sq, ML), bool)
        for b in range(B):
            fk[b, :, lens[b]:lens[b] + sq], fv[b, :, lens[b]:lens[b] + sq] = kn[b], vn[b]
            keep[b] = np.arange(ML)[None, :] < (lens[b] + np.arange(sq) + 1)[:, None]
        lens = [n + sq for n in lens]
        out.append((r, q, fk.copy(), fv.copy(), keep))
    return cache, out


def test_steps_equal_the_reference_in_both_twins_with_one_log_in_both_modes():
    cache, steps_c = _host_steps("c")
    _, steps_n = _host_steps("numba")
    _, steps_t = _host_steps("c", timing=True)
    assert cache.plan.kv_home == "dram" and cache.plan.to_dict()["kv_home"] == "dram"
    for (rc, q, fk, fv, keep), (rn, *_), (rt, *_) in zip(steps_c, steps_n, steps_t):
        ref = attention_reference(q, fk, fv, rc.plan, attn_mask=keep, device=rc.device)
        assert np.array_equal(_bits(rc.output), _bits(ref))
        assert np.array_equal(_bits(rn.output), _bits(ref))
        assert rc.events.events.tobytes() == rn.events.events.tobytes()
        assert rc.events.events.tobytes() == rt.events.events.tobytes()
        assert (rc.cycles, rc.energy_fj) == (rn.cycles, rn.energy_fj) == (rt.cycles, rt.energy_fj)


def test_every_computed_block_is_read_from_dram_into_one_blocks_slots():
    cache, steps = _host_steps("c")
    p = cache.plan
    per = p.d_splits + p.v_splits
    assert set(kv_cells(p).values()) == {(p.slot_base, p.slot_base + per)}
    for r, *_ in steps:
        ev = r.events.events
        reads = ev[ev["op"] == OPS["dram_read"]]
        computed = r.plan["blocks_full"] + r.plan["blocks_partial"]
        assert len(reads) == computed and (reads["a"] == per * p.slot_bytes).all()
        assert (ev["op"] == OPS["dram_write"]).any()          # the appends land in DRAM
        assert (ev["op"] == OPS["dimc_load"]).sum() == per * computed
    # the resident cache of the same shape holds every block's slots
    rng = np.random.default_rng(0)
    resident = KVCache(*_kv(rng), max_len=ML, heads=H, device="tiny", max_new=4, lengths=LENS)
    assert sum(b - a for a, b in kv_cells(resident.plan).values()) > sum(
        b - a for a, b in kv_cells(p).values())


@pytest.mark.parametrize("backend,kv_fmt,fmt", [("c", None, "mxint8"), ("numba", None, "mxint8"),
                                                ("c", "bfp16", "bfp16"), ("c", "int8", "int8")])
def test_device_input_steps_equal_host_steps(backend, kv_fmt, fmt):
    rng = np.random.default_rng(1)
    k, v = _kv(rng)
    host = _cache(k, v, backend=backend, kv_fmt=kv_fmt, fmt=fmt)
    dev = _cache(k, v, backend=backend, kv_fmt=kv_fmt, fmt=fmt, device_inputs=True)
    for i, sq in enumerate(STEPS):
        q, kn, vn = _new(rng, sq)
        rh = attention(q, kn, vn, cache=host)
        I.write_inputs(dev, q, kn, vn)
        rd = dev.step_on_device(sq)
        assert np.array_equal(_bits(rd.output), _bits(rh.output)), i
        ev = rd.events.events
        assert (ev["op"] == OPS["dram_write"]).any() and not (ev["op"] == OPS["host_read"]).all()


def test_timing_mode_device_steps_log_what_functional_mode_logs():
    rng = np.random.default_rng(2)
    k, v = _kv(rng)
    f = _cache(k, v, device_inputs=True)
    t = _cache(k, v, timing=True, device_inputs=True)
    assert t.fill.events.equals(f.fill.events)
    for sq in (1, 4, 3):
        I.write_inputs(f, *_new(rng, sq))
        rf, rt = f.step_on_device(sq), t.step_on_device(sq)
        assert rf.events.equals(rt.events) and (rf.cycles, rf.energy_fj) == (rt.cycles,
                                                                            rt.energy_fj)


def test_on_a_card_it_holds_one_blocks_slots_beside_a_weight():
    rng = np.random.default_rng(3)
    card = Card("tiny")
    wq = card.place("wq", rng.standard_normal((64, 128), dtype=np.float32))
    x = rng.standard_normal((1, 64), dtype=np.float32)
    before = card.matmul(x, wq).output
    k, v = _kv(rng)
    cache = place_kv_cache(card, "kv", k, v, max_len=ML, heads=H, max_new=4, lengths=LENS,
                           kv_home="dram")
    per = cache.plan.d_splits + cache.plan.v_splits
    held = [t for t, s in zip(*np.nonzero(card.ledger.owner >= 0))
            if card.ledger.names[card.ledger.owner[t, s]] == "kv"]
    assert len(held) == per * len(kv_cells(cache.plan))
    fk, fv = np.zeros((2, B, HKV, ML, D), np.float32)
    fk[:, :, :60], fv[:, :, :60] = k, v
    fk[1, :, 30:], fv[1, :, 30:] = 0, 0
    lens = list(LENS)
    for sq in (1, 2):
        q, kn, vn = _new(rng, sq)
        r = attention(q, kn, vn, cache=cache)
        keep = np.zeros((B, H, sq, ML), bool)
        for b in range(B):
            fk[b, :, lens[b]:lens[b] + sq], fv[b, :, lens[b]:lens[b] + sq] = kn[b], vn[b]
            keep[b] = np.arange(ML)[None, :] < (lens[b] + np.arange(sq) + 1)[:, None]
        lens = [n + sq for n in lens]
        ref = attention_reference(q, fk, fv, r.plan, attn_mask=keep, device=r.device)
        assert np.array_equal(_bits(r.output), _bits(ref))
    assert np.array_equal(_bits(card.matmul(x, wq).output), _bits(before))


def test_bad_kv_home_is_refused_naming_it():
    k, v = _kv(np.random.default_rng(4))
    with pytest.raises(ConfigError, match="kv_home='sram'"):
        KVCache(k, v, max_len=ML, device="tiny", kv_home="sram")
