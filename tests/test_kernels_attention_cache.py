"""KVCache: decode steps equal the reference bit for bit in both twins and both modes, appends
rewrite only the rows they change, per-sequence lengths, bad input."""
import numpy as np
import pytest

from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.kernels import KVCache
from chipemu.kernels import attention
from chipemu.kernels.attention.ref import attention_reference

B, H, HKV, D, ML = 2, 4, 2, 64, 200
LENS = [100, 70]


def _bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def _run(backend, mode="functional", steps=(1, 2)):
    rng = np.random.default_rng(0)
    k = rng.standard_normal((B, HKV, 100, D), dtype=np.float32)
    v = rng.standard_normal((B, HKV, 100, D), dtype=np.float32)
    shapes = mode == "timing"
    cache = KVCache(k.shape if shapes else k, v.shape if shapes else v, max_len=ML,
                    lengths=LENS, heads=H, device="tiny", backend=backend, mode=mode)
    full_k = np.zeros((B, HKV, ML, D), np.float32)
    full_v = np.zeros((B, HKV, ML, D), np.float32)
    for b, n in enumerate(LENS):
        full_k[b, :, :n], full_v[b, :, :n] = k[b, :, :n], v[b, :, :n]
    out, lens = [], list(LENS)
    for sq in steps:
        q = rng.standard_normal((B, H, sq, D), dtype=np.float32)
        kn = rng.standard_normal((B, HKV, sq, D), dtype=np.float32)
        vn = rng.standard_normal((B, HKV, sq, D), dtype=np.float32)
        r = attention(q.shape if shapes else q, kn.shape if shapes else kn,
                      vn.shape if shapes else vn, cache=cache)
        keep = np.zeros((B, H, sq, ML), bool)
        for b in range(B):
            full_k[b, :, lens[b]:lens[b] + sq], full_v[b, :, lens[b]:lens[b] + sq] = kn[b], vn[b]
            keep[b] = np.arange(ML)[None, :] < (lens[b] + np.arange(sq) + 1)[:, None]
        out.append((r, q, full_k.copy(), full_v.copy(), keep))
        lens = [n + sq for n in lens]
    return cache, out


def test_decode_steps_equal_the_reference_in_both_twins_and_modes():
    cache_c, steps_c = _run("c")
    _, steps_n = _run("numba")
    _, steps_t = _run("c", mode="timing")
    assert cache_c.lengths.tolist() == [n + 3 for n in LENS]
    for (rc, q, fk, fv, keep), (rn, *_), (rt, *_) in zip(steps_c, steps_n, steps_t):
        ref = attention_reference(q, fk, fv, rc.plan, attn_mask=keep, device=rc.device)
        assert np.array_equal(_bits(rc.output), _bits(ref))
        assert np.array_equal(_bits(rn.output), _bits(ref))
        assert rc.events.events.tobytes() == rn.events.events.tobytes()
        assert rc.events.events.tobytes() == rt.events.events.tobytes()
        assert (rc.cycles, rc.energy_fj) == (rn.cycles, rn.energy_fj) == (rt.cycles, rt.energy_fj)


def test_append_rewrites_only_the_rows_it_changes():
    _, steps = _run("c", mode="timing", steps=(1,))
    r = steps[0][0]
    ev = r.events.events
    loads = ev[(ev["op"] == OPS["dimc_load"]) & np.isin(ev["step"], r.phases["append"]["steps"])]
    # per (batch, kv head) unit: the K^T slot of the new key's block (64 rows: the key is a
    # column) and the 32-row MXINT8 scale group of V it falls in
    assert len(loads) == B * HKV * 2
    assert sorted(set(loads["b"].tolist())) == [32, 64]
    assert int(loads["b"].sum()) == B * HKV * (64 + 32)


def test_blocks_past_each_sequence_are_skipped():
    _, steps = _run("c", mode="timing", steps=(1,))
    plan = steps[0][0].plan
    # lengths 101 and 71 of 200 keys in blocks of 64: 2 of 4 blocks computed for each sequence
    assert plan["blocks_full"] + plan["blocks_partial"] == B * HKV * 2
    assert plan["blocks_skipped"] == B * HKV * 2


def test_cache_bad_input():
    cache, _ = _run("c", mode="timing", steps=())
    with pytest.raises(ShapeError, match="max_new"):
        attention((B, H, 17, D), (B, HKV, 17, D), (B, HKV, 17, D), cache=cache)
    with pytest.raises(ShapeError, match="must be"):
        attention((B, H, 1, D), (B, HKV + 1, 1, D), (B, HKV, 1, D), cache=cache)
    with pytest.raises(ShapeError, match="not supported"):
        attention((B, H, 1, D), (B, HKV, 1, D), (B, HKV, 1, D), cache=cache,
                  attn_mask=np.ones((1, 1, 1, ML), bool))
    for _ in range(6):
        attention((B, H, 16, D), (B, HKV, 16, D), (B, HKV, 16, D), cache=cache)
    with pytest.raises(CapacityError, match="max_len"):
        attention((B, H, 16, D), (B, HKV, 16, D), (B, HKV, 16, D), cache=cache)
    with pytest.raises(CapacityError, match="max_len"):
        KVCache((1, 1, 300, 64), (1, 1, 300, 64), max_len=200, device="tiny", mode="timing")


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_a_step_with_more_query_rows_than_a_chunk_runs_every_chunk(backend):
    # G = 4 heads x 16 new tokens = 64 query rows per unit, in chunks of 32: two rounds
    rng = np.random.default_rng(3)
    k = rng.standard_normal((1, 2, 60, D), dtype=np.float32)
    v = rng.standard_normal((1, 2, 60, D), dtype=np.float32)
    cache = KVCache(k, v, max_len=ML, heads=8, device="tiny", backend=backend)
    q = rng.standard_normal((1, 8, 16, D), dtype=np.float32)
    kn = rng.standard_normal((1, 2, 16, D), dtype=np.float32)
    vn = rng.standard_normal((1, 2, 16, D), dtype=np.float32)
    r = attention(q, kn, vn, cache=cache)
    assert (r.plan["mq"], r.plan["chunks"], r.plan["rounds"]) == (32, 2, 2)
    fk, fv = np.zeros((1, 2, ML, D), np.float32), np.zeros((1, 2, ML, D), np.float32)
    fk[:, :, :60], fv[:, :, :60] = k, v
    fk[:, :, 60:76], fv[:, :, 60:76] = kn, vn
    keep = np.arange(ML)[None, None, None, :] < (61 + np.arange(16))[None, None, :, None]
    ref = attention_reference(q, fk, fv, r.plan, attn_mask=keep, device=r.device)
    assert np.array_equal(_bits(r.output), _bits(ref))
