"""chipemu.kernels.card: weights placed once on a card's Machine; each call has no weight load,
its output is bit-exact to matmul(x, w, region=placed.region)'s and its compute phase the same."""
import numpy as np
import pytest

from chipemu.emulator.errors import CapacityError, ConfigError, FormatError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.kernels.card import Card, PlacedWeight
from chipemu.kernels.matmul.api import matmul

DIMC_LOAD, DIMC_MVM = OPS["dimc_load"], OPS["dimc_mvm"]


def _data(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s, dtype=np.float32) for s in shapes]


def _ops(r):
    return np.asarray(r.events.events["op"])


@pytest.mark.parametrize("k,n,xshape,fmt,wfmt", [
    (128, 128, (1, 128), "mxint8", None),       # 2 x 2 blocks over two chiplets
    (200, 70, (2, 3, 200), "mxint4", None),     # padded K and N, batched x, M = 6
    (64, 300, (4, 64), "bfp16", None),          # more N-blocks than one chiplet's tiles
    (200, 140, (3, 200), "mxint8", "mxint4"),   # W4A8
])
def test_call_is_bit_exact_and_its_compute_phase_is_the_matmuls(k, n, xshape, fmt, wfmt):
    w, x = _data(1, (k, n), xshape)
    card = Card("tiny")
    card.place("other", _data(2, (64, 64))[0])          # state of another weight on the card
    m = int(np.prod(xshape[:-1]))
    pw = card.place("w", w, fmt=fmt, rows=m, weight_fmt=wfmt)
    r = card.matmul(x, pw)
    ref = matmul(x, w, fmt=fmt, weight_fmt=wfmt, device="tiny", region=pw.region)
    assert r.output.shape == ref.output.shape == (*xshape[:-1], n)
    assert np.array_equal(r.output, ref.output)
    assert list(r.phases) == ["activations", "compute"]
    assert r.phases["compute"]["cycles"] == ref.phases["compute"]["cycles"]
    # the same ops with the same dynamic energy (the phase's static share is apportioned by the
    # run's makespan, which the weight load lengthens, so it may differ in its last fJ)
    assert r.metrics["compute_energy_fj_by_op"] == ref.metrics["compute_energy_fj_by_op"]
    # the activation load alone is cheaper than matmul's load of weights and activations
    assert r.phases["activations"]["cycles"] < ref.phases["load"]["cycles"]
    assert r.plan == ref.plan


def test_ten_calls_load_the_weights_once():
    w, x = _data(3, (128, 192), (2, 128))
    card = Card("tiny")
    pw = card.place("w", w, rows=2)
    slots = sum(b - a for a, b in pw.cells.values())
    assert slots == 2 * 3 * pw.plan.replicas and (_ops(pw.load) == DIMC_LOAD).sum() == slots
    ref = matmul(x, w, device="tiny", region=pw.region)
    outs = []
    for _ in range(10):
        r = card.matmul(x, pw)
        assert (_ops(r) == DIMC_LOAD).sum() == 0
        assert (_ops(r) == DIMC_MVM).sum() > 0
        outs.append(r)
    assert all(np.array_equal(r.output, ref.output) for r in outs)
    # every call is timed alone (the log is cleared): the same cycles and energy each time
    assert len({(r.cycles, r.energy_fj) for r in outs}) == 1
    load_fj = int(pw.load.timing.energy_fj_event[_ops(pw.load) == DIMC_LOAD].sum())
    assert load_fj > 0 and outs[0].energy_fj < ref.energy_fj


def test_corrupting_a_placed_cell_changes_only_the_outputs_it_feeds():
    w, x = _data(4, (128, 128), (3, 128))
    card = Card("tiny")
    pw = card.place("w", w, rows=3)
    before = card.matmul(x, pw).output
    # the tile holding N-block 1: its first slot holds K-block blocks[t][0]
    t = next(t for t, b in pw.sizes.blocks.items() if b[0][1] == 1)
    s0 = pw.cells[t][0]
    col = 5
    code = int(card.machine.dimc_state(t, s0)["codes"][0, col])
    card.machine.corrupt_weight(t, s0, 0, col, 0 if code else 1)
    after = card.matmul(x, pw).output
    changed = np.flatnonzero((after != before).any(axis=0))
    assert changed.tolist() == [pw.plan.cols + col]


def test_timing_mode_takes_shapes():
    card = Card("tiny", mode="timing")
    pw = card.place("w", (256, 128), rows=4)
    r = card.matmul((4, 256), pw)
    ref = matmul((4, 256), (256, 128), device="tiny", mode="timing", region=pw.region)
    assert r.output is None and r.phases["compute"]["cycles"] == ref.phases["compute"]["cycles"]
    assert (_ops(r) == DIMC_LOAD).sum() == 0


def test_a_failed_place_changes_nothing():
    card = Card("tiny")
    card.place("a", _data(5, (64, 64))[0])
    state = (card.machine.sram_bytes_used, card.ledger.owner.copy(), dict(card.placed))
    with pytest.raises(CapacityError):
        card.place("big", _data(6, (4096, 1024))[0])
    assert card.machine.sram_bytes_used == state[0]
    assert np.array_equal(card.ledger.owner, state[1]) and card.placed == state[2]


def test_sram_runs_out_with_the_numbers():
    card = Card("tiny")
    w = _data(7, (64, 64))[0]
    with pytest.raises(CapacityError) as e:
        for i in range(100):
            card.place(f"w{i}", w)
    assert "bytes of SRAM on every tile" in str(e.value) and "placed weights" in str(e.value)


def test_working_buffers_shrink_to_a_budget_and_to_what_the_card_has_left():
    """Fewer rows per chunk, the same layout and the same outputs bit for bit."""
    w, x = _data(9, (128, 128), (256, 128))
    free = Card("tiny")
    wide = free.place("w", w, rows=256)
    budget = sum(wide.plan.sram.values()) * 4 // 5
    card = Card("tiny")
    tight = card.place("w", w, rows=256, sram_bytes=budget)
    assert sum(tight.plan.sram.values()) <= budget and tight.plan.mc < wide.plan.mc
    assert tight.cells == wide.cells and tight.sram_bytes == budget
    assert np.array_equal(card.matmul(x, tight).output, free.matmul(x, wide).output)
    # a card whose SRAM is nearly held: the next weight's chunks shrink instead of failing
    full = Card("tiny")
    full.machine.alloc_sram("held", full.device.sram_buffer_bytes - budget)
    fit = full.place("w", w, rows=256)
    assert sum(fit.plan.sram.values()) <= budget
    assert np.array_equal(full.matmul(x, fit).output, free.matmul(x, wide).output)


@pytest.mark.parametrize("call,err,text", [
    (lambda c, w: c.place("", w), ConfigError, "name=''"),
    (lambda c, w: c.place(3, w), ConfigError, "name=3"),
    (lambda c, w: c.place("a", w), ConfigError, "name='a' is already placed"),
    (lambda c, w: c.place("b", w, rows=True), ShapeError, "rows=True"),
    (lambda c, w: c.place("b", w, rows=0), ShapeError, "rows=0"),
    (lambda c, w: c.place("b", w[None]), ShapeError, "must be [K, N]"),
    (lambda c, w: c.place("b", (64, 64)), ShapeError, "is a shape"),
    (lambda c, w: c.place("b", w, fmt="fp32"), FormatError, "fmt='fp32'"),
    (lambda c, w: c.place("b", w, wfmt="int8"), ConfigError, "unknown argument wfmt"),
    (lambda c, w: c.place("b", w, weight_fmt="fp16"), FormatError, "weight_fmt='fp16'"),
    (lambda c, w: c.place("b", w, max_replicas=0), ShapeError, "max_replicas=0"),
    (lambda c, w: c.place("b", w, share=3), ConfigError, "share=3"),
    (lambda c, w: c.place("b", w, sram_bytes=0), ShapeError, "sram_bytes=0"),
    (lambda c, w: c.place("b", w, region=(0, 1)), ConfigError, "allowed: None"),
    (lambda c, w: c.matmul(np.ones((1, 32), np.float32), c.placed["a"]), ShapeError, "K=64"),
    (lambda c, w: c.matmul(np.ones((1, 64), np.float32), "a"), ConfigError, "PlacedWeight"),
    (lambda c, w: c.matmul(np.ones((1, 64), np.float32), Card("tiny").place("a", w)),
     ConfigError, "this card's place()"),
    (lambda c, w: c.matmul(np.ones((1, 64), np.int32), c.placed["a"]), ShapeError, "dtype int32"),
])
def test_bad_arguments_are_named(call, err, text):
    card = Card("tiny")
    w = _data(8, (64, 64))[0]
    card.place("a", w)
    with pytest.raises(err) as e:
        call(card, w)
    assert text in str(e.value)


def test_a_call_whose_m_changes_the_layout_is_refused():
    w = _data(9, (64, 64))[0]
    card = Card("tiny")
    pw = card.place("w", w, rows=1)
    with pytest.raises(ShapeError) as e:
        card.matmul(np.ones((64, 64), np.float32), pw)
    assert "place the weights again with rows=64" in str(e.value)


def test_card_arguments():
    with pytest.raises(ConfigError):
        Card("tiny", mode="fast")
    with pytest.raises(ConfigError, match="unknown argument backnd"):
        Card("tiny", backnd="c")
    assert isinstance(Card("tiny").place("w", _data(0, (64, 64))[0]), PlacedWeight)


def test_calls_on_two_weights_interleave_without_disturbing_each_other():
    w1, w2, x1, x2 = _data(10, (128, 64), (64, 192), (2, 128), (2, 64))
    card = Card("tiny")
    p1, p2 = card.place("w1", w1, rows=2), card.place("w2", w2, rows=2)
    ref1 = matmul(x1, w1, device="tiny", region=p1.region).output
    ref2 = matmul(x2, w2, device="tiny", region=p2.region).output
    for _ in range(3):
        assert np.array_equal(card.matmul(x1, p1).output, ref1)
        assert np.array_equal(card.matmul(x2, p2).output, ref2)


def test_numba_backend_gives_the_same_call():
    w, x = _data(11, (128, 128), (2, 128))
    outs = []
    for backend in ("c", "numba"):
        card = Card("tiny", backend=backend)
        r = card.matmul(x, card.place("w", w, rows=2))
        outs.append((r.output, r.cycles, r.energy_fj))
    assert np.array_equal(outs[0][0], outs[1][0]) and outs[0][1:] == outs[1][1:]


@pytest.mark.parametrize("device,k,n,rows", [("corsair", 1024, 2048, 1), ("corsair", 512, 512, 8),
                                             ("ring8", 2048, 1024, 4)])
def test_compute_phase_matches_matmul_on_larger_devices(device, k, n, rows):
    card = Card(device, mode="timing")
    card.place("first", (256, 256))
    pw = card.place("w", (k, n), rows=rows)
    r = card.matmul((rows, k), pw)
    ref = matmul((rows, k), (k, n), device=device, mode="timing", region=pw.region)
    assert r.phases["compute"]["cycles"] == ref.phases["compute"]["cycles"]
    assert r.metrics["compute_energy_fj_by_op"] == ref.metrics["compute_energy_fj_by_op"]
    assert r.cycles < ref.cycles


def test_weights_under_one_share_tag_reuse_working_buffers_and_stay_exact():
    w1, x = _data(5, (128, 128), (2, 128))
    w2 = _data(6, (128, 128))[0]
    card = Card("tiny")
    a = card.place("a", w1, rows=2, share="proj")
    used = card.machine.sram_bytes_used
    b = card.place("b", w2, rows=2, share="proj")
    assert card.machine.sram_bytes_used == used            # the same shapes: nothing new
    assert a.bufs["y"] == b.bufs["y"] and a.bufs["w_host"] != b.bufs["w_host"]
    assert card.sram_shared_bytes() > 0
    for pw, w in ((a, w1), (b, w2), (a, w1)):
        ref = matmul(x, w, device="tiny", region=pw.region)
        assert np.array_equal(card.matmul(x, pw).output, ref.output)
