"""A KV cache on a card's Machine beside a placed weight (kernels/attention/placed.py): ten decode
steps bit-exact to a cache alone on a fresh machine with the same region, the weight's outputs
unchanged by the steps and the steps by the weight's calls; first fit around placed weights;
overlapping regions, taken names and machines of another kind refused before any work."""
import numpy as np
import pytest

from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError
from chipemu.emulator.events import OPS
from chipemu.kernels import KVCache, attention
from chipemu.kernels.attention.placed import kv_cells, place_kv_cache
from chipemu.kernels.attention.ref import attention_reference
from chipemu.kernels.card import Card
from chipemu.kernels.region import Region

TINY = Device.preset("tiny")
B, H, HKV, D, ML, L0 = 1, 4, 2, 64, 200, 60
REGION = Region([2, 3], range(4), (0, 2))         # 8 tiles: 2 units x 4 members, 1 block each


def _bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((64, 128), dtype=np.float32)       # tiles 0 and 4, slot 0 (first fit)
    x = rng.standard_normal((1, 64), dtype=np.float32)
    k = rng.standard_normal((B, HKV, L0, D), dtype=np.float32)
    v = rng.standard_normal((B, HKV, L0, D), dtype=np.float32)
    steps = [tuple(rng.standard_normal(s, dtype=np.float32) for s in
                   ((B, H, 1, D), (B, HKV, 1, D), (B, HKV, 1, D))) for _ in range(10)]
    return w, x, k, v, steps


def _card_and_cache(backend="c", mode="functional"):
    w, x, k, v, steps = _data()
    timing = mode == "timing"
    card = Card("tiny", backend=backend, mode=mode)
    wq = card.place("wq", w.shape if timing else w)
    before = card.matmul(x.shape if timing else x, wq)
    cache = place_kv_cache(card, "kv", k.shape if timing else k, v.shape if timing else v,
                           region=REGION, max_len=ML, heads=H)
    return card, wq, before, cache, (w, x, k, v, steps)


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_ten_steps_on_a_card_equal_a_cache_alone_and_leave_the_weight_alone(backend):
    card, wq, before, cache, (w, x, k, v, steps) = _card_and_cache(backend)
    alone = KVCache(k, v, max_len=ML, heads=H, device="tiny", region=REGION, backend=backend)
    assert cache.machine is card.machine and alone.machine is not card.machine
    assert kv_cells(cache.plan) == kv_cells(alone.plan) == {t: (0, 2) for t in
                                                             REGION.tile_ids(TINY)}
    assert card.ledger.clash(kv_cells(cache.plan)) == ("kv", 8, 0)     # held by the cache
    full_k = np.zeros((B, HKV, ML, D), np.float32)
    full_v = np.zeros((B, HKV, ML, D), np.float32)
    full_k[:, :, :L0], full_v[:, :, :L0] = k, v
    inside = set(REGION.tile_ids(TINY))
    for i, (q, kn, vn) in enumerate(steps):
        r = attention(q, kn, vn, cache=cache)
        ra = attention(q, kn, vn, cache=alone)
        full_k[:, :, L0 + i], full_v[:, :, L0 + i] = kn[:, :, 0], vn[:, :, 0]
        keep = np.arange(ML)[None, None, None, :] < L0 + i + 1
        ref = attention_reference(q, full_k, full_v, r.plan, attn_mask=keep, device=r.device)
        assert np.array_equal(_bits(r.output), _bits(ra.output))
        assert np.array_equal(_bits(r.output), _bits(ref))
        assert (r.cycles, r.energy_fj, r.phases) == (ra.cycles, ra.energy_fj, ra.phases)
        ev = r.events.events
        assert set(ev["tile"].tolist()) <= inside
        dimc = np.isin(ev["op"], [OPS["dimc_load"], OPS["dimc_mvm"]])
        assert set(ev["c"][dimc].tolist()) <= {0, 1}
        call = card.matmul(x, wq)           # the weight between the cache's steps
        assert np.array_equal(_bits(call.output), _bits(before.output))
        assert call.cycles == before.cycles
    assert cache.lengths.tolist() == alone.lengths.tolist() == [L0 + 10]


def test_timing_mode_on_a_card_logs_what_functional_mode_does():
    *_, fcache, (w, x, k, v, steps) = _card_and_cache()
    *_, tcache, _ = _card_and_cache(mode="timing")
    for q, kn, vn in steps[:3]:
        rf = attention(q, kn, vn, cache=fcache)
        rt = attention(q.shape, kn.shape, vn.shape, cache=tcache)
        assert rf.events.equals(rt.events) and (rf.cycles, rf.energy_fj) == (rt.cycles,
                                                                            rt.energy_fj)


def test_first_fit_goes_around_placed_weights_and_the_ledger_holds_the_cache():
    w, x, k, v, _ = _data()
    card = Card("tiny")
    card.place("wq", w)                                     # tiles 0 and 4, slot 0
    kw = dict(max_len=128, heads=H, max_new=1)              # 2 units x 2 members of 1 block
    c1 = place_kv_cache(card, "kv1", k, v, **kw)
    cells = kv_cells(c1.plan)
    assert cells and not set(cells) & {0, 4} and c1.region.slots == (0, 2)
    c2 = place_kv_cache(card, "kv2", k, v, **kw)            # the next free cells
    assert not set(kv_cells(c2.plan)) & (set(cells) | {0, 4})
    assert card.ledger.used_slots == 2 + 2 * 2 * len(cells)          # 2 caches x 2 slots
    with pytest.raises(CapacityError, match="cannot place KV cache 'kv3'"):
        place_kv_cache(card, "kv3", k, v, max_len=ML, heads=H)


def test_a_region_over_placed_weights_a_taken_name_or_a_foreign_machine_is_refused():
    w, x, k, v, _ = _data()
    card = Card("tiny")
    card.place("wq", w)
    held = (card.machine.sram_bytes_used, len(card.machine.buffers), card.ledger.used_slots)
    with pytest.raises(ConfigError, match=r"overlaps placed 'wq': tile 4 slot 0 is held"):
        place_kv_cache(card, "kv", k, v, region=Region([1, 2], range(4), (0, 2)), max_len=ML,
                       heads=H)
    with pytest.raises(ConfigError, match="name='wq' is already placed"):
        place_kv_cache(card, "wq", k, v, region=REGION, max_len=ML, heads=H)
    assert (card.machine.sram_bytes_used, len(card.machine.buffers),
            card.ledger.used_slots) == held
    with pytest.raises(ConfigError, match="mode='timing' with machine=: the machine's is"):
        KVCache(k, v, max_len=ML, device="tiny", machine=card.machine, mode="timing")
    with pytest.raises(ConfigError, match="not a machine of device 'corsair'"):
        KVCache(k, v, max_len=ML, device="corsair", machine=card.machine)
    with pytest.raises(ConfigError, match="allowed: one of them"):
        KVCache(k, v, max_len=ML, device="tiny", region=REGION, placer=lambda plan: REGION)
    with pytest.raises(ConfigError, match="region=.* with a cache"):
        cache = KVCache(k, v, max_len=ML, heads=H, device="tiny", region=REGION)
        attention(np.zeros((B, H, 1, D), np.float32), k[:, :, :1], v[:, :, :1], cache=cache,
                  region=REGION)


def test_a_cache_short_of_sram_on_a_shared_machine_is_refused_before_any_buffer():
    _, _, k, v, _ = _data()
    card = Card("tiny")
    card.machine.alloc_sram("filler", TINY.sram_buffer_bytes - 4096)
    n = len(card.machine.buffers)
    with pytest.raises(CapacityError, match="a KV cache's buffers need .* bytes of SRAM"):
        place_kv_cache(card, "kv", k, v, region=REGION, max_len=ML, heads=H)
    assert len(card.machine.buffers) == n and card.ledger.used_slots == 0
