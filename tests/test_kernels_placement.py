"""chipemu.kernels.placement: first fit over (slot, tile, chiplet), no two weights share a DIMC
cell, a forced region is checked, and a weight that finds no room says what it needs, what is
free and what would fit."""
import numpy as np
import pytest

from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError
from chipemu.kernels.card import Card
from chipemu.kernels.matmul.plan import plan_matmul
from chipemu.kernels.placement import Ledger, cells, first_fit
from chipemu.kernels.region import Region

TINY = Device.preset("tiny")            # 4 chiplets x 4 tiles, 2 DIMC slots of 64 x 64 (mxint8)


def _w(k, n, seed=0):
    return np.random.default_rng(seed).standard_normal((k, n), dtype=np.float32)


def test_cells_are_the_plans_tiles_and_slot_ranges():
    plan = plan_matmul(1, 128, 128, "mxint8", "mxint8", TINY, region=Region([1, 2], [3], (0, 2)))
    assert cells(plan) == {4 + 3: (0, 2), 8 + 3: (0, 2)}          # one N-block per chiplet
    # streamed (2 blocks, 1 slot): the blocks pass through the region's one slot
    plan = plan_matmul(1, 128, 128, "mxint8", "mxint8", TINY, region=Region([1, 2], [3], (1, 2)))
    assert plan.passes == 2 and cells(plan) == {7: (1, 2), 11: (1, 2)}


def test_first_fit_fills_a_slot_layer_across_chiplets_then_tiles_then_the_next_layer():
    card = Card("tiny", mode="timing")
    held = [card.place(f"w{i}", (64, 64)).cells for i in range(17)]
    # one block each: chiplet-major order over the tiles of layer 0, then layer 1
    order = [t * 0 + c * 4 + t for t in range(4) for c in range(4)]
    assert [list(h) for h in held[:16]] == [[g] for g in order]
    assert all(h[g] == (0, 1) for h, g in zip(held[:16], order))
    assert held[16] == {0: (1, 2)}
    assert card.ledger.used_slots == 17


def test_no_two_weights_share_a_cell_and_every_cell_is_recorded():
    card = Card("tiny", mode="timing")
    shapes = [(128, 128), (64, 200), (64, 64), (128, 64)]
    seen = set()
    for i, (k, n) in enumerate(shapes):
        pw = card.place(f"w{i}", (k, n))
        mine = {(t, s) for t, (a, b) in pw.cells.items() for s in range(a, b)}
        assert not mine & seen
        assert all(card.ledger.names[card.ledger.owner[t, s]] == f"w{i}" for t, s in mine)
        seen |= mine
    assert card.ledger.used_slots == len(seen)


def test_a_forced_region_is_used_and_an_overlap_is_refused_by_name():
    card = Card("tiny")
    reg = Region([1], [2, 3], (1, 2))
    pw = card.place("a", _w(64, 128), region=reg)
    assert pw.region == reg and set(pw.cells) <= {6, 7}
    with pytest.raises(ConfigError) as e:
        card.place("b", _w(128, 64), region=Region([1], [2], (0, 2)))
    assert "overlaps placed weight 'a': tile 6 slot 1 is held" in str(e.value)
    assert "b" not in card.placed
    # the same tiles at the free slot layer are fine
    assert card.place("b", _w(64, 64), region=Region([1], [2], (0, 1))).cells == {6: (0, 1)}


def test_a_forced_region_with_too_few_slots_is_a_capacity_error():
    card = Card("tiny")
    with pytest.raises(CapacityError) as e:
        card.place("a", _w(256, 64), region=Region([0], [0], (0, 1)))
    assert "needs 4 DIMC slots per tile, the region has 1" in str(e.value)


def test_a_full_card_says_what_is_needed_free_and_what_would_fit():
    card = Card("tiny", mode="timing")
    card.place("a", (256, 256))                          # 4 x 4 blocks: half of the 32 slots
    with pytest.raises(CapacityError) as e:
        card.place("b", (512, 256))
    msg = str(e.value)
    assert "cannot place 'b' (512 x 256, mxint8, planned for rows=1) on 'tiny'" in msg
    assert "it needs 32 DIMC slots" in msg and "16 of 32 slots are free" in msg
    assert "working buffers need" in msg and "bytes of SRAM per tile" in msg
    assert "At mxint4 it needs 16 slots and does not fit here" in msg   # 8 K-blocks a chiplet
    assert "at least 2 (48 slots, 32 per card)" in msg
    with pytest.raises(CapacityError) as e:
        card.place("c", (256, 512))
    assert "At mxint4 it needs 16 slots and fits here" in str(e.value)
    assert card.place("c", (256, 512), fmt="mxint4").plan.weight_fmt == "mxint4"
    assert card.ledger.free_slots == 0
    with pytest.raises(CapacityError) as e:
        card.place("d", (64, 64 * 70))
    msg = str(e.value)
    assert "even an empty card cannot hold it stationary" in msg
    assert "this weight alone spans 3 cards" in msg


def test_first_fit_returns_none_when_blocks_exceed_the_free_slots():
    ledger = Ledger(TINY)
    ledger.owner[:] = 0
    ledger.names.append("x")
    assert first_fit(ledger, TINY, 64, 64, "mxint8", 1) is None
    ledger.owner[5, 1] = -1
    reg, plan = first_fit(ledger, TINY, 64, 64, "mxint8", 1)
    assert cells(plan) == {5: (1, 2)} and reg.slots == (1, 2)


def test_block_counts_equal_the_plans_block_lists():
    from chipemu.kernels.matmul.api import sizes
    from chipemu.kernels.placement import block_counts
    for dev in (Device.preset("tiny"), Device.preset("corsair")):
        big = dev.name == "corsair"
        for m, k, n in [(1, 64, 64), (3, 300, 1000), (64, 512, 128), (200, 256, 256)] + (
                [(16, 4096, 14336), (1, 14336, 4096)] if big else []):
            for reg in (None, Region(range(1, dev.n_chiplets), range(2, dev.tiles_per_chiplet),
                                     (1, dev.tile.dimc.weight_slots))):
                plan = plan_matmul(m, k, n, "mxint8", "mxint8", dev, region=reg)
                assert block_counts(plan) == {t: len(b) for t, b in sizes(plan).blocks.items()}
