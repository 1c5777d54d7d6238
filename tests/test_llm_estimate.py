"""Response estimates (llm/estimate.py): cache-length sampling against timing every length,
cards and links, energy split, sites, the H200 column, errors."""
import dataclasses

import pytest

from chipemu.emulator.errors import CapacityError, ChipemuError, ShapeError
from chipemu.llm import ModelConfig
from chipemu.llm.estimate import SERVER, estimate, response_line
from chipemu.llm.gpu import h200_estimate, measured
from chipemu.llm.sites import SITES

TINY = ModelConfig.preset("tiny")


@pytest.fixture(scope="module")
def exact():
    return estimate(TINY, batch=2, prompt=70, new_tokens=70, cache_lengths="exact",
                    prefill_chunk=1)


def test_blocks_follow_every_length(exact):
    blocks = estimate(TINY, batch=2, prompt=70, new_tokens=70, cache_lengths="blocks",
                      prefill_chunk=1)
    assert blocks.timed_points < exact.timed_points == 139
    for f in ("ttft_s", "response_s", "energy_j"):
        assert getattr(blocks, f) == pytest.approx(getattr(exact, f), rel=1e-3)


def test_sampled_lengths_are_close(exact):
    few = estimate(TINY, batch=2, prompt=70, new_tokens=70, cache_lengths=6, prefill_chunk=1)
    assert few.timed_points == 6
    assert few.response_s == pytest.approx(exact.response_s, rel=0.02)


def test_figures_add_up(exact):
    e = exact
    assert 0 < e.ttft_s < e.response_s
    assert e.tpot_s == pytest.approx((e.response_s - e.ttft_s) / 69)
    assert e.tokens_per_s_total == pytest.approx(2 / e.tpot_s)
    assert e.j_per_token == pytest.approx(e.energy_j / 140)
    assert 0 < e.static_j < e.energy_j
    site = SITES["us-average"]
    assert e.co2e_g == pytest.approx(e.energy_j / 2 / 3.6e6 * site.pue * site.grid_gco2e_per_kwh)
    assert e.water_ml == pytest.approx(e.energy_j / 2 / 3.6e6 * site.water_l_per_kwh * 1e3)
    assert e.cards == 1 and e.layers_per_card == TINY.num_hidden_layers
    assert "attn" in e.by_call_j and "lm_head" in e.by_call_j
    assert "tiny, batch 2" in response_line(e)


def test_a_chunked_prefill_is_faster_than_a_token_per_step(exact):
    for c in ("auto", 16):
        e = estimate(TINY, batch=2, prompt=70, new_tokens=70, cache_lengths="exact",
                     prefill_chunk=c)
        assert e.prefill_chunk == 16 and e.timed_points == 5 + 69     # 5 chunks, 69 steps
        assert e.ttft_s < exact.ttft_s / 2
        # the decode steps are the same
        assert e.tpot_s == pytest.approx(exact.tpot_s, rel=1e-9)
        assert e.decode_j == pytest.approx(exact.decode_j, rel=1e-9)
        assert e.energy_j < exact.energy_j


def test_longer_responses_and_bigger_batches_cost_more():
    a = estimate(TINY, batch=1, prompt=4, new_tokens=8, cache_lengths="blocks")
    b = estimate(TINY, batch=1, prompt=4, new_tokens=16, cache_lengths="blocks")
    c = estimate(TINY, batch=4, prompt=4, new_tokens=8, cache_lengths="blocks")
    assert b.response_s > a.response_s and b.energy_j > a.energy_j
    assert c.tokens_per_s_total > a.tokens_per_s_total     # batching buys throughput
    assert c.j_per_token < a.j_per_token                   # and cuts energy per token


def test_several_cards_pay_the_links():
    wide = dataclasses.replace(TINY, name="tiny-wide", num_hidden_layers=40)
    one = estimate(wide, batch=1, prompt=2, new_tokens=2, cache_lengths="blocks")
    assert one.cards >= 1
    few = dataclasses.replace(TINY, name="tiny-deep", num_hidden_layers=one.layers_per_card * 3)
    e = estimate(few, batch=1, prompt=2, new_tokens=2, cache_lengths="blocks")
    assert e.cards >= 3 and e.by_call_j["card links"] > 0
    with pytest.raises(CapacityError, match="needs .* cards"):
        estimate(few, batch=1, prompt=2, new_tokens=2, cards=2, cache_lengths="blocks")


@pytest.mark.parametrize("kw, match", [
    (dict(batch=0), "batch"), (dict(prompt=0), "prompt"), (dict(new_tokens=0), "new_tokens"),
    (dict(cache_lengths="some"), "cache_lengths"), (dict(cache_lengths=1), "cache_lengths"),
    (dict(site="mars"), "site"), (dict(cards=0), "cards"), (dict(prefill_chunk=0),
                                                            "prefill_chunk"),
    (dict(kv_home="sram"), "kv_home='sram'")])
def test_bad_input_is_named(kw, match):
    args = dict(batch=1, prompt=2, new_tokens=2) | kw
    with pytest.raises(ChipemuError, match=match):
        estimate(TINY, **args)


def test_h200_column_matches_the_measured_kernels():
    cases = measured()["cases"]
    g = cases["decode_gemm_b1_4096x14336_bf16"]
    # one layer's GEMMs of a model made of a single 4096 x 14336 matrix pair are its bytes
    cfg = ModelConfig.preset("llama-3.1-8b")
    e = h200_estimate(cfg, batch=1, prompt=1, new_tokens=2)
    params = 32 * (4096 * 4096 * 2 + 2 * 4096 * 1024 + 3 * 4096 * 14336) + 4096 * 128256
    per_byte = g["s"] / (4096 * 14336 * 2)
    kv = 32 * 2 * 8 * 128 * 2 * 2
    a = cases["attn_decode_b1_kv4096_h32_d128_bf16"]
    assert e.decode_s == pytest.approx(params * 2 * per_byte + kv * a["s"] / a["bytes"])
    assert e.fits
    big = h200_estimate(ModelConfig.preset("llama-3.1-70b"), batch=1, prompt=1, new_tokens=2)
    assert not big.fits
    b16 = h200_estimate(cfg, batch=16, prompt=512, new_tokens=400)
    assert b16.energy_j / (16 * 400) < e.energy_j / 2      # batching pays on the GPU too


def test_server_preset_is_sourced():
    assert SERVER.cards == 8 and SERVER.link_bytes_per_s > 0 and "assumed" in SERVER.source
    with pytest.raises(ShapeError):
        estimate(TINY, batch=1, prompt=1, new_tokens=1, cache_lengths=True)


def test_llama_3_1_8b_at_mxint4_fits_the_server():
    """The issue's capacity question: 4 layers per card by DIMC slots, the LM head split over
    the eight cards' leftover slots; it does not fit one card."""
    e = estimate(ModelConfig.preset("llama-3.1-8b"), batch=1, prompt=2, new_tokens=2,
                 cards=SERVER.cards, cache_lengths="blocks")
    assert e.cards == 8 and e.layers_per_card == 4
    with pytest.raises(CapacityError, match="needs 8 corsair cards"):
        estimate(ModelConfig.preset("llama-3.1-8b"), batch=1, prompt=2, new_tokens=2, cards=1,
                 cache_lengths="blocks")


def test_llama_3_1_8b_at_batch_16_fits_the_server_with_its_cache_in_dram():
    """In the DIMC slots its caches (16 x 911 keys a layer) leave room for 3 layers a card, 11
    cards; streamed from DRAM they hold one block's slots a tile: 4 layers a card, 8 cards."""
    e = estimate(ModelConfig.preset("llama-3.1-8b"), batch=16, prompt=512, new_tokens=400,
                 cards=SERVER.cards, cache_lengths=2, prefill_chunk=1)
    assert (e.kv_home, e.cards, e.layers_per_card) == ("dram", 8, 4)
    assert e.as_dict()["kv_home"] == "dram"


def test_auto_keeps_the_cache_in_the_dimc_where_it_fits_and_dram_streams_cost_time():
    kw = dict(batch=4, prompt=4, new_tokens=8, cache_lengths="blocks", prefill_chunk=1)
    dimc, dram, auto = (estimate(TINY, kv_home=h, **kw) for h in ("dimc", "dram", "auto"))
    assert (dimc.kv_home, dram.kv_home, auto.kv_home) == ("dimc", "dram", "dimc")
    assert (auto.tpot_s, auto.energy_j) == (dimc.tpot_s, dimc.energy_j)
    assert dram.tpot_s > dimc.tpot_s and dram.layers_per_card >= dimc.layers_per_card


def test_one_layer_stands_for_each_layer_of_a_card():
    """The estimate's composition (layers x one layer's step, timed from its input's arrival)
    against a card running three layers, each placed like the first in its own slots, in one
    program."""
    from chipemu.kernels.card import Card
    from chipemu.kernels.program.block import block_step, place_block

    shape = TINY.block_shape()
    card = Card("corsair", mode="timing")
    blks, top = [], 0
    for i in range(3):
        blks.append(place_block(card, shape, shape.weight_shapes(), batch=2, max_len=64,
                                prefix=f"l{i}", share="layers", rope_tables="dram",
                                max_replicas=1, weight_fmt="mxint4", slot_floor=i * top))
        top = top or card.ledger.top_slot
    alone = []
    for b in blks:
        b.cache.lengths[:] = 40
        with card.program() as p:
            block_step(p, b, p.input((2, shape.hidden)))
        alone.append(p.result)
    assert len({r.cycles for r in alone}) == 1          # each layer times as the first
    x = alone[0].kernels["x"]["end_cycle"]
    for b in blks:
        b.cache.lengths[:] = 40
    with card.program() as p:
        y = p.input((2, shape.hidden))
        for b in blks:
            y = block_step(p, b, y)
    assert p.result.cycles == pytest.approx(x + 3 * (alone[0].cycles - x), rel=0.01)
