"""chipemu.kernels.program: a program of placed weights and layer ops is one timed log whose
outputs equal the same kernels run one by one (bit for bit, both twins), whose event log is the
same in both twins and in timing mode, whose calls overlap (cycles below the sum of the calls
timed alone, above the longest), whose per-kernel energies sum to the run's, and whose timing
is reused exactly when a step repeats; stale tensors and misuse are named errors."""
import json

import numpy as np
import pytest

from chipemu.emulator.engine import reuse
from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.kernels import glu, rmsnorm
from chipemu.kernels.card import Card
from chipemu.kernels.matmul import matmul

H, I = 128, 192                    # fits tiny's 32 DIMC slots three times


def _weights(seed=0, h=H, i=I):
    rng = np.random.default_rng(seed)
    g = (1 + 0.1 * rng.standard_normal(h)).astype(np.float32)
    ws = [rng.standard_normal(s, dtype=np.float32) / 16 for s in ((h, i), (h, i), (i, h))]
    return g, ws


def _mlp_card(device="tiny", backend="c", mode="functional", rows=1, seed=0):
    g, (w1, w3, w2) = _weights(seed)
    card = Card(device, backend=backend, mode=mode)
    timing = mode == "timing"
    ops = {"norm": card.place_op("norm", "rmsnorm", rows=rows, cols=H,
                                 gamma=(H,) if timing else g),
           "act": card.place_op("act", "glu", rows=rows, cols=I, act="silu"),
           "res": card.place_op("res", "residual", rows=rows, cols=H)}
    for name, w in (("w1", w1), ("w3", w3), ("w2", w2)):
        ops[name] = card.place(name, w.shape if timing else w, rows=rows)
    return card, ops


def _mlp(p, ops, x):
    """x + W2 (silu(norm(x) W1) * (norm(x) W3)): a SwiGLU MLP with its residual."""
    xt = p.input(x)
    h = p.op(ops["norm"], xt)
    y = p.op(ops["act"], p.matmul(h, ops["w1"]), p.matmul(h, ops["w3"]))
    out = p.op(ops["res"], xt, p.matmul(y, ops["w2"]))
    return p.output(out, "out")


def _chain(x, ops, device="tiny"):
    """The same computation with each kernel run alone (its own Machine, host in between)."""
    g, (w1, w3, w2) = _weights()
    h = rmsnorm(x, g, device=device).output
    a = matmul(h, w1, device=device, region=ops["w1"].region).output
    b = matmul(h, w3, device=device, region=ops["w3"].region).output
    y = glu(a, b, device=device).output
    d = matmul(y, w2, device=device, region=ops["w2"].region).output
    return (x + d).astype(np.float32)


def _numpy_replay(x, ops):
    """The same MLP from the kernels' NumPy references, each replaying its plan (no Numba, no
    native code, no emulated device)."""
    from chipemu.kernels.glu.ref import glu_reference
    from chipemu.kernels.matmul.ref import matmul_reference
    from chipemu.kernels.residual.ref import residual_reference
    from chipemu.kernels.rmsnorm.ref import rmsnorm_reference
    g, (w1, w3, w2) = _weights()
    h = rmsnorm_reference(x, g, ops["norm"].plan)
    a, b = (matmul_reference(h, w, ops[n].plan) for n, w in (("w1", w1), ("w3", w3)))
    d = matmul_reference(glu_reference(a, b, "silu"), w2, ops["w2"].plan)
    return residual_reference(x, d)


def _x(rows=1, seed=1):
    return np.random.default_rng(seed).standard_normal((rows, H), dtype=np.float32)


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("rows", [1, 2])
def test_mlp_program_equals_the_kernels_run_one_by_one(backend, rows):
    card, ops = _mlp_card(backend=backend, rows=rows)
    x = _x(rows)
    with card.program() as p:
        out = _mlp(p, ops, x)
    ref = _chain(x, ops)
    assert np.array_equal(out.view(np.uint32), ref.view(np.uint32))
    replay = _numpy_replay(x, ops)
    assert np.array_equal(out.view(np.uint32), replay.view(np.uint32))
    assert np.array_equal(p.result.output["out"], out)
    # within the formats' bounds of float64 (mxint8 weights and activations: ~1 % of the scale)
    g, (w1, w3, w2) = _weights()
    x64 = x.astype(np.float64)
    h = x64 / np.sqrt(np.mean(x64 * x64, axis=1, keepdims=True) + 1e-5) * g
    a, b = h @ w1, h @ w3
    exact = x64 + (a / (1 + np.exp(-a)) * b) @ w2
    assert np.abs(out - exact).max() < 0.02 * np.abs(exact).max()


def test_one_log_in_both_twins_and_in_timing_mode():
    logs = []
    for backend, mode in (("c", "functional"), ("numba", "functional"), ("c", "timing")):
        card, ops = _mlp_card(backend=backend, mode=mode)
        with card.program() as p:
            _mlp(p, ops, (1, H) if mode == "timing" else _x())
        logs.append(p.result)
    for r in logs[1:]:
        assert np.array_equal(r.events.events, logs[0].events.events)
        assert np.array_equal(r.events.peers, logs[0].events.peers)
        assert (r.cycles, r.energy_fj, r.kernels) == (logs[0].cycles, logs[0].energy_fj,
                                                      logs[0].kernels)
    assert logs[2].output == {"out": None}


def test_calls_overlap_and_per_kernel_figures_add_up():
    card, ops = _mlp_card()
    x = _x()
    with card.program() as p:
        _mlp(p, ops, x)
    r = p.result
    k = r.kernels
    assert list(k) == ["x", "norm", "w1", "w3", "act", "w2", "res"]
    assert [v["kind"] for v in k.values()] == ["input", "rmsnorm", "matmul", "matmul", "glu",
                                               "matmul", "residual"]
    assert sum(v["energy_fj"] for v in k.values()) == r.energy_fj
    assert sum(v["dynamic_fj"] for v in k.values()) == int(r.timing.energy_fj_event.sum())
    assert all(0 <= v["start_cycle"] < v["end_cycle"] <= r.cycles for v in k.values())
    # the two matmuls that read h run at the same time, and glu starts before w3 ends
    assert k["w3"]["start_cycle"] < k["w1"]["end_cycle"]
    assert k["act"]["start_cycle"] < k["w3"]["end_cycle"]
    # the same kernels timed alone, each from an idle device: the program is shorter than
    # their sum (overlap, no host in between) and no shorter than its longest call
    alone = [card.matmul(np.zeros((1, ops[w].k), np.float32), ops[w]).cycles
             for w in ("w1", "w3", "w2")]
    g, _ = _weights()
    alone += [rmsnorm(x, g, device="tiny").cycles, glu(np.ones((1, I), np.float32),
                                                        np.ones((1, I), np.float32),
                                                        device="tiny").cycles]
    assert max(v["cycles"] for v in k.values()) <= r.cycles < sum(alone)
    # no weight is loaded in the program: the loads were counted once, when placed
    assert not (r.events.events["op"] == OPS["dimc_load"]).any()


def test_ten_steps_load_weights_once_and_reuse_timing_exactly():
    card, ops = _mlp_card()
    results = []
    with reuse.disabled():
        with card.program() as p:
            _mlp(p, ops, _x(seed=5))
        fresh = p.result
    was = reuse.set_enabled(True)
    try:
        hits = reuse.stats()["hits"]
        for step in range(10):
            with card.program() as p:
                _mlp(p, ops, _x(seed=step))
            results.append(p.result)
        assert reuse.stats()["hits"] >= hits + 9      # the log holds no data: steps 2..10 reuse
    finally:
        reuse.set_enabled(was)
    for r in results:
        assert (r.cycles, r.energy_fj, r.kernels, r.energy_breakdown) == (
            fresh.cycles, fresh.energy_fj, fresh.kernels, fresh.energy_breakdown)
    loads = sum(w.load.energy_fj for w in card.placed.values())
    assert loads > 0 and all(not (r.events.events["op"] == OPS["dimc_load"]).any()
                             for r in results)


def test_corrupting_a_placed_cell_changes_only_what_it_feeds():
    card, ops = _mlp_card()
    x = _x()
    with card.program() as p:
        clean = _mlp(p, ops, x)
    w2 = ops["w2"]
    tile, (s0, _) = next(iter(sorted(w2.cells.items())))
    card.machine.corrupt_weight(tile, s0, 0, 0, 77)
    with card.program() as p:
        bad = _mlp(p, ops, x)
    diff = np.flatnonzero((bad != clean).any(axis=0))
    # the cell feeds one output column of w2's block on that tile, nothing else
    assert diff.size == 1
    plan = w2.plan
    blocks = [nb for nb in range(plan.nb) if tile in plan.group_tiles(nb)] if plan.g > 1 \
        else [nb for nb in range(plan.nb) if plan.group_base(nb) == tile]
    assert diff[0] // plan.cols in blocks


def test_trace_has_one_lane_per_kernel(tmp_path):
    card, ops = _mlp_card()
    with card.program() as p:
        _mlp(p, ops, _x())
    path = p.result.write_trace(tmp_path)
    ev = json.load(open(path))["traceEvents"]
    pid = card.device.n_chiplets
    names = {e["args"]["name"] for e in ev if e.get("pid") == pid and e["name"] == "thread_name"}
    assert names == {f"{i:02d} {k}" for i, k in enumerate(p.result.kernels)}
    spans = [e for e in ev if e.get("pid") == pid and e.get("cat") == "kernel"]
    assert len(spans) == len(p.result.kernels)


def test_misuse_is_a_named_error_and_stale_tensors_are_refused():
    card, ops = _mlp_card()
    x = _x()
    with card.program() as p:
        xt = p.input(x)
        h = p.op(ops["norm"], xt)
        p.op(ops["norm"], xt)                      # rewrites norm's output buffer
        with pytest.raises(ConfigError, match="stale"):
            p.matmul(h, ops["w1"])
        with pytest.raises(ShapeError, match="takes 2 inputs"):
            p.op(ops["act"], xt)
        with pytest.raises(ShapeError, match="placed for"):
            p.op(ops["act"], p.matmul(p.op(ops["norm"], xt), ops["w1"]),
                 p.input(np.zeros((1, H), np.float32), "z"))
        with pytest.raises(ShapeError, match="K="):
            p.matmul(p.input(np.zeros((1, I), np.float32), "y"), ops["w1"])
        with pytest.raises(ConfigError, match="already recording"):
            with card.program():
                pass
    with pytest.raises(ConfigError, match="not recording"):
        p.input(x)
    with pytest.raises(ConfigError, match="unknown argument"):
        card.place_op("n2", "rmsnorm", rows=1, cols=H, gamma=np.ones(H, np.float32), beta=1)
    with pytest.raises(ConfigError, match="already placed"):
        card.place_op("norm", "glu", rows=1, cols=H)
    with pytest.raises(ConfigError, match="kind"):
        card.place_op("n3", "conv", rows=1, cols=H)


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_rope_tables_too_large_for_sram_are_read_from_dram_bit_exact(backend):
    from chipemu.kernels.rope.ref import rope_reference
    card = Card("tiny", backend=backend)
    big = 4096                                   # 2 MB of tables: far beyond a tile's SRAM
    op = card.place_op("rq", "rope", rows=3, cols=128, head_dim=64, max_positions=big)
    assert "tables" in op.opts and op.plan.max_positions == 3
    x = np.random.default_rng(2).standard_normal((3, 128), dtype=np.float32)
    pos = np.array([5, 4095, 0])
    with card.program() as p:
        y = p.output(p.op(op, p.input(x), positions=pos))
    ref = rope_reference(x, pos, 64)
    assert np.array_equal(y.view(np.uint32), ref.view(np.uint32))
    assert (p.result.events.events["op"] == OPS["dram_read"]).sum() == 2 * 3 * op.plan.tiles
    with card.program() as p, pytest.raises(ShapeError, match="positions"):
        p.op(op, p.input(x), positions=[1, 2, big])


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_embedding_to_argmax_in_one_program(backend):
    """Token ids -> embedding gather (table in DRAM) -> rmsnorm -> LM head -> argmax: the next
    tokens, equal to the kernels one by one; argmax's int32 ids are no kernel input."""
    from chipemu.kernels import argmax, embedding
    rng = np.random.default_rng(4)
    vocab, rows = 300, 3
    table = rng.standard_normal((vocab, H), dtype=np.float32)
    head = rng.standard_normal((H, vocab), dtype=np.float32) / 16
    g, _ = _weights()
    card = Card("tiny", backend=backend)
    emb = card.place_op("emb", "embedding", rows=rows, cols=H, table=table)
    norm = card.place_op("norm", "rmsnorm", rows=rows, cols=H, gamma=g)
    pick = card.place_op("pick", "argmax", rows=rows, cols=vocab)
    lm = card.place("lm", head, rows=rows)
    ids = np.array([7, 299, 0])
    with card.program() as p:
        logits = p.matmul(p.op(norm, p.op(emb, ids=ids)), lm)
        nxt = p.op(pick, logits)
        got = p.output(nxt, "next")[:, 0]
        with pytest.raises(ConfigError, match="int32"):
            p.op(norm, nxt)
    x = embedding(ids, table, device="tiny").output
    lg = matmul(rmsnorm(x, g, device="tiny").output, head, device="tiny",
                region=lm.region).output
    assert got.dtype == np.int32
    assert np.array_equal(got, argmax(lg, device="tiny").output)
    assert np.array_equal(got, np.argmax(lg, axis=1))
    assert [k["kind"] for k in p.result.kernels.values()] == ["embedding", "rmsnorm", "matmul",
                                                               "argmax"]


def test_a_result_keeps_its_log_when_the_card_runs_again():
    # the machine's log is a view its next run writes over: a card's Results own a copy
    card, ops = _mlp_card()
    first = card.matmul(_x(), ops["w1"])
    before = first.events.events.copy()
    with card.program() as p:
        _mlp(p, ops, _x())
    assert np.array_equal(first.events.events, before)
    assert len(p.result.events.events) != len(before)
