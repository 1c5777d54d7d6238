"""A whole decoder block as a program (kernels/program/block.py): RMSNorm -> QKV -> RoPE ->
attention with a KV cache -> O projection -> residual -> RMSNorm -> SwiGLU MLP -> residual,
placed once and run for several decode steps. Each step is bit-exact, in both twins, to the
same kernels run one by one on their own devices through the host (each of which the kernel
tests hold bit-exact to its NumPy reference), within the formats' bounds of a float64 block,
one log in both twins and in timing mode, shorter than its calls timed alone added up, and no
weight is written in a step."""
import numpy as np
import pytest

from chipemu.emulator.events import OPS
from chipemu.kernels import glu, residual_add, rmsnorm, rope
from chipemu.kernels.attention.cache import KVCache
from chipemu.kernels.attention.placed import kv_cells
from chipemu.kernels.card import Card
from chipemu.kernels.matmul import matmul
from chipemu.kernels.program.block import BlockShape, block_step, block_weights, place_block

TINY = BlockShape(hidden=64, intermediate=128, heads=2, kv_heads=1, head_dim=64)
B, L0, MAX = 2, 3, 16


def _cache0(shape, seed=7):
    rng = np.random.default_rng(seed)
    s = (B, shape.kv_heads, L0, shape.head_dim)
    return rng.standard_normal(s, dtype=np.float32), rng.standard_normal(s, dtype=np.float32)


def _card(shape=TINY, device="tiny", backend="c", mode="functional"):
    card = Card(device, backend=backend, mode=mode)
    w = block_weights(shape)
    k, v = _cache0(shape)
    if mode == "timing":
        w = {n: a.shape for n, a in w.items()}
        k, v = k.shape, v.shape
    return card, place_block(card, shape, w, batch=B, max_len=MAX, k=k, v=v)


def _xs(steps, shape=TINY):
    rng = np.random.default_rng(3)
    return [rng.standard_normal((B, shape.hidden), dtype=np.float32) for _ in range(steps)]


def _chain(blk, xs, shape=TINY, device="tiny"):
    """The block's steps with every kernel run alone, through the host; the cache a KVCache of
    its own in the same region (host-fed steps, held bit-exact to device-fed ones)."""
    w, s, d = block_weights(shape), shape, shape.head_dim
    k0, v0 = _cache0(shape)
    cache = KVCache(k0, v0, max_len=MAX, max_new=1, heads=s.heads, device=device,
                    region=blk.cache.region)

    def mm(a, name):
        return matmul(a, w[name], device=device, region=blk.weights[name].region).output

    def heads(a, n):                          # [B, n*D] -> [B, n, 1, D]
        return a.reshape(B, n, 1, d)

    outs = []
    for x in xs:
        pos = cache.lengths.copy()
        h = rmsnorm(x, w["norm1"], device=device).output
        rq = dict(positions=pos, head_dim=d, theta=s.rope_theta, max_positions=MAX,
                  device=device)
        q = rope(mm(h, "wq"), **rq).output
        k = rope(mm(h, "wk"), **rq).output
        a = cache.step(heads(q, s.heads), heads(k, s.kv_heads), heads(mm(h, "wv"), s.kv_heads))
        x2 = residual_add(x, mm(a.output.reshape(B, s.heads * d), "wo"), device=device).output
        h2 = rmsnorm(x2, w["norm2"], device=device).output
        y = glu(mm(h2, "w1"), mm(h2, "w3"), device=device).output
        outs.append(residual_add(x2, mm(y, "w2"), device=device).output)
    return outs


def _float64(xs, shape=TINY):
    """The block in float64 with no quantization (the yardstick)."""
    w = {n: a.astype(np.float64) for n, a in block_weights(shape).items()}
    s, d = shape, shape.head_dim
    k0, v0 = (a.astype(np.float64) for a in _cache0(shape))
    ks, vs, outs = list(np.moveaxis(k0, 2, 0)), list(np.moveaxis(v0, 2, 0)), []
    inv = s.rope_theta ** (-np.arange(0, d, 2) / d)

    def norm(x, g):
        return x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + s.eps) * g

    def rot(a, n, pos):
        a = a.reshape(B, n, d)
        ang = pos[:, None, None] * inv
        c, sn = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
        half = np.concatenate([-a[..., d // 2:], a[..., :d // 2]], -1)
        return a * c + half * sn

    for step, x in enumerate(xs):
        x = x.astype(np.float64)
        pos = np.full(B, L0 + step, np.float64)
        h = norm(x, w["norm1"])
        q, k = rot(h @ w["wq"], s.heads, pos), rot(h @ w["wk"], s.kv_heads, pos)
        ks.append(k)
        vs.append((h @ w["wv"]).reshape(B, s.kv_heads, d))
        K, V = np.stack(ks, 2), np.stack(vs, 2)             # [B, Hkv, L, D]
        g = s.heads // s.kv_heads
        sc = np.einsum("bhd,bhld->bhl", q, np.repeat(K, g, 1)) / np.sqrt(d)
        p = np.exp(sc - sc.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        a = np.einsum("bhl,bhld->bhd", p, np.repeat(V, g, 1)).reshape(B, -1)
        x2 = x + a @ w["wo"]
        h2 = norm(x2, w["norm2"])
        u = h2 @ w["w1"]
        outs.append(x2 + (u / (1 + np.exp(-u)) * (h2 @ w["w3"])) @ w["w2"])
    return outs


def _only_cache_cells_written(r, blk):
    """The weights stay in the arrays: a step's DIMC writes are the new tokens' K^T and V
    slots, inside the cache's cells."""
    ev = r.events.events
    ev = ev[ev["op"] == OPS["dimc_load"]]
    cells = kv_cells(blk.cache.plan)
    assert ev.size > 0
    assert all(t in cells and cells[t][0] <= s < cells[t][1]
               for t, s in zip(ev["tile"].tolist(), ev["c"].tolist()))


CORSAIR = BlockShape(hidden=256, intermediate=384, heads=4, kv_heads=2, head_dim=64)


@pytest.mark.parametrize("backend,device,shape", [("c", "tiny", TINY), ("numba", "tiny", TINY),
                                                  ("c", "corsair", CORSAIR)])
def test_block_steps_equal_the_kernels_run_one_by_one(backend, device, shape):
    card, blk = _card(shape, device, backend=backend)
    xs = _xs(10 if device == "tiny" else 4, shape)
    got = []
    for x in xs:
        with card.program() as p:
            got.append(p.output(block_step(p, blk, p.input(x)), "y"))
        _only_cache_cells_written(p.result, blk)
    for a, b in zip(got, _chain(blk, xs, shape, device)):
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
    for a, e in zip(got, _float64(xs, shape)):
        assert np.abs(a - e).max() < 0.03 * np.abs(e).max()
    assert list(blk.cache.lengths) == [L0 + len(xs)] * B


def test_block_log_is_one_in_both_twins_and_timing_mode_and_calls_overlap():
    results = []
    for backend, mode in (("c", "functional"), ("numba", "functional"), ("c", "timing")):
        card, blk = _card(backend=backend, mode=mode)
        for x in _xs(2):
            with card.program() as p:
                block_step(p, blk, p.input((B, TINY.hidden) if mode == "timing" else x))
        results.append(p.result)
    for r in results[1:]:
        assert np.array_equal(r.events.events, results[0].events.events)
        assert (r.cycles, r.energy_fj) == (results[0].cycles, results[0].energy_fj)
    r = results[0]
    k = r.kernels
    kinds = [v["kind"] for v in k.values()]
    assert kinds.count("matmul") == 7 and kinds.count("attention") == 1
    assert sum(v["energy_fj"] for v in k.values()) == r.energy_fj
    spans = sum(v["cycles"] for v in k.values())
    assert max(v["cycles"] for v in k.values()) <= r.cycles < spans      # calls overlap
    _only_cache_cells_written(r, blk)


def test_a_prefill_chunk_matches_its_tokens_fed_one_by_one():
    """place_block(chunk=4): one step of 2 x 4 rows (causal attention over the cache and the
    chunk) against the same tokens fed a step each: equal up to the cache's quantization (V's
    block scales span the chunk; measured 1 %)."""
    import numpy as np
    from chipemu.kernels.card import Card
    from chipemu.kernels.program.block import BlockShape, block_step, block_weights, place_block

    shape, b, c = BlockShape(128, 256, 2, 1, 64), 2, 4
    w = block_weights(shape, seed=1)
    x = np.random.default_rng(0).standard_normal((b * c, 128)).astype(np.float32)
    card = Card("corsair")
    blk = place_block(card, shape, w, batch=b, max_len=16, chunk=c)
    with card.program() as p:
        p.output(block_step(p, blk, p.input(x)), "y")
    assert list(blk.cache.lengths) == [c, c]
    one = Card("corsair")
    blk1 = place_block(one, shape, w, batch=b, max_len=16)
    ys = []
    for i in range(c):
        xi = np.ascontiguousarray(x.reshape(b, c, -1)[:, i])
        with one.program() as p1:
            p1.output(block_step(p1, blk1, p1.input(xi)), "y")
        ys.append(p1.outputs["y"])
    seq = np.stack(ys, 1).reshape(b * c, -1)
    err = np.abs(p.outputs["y"] - seq).max() / np.abs(seq).max()
    assert err < 0.03


def test_layers_sharing_working_buffers_compute_the_same():
    """Two blocks placed with share= (weights', ops' and caches' working buffers shared, each
    cache's state its own) give bit-exact the outputs of two blocks with their own buffers,
    over three steps, on less SRAM."""
    import numpy as np
    from chipemu.kernels.card import Card
    from chipemu.kernels.program.block import BlockShape, block_step, block_weights, place_block

    shape = BlockShape(128, 256, 2, 1, 64)
    ws = [block_weights(shape, seed=s) for s in (1, 2)]
    x = np.random.default_rng(3).standard_normal((2, 128)).astype(np.float32)
    outs, used = {}, {}
    for share in (None, "layers"):
        card = Card("corsair")
        blks = [place_block(card, shape, w, batch=2, max_len=8, prefix=f"l{i}", share=share)
                for i, w in enumerate(ws)]
        used[share] = card.machine.sram_bytes_used
        ys = []
        for _ in range(3):
            with card.program() as p:
                y = p.input(x)
                for b in blks:
                    y = block_step(p, b, y)
                p.output(y, "y")
            ys.append(p.outputs["y"])
        outs[share] = ys
    assert all(np.array_equal(a, b) for a, b in zip(outs[None], outs["layers"]))
    assert used["layers"] < used[None]
