"""Operator profiles (llm/profile.py, `chipemu profile`): Vidur's columns, one row per size,
times and energies that grow with the work, the tables written as CSV (Parquet when pandas is
there), bad sizes named."""
import csv
import importlib.util
import math

import pytest
from click.testing import CliRunner

from chipemu.cli.main import main
from chipemu.emulator.errors import ChipemuError
from chipemu.llm import ModelConfig
from chipemu.llm.profile import (ATTENTION_OPS, COMPUTE_OPS, attention_profile,
                                 compute_profile, write_table)

TINY = ModelConfig.preset("tiny")


@pytest.fixture(scope="module")
def tables():
    return (compute_profile(TINY, [1, 8, 64]),
            attention_profile(TINY, batches=[1, 4], kv=[32, 256], chunks=[16]))


def test_compute_rows_carry_vidurs_columns_and_grow_with_tokens(tables):
    mlp, _ = tables
    assert [r["num_tokens"] for r in mlp] == [1, 8, 64]
    for key in ("n_head", "n_kv_head", "n_embd", "n_expanded_embd", "use_gated_mlp",
                "vocab_size", "num_tensor_parallel_workers"):
        assert key in mlp[0]
    assert mlp[0]["n_embd"] == TINY.hidden_size and mlp[0]["use_gated_mlp"] is True
    for op in COMPUTE_OPS:
        times = [r[f"time_stats.{op}.median"] for r in mlp]
        assert all(t > 0 for t in times) and times[-1] >= times[0], op
        assert all(r[f"energy_j.{op}"] > 0 for r in mlp)
    # the same operator on the same device alone: the two RMSNorms cost the same
    assert mlp[1]["time_stats.input_layernorm.median"] == \
        mlp[1]["time_stats.post_attention_layernorm.median"]


def test_attention_rows_split_decode_and_prefill(tables):
    _, att = tables
    dec = [r for r in att if r["is_decode"]]
    pre = [r for r in att if not r["is_decode"]]
    assert len(dec) == 4 and len(pre) == 2
    assert all(r["prefill_chunk_size"] == 0 and r["time_stats.attn_decode.median"] > 0
               and math.isnan(r["time_stats.attn_prefill.median"]) for r in dec)
    assert all(r["batch_size"] == 1 and r["time_stats.attn_prefill.median"] > 0
               and math.isnan(r["time_stats.attn_decode.median"]) for r in pre)
    assert all(r["time_stats.attn_kv_cache_save.median"] > 0 for r in att)
    by = {(r["batch_size"], r["kv_cache_size"]): r["time_stats.attn_decode.median"] for r in dec}
    assert by[(4, 256)] > by[(1, 32)]                 # more sequences and keys, more time
    assert set(ATTENTION_OPS) <= {k.split(".")[1] for k in att[0] if k.startswith("time_stats")}


def test_tables_are_written_and_read_back(tables, tmp_path):
    mlp, att = tables
    for rows, name in ((mlp, "mlp.csv"), (att, "attention.csv")):
        path = write_table(rows, tmp_path / name)
        back = list(csv.DictReader(open(path)))
        assert len(back) == len(rows) and list(back[0]) == list(rows[0])
        assert back[0]["chipemu_version"] and back[0]["device"] == "corsair"
    if importlib.util.find_spec("pandas") and importlib.util.find_spec("pyarrow"):
        import pandas as pd
        write_table(att, tmp_path / "attention.parquet")
        assert len(pd.read_parquet(tmp_path / "attention.parquet")) == len(att)
    with pytest.raises(ChipemuError, match="path="):
        write_table(mlp, tmp_path / "mlp.txt")


@pytest.mark.parametrize("call, match", [
    (lambda: compute_profile(TINY, [0]), "tokens=0"),
    (lambda: compute_profile(TINY, []), "tokens=\\[\\]"),
    (lambda: attention_profile(TINY, batches=[1], kv=[0]), "kv=0"),
    (lambda: attention_profile(TINY, batches=[1], kv=[8], kv_home="sram"), "kv_home='sram'")])
def test_bad_sizes_are_named(call, match):
    with pytest.raises(ChipemuError, match=match):
        call()


def test_the_command_writes_both_tables(tmp_path):
    r = CliRunner().invoke(main, ["profile", "--model", "tiny", "--tokens", "1,4", "--batch",
                                  "1", "--kv", "16", "--chunk", "8", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert len(list(csv.DictReader(open(tmp_path / "mlp.csv")))) == 2
    assert len(list(csv.DictReader(open(tmp_path / "attention.csv")))) == 2
    v = CliRunner().invoke(main, ["profile", "--model", "tiny", "--tokens", "1", "--batch", "1",
                                  "--kv", "16", "--chunk", "8", "--out", str(tmp_path),
                                  "--vidur-model", "org/tiny"])
    assert v.exit_code == 0, v.output
    import json
    import lzma
    assert json.loads((tmp_path / "vidur" / "config.json").read_text()) == {
        "model": "org/tiny", "device_sku": "corsair"}
    with lzma.open(tmp_path / "vidur" / "mlp.csv.xz", "rt") as f:
        assert len(list(csv.DictReader(f))) == 1
    bad = CliRunner().invoke(main, ["profile", "--model", "tiny", "--tokens", "x",
                                    "--out", str(tmp_path)])
    assert bad.exit_code != 0 and "--tokens" in bad.output
