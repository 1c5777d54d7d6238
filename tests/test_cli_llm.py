"""`chipemu run llm`: the per-response table with the H200 column and the Mistral reference,
comparisons, batch sweeps, JSON and plots, points that do not fit, bad options."""
import json

import pytest
from click.testing import CliRunner

from chipemu.cli.main import main

ARGS = ["run", "llm", "--model", "tiny", "--prompt", "4", "--new-tokens", "4",
        "--cache-lengths", "blocks"]


def run(*extra):
    return CliRunner().invoke(main, [*ARGS, *extra], terminal_width=160)


def test_table_has_the_device_the_h200_and_mistral(tmp_path):
    r = run("--json", str(tmp_path / "e.json"))
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    for words in ("TTFT (ms)", "ms / output token", "J / output token", "decode only",
                  "gCO2e / response", "mL water / response", "H200", "Mistral", "1.14 gCO2e",
                  "not modelled"):
        assert words in text
    rows = json.loads((tmp_path / "e.json").read_text())
    assert rows[0]["model"] == "tiny" and rows[0]["j_per_token"] > 0


def test_the_kv_cache_home_is_chosen_and_shown(tmp_path):
    r = run("--kv-home", "dram", "--json", str(tmp_path / "e.json"))
    assert r.exit_code == 0, r.output
    assert "KV cache in" in r.output and "DRAM" in r.output
    assert json.loads((tmp_path / "e.json").read_text())[0]["kv_home"] == "dram"
    bad = run("--kv-home", "sram")
    assert bad.exit_code != 0 and "--kv-home" in bad.output


def test_compare_and_sweep(tmp_path):
    wide = tmp_path / "config.json"
    wide.write_text(json.dumps({"hidden_size": 128, "intermediate_size": 256,
                                "num_hidden_layers": 1, "num_attention_heads": 2,
                                "num_key_value_heads": 1, "vocab_size": 512}))
    r = run("--model", str(wide), "--batch", "1", "--batch", "2", "--json",
            str(tmp_path / "e.json"))
    assert r.exit_code == 0, r.output
    assert "batch sweep" in r.output
    rows = json.loads((tmp_path / "e.json").read_text())
    other = rows[2]["model"]
    assert other != "tiny"
    assert [(e["model"], e["batch"]) for e in rows] == [("tiny", 1), ("tiny", 2), (other, 1),
                                                         (other, 2)]


def test_breakdown_by_call_and_component():
    r = run("--breakdown")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    for words in ("one decode step's energy", "static (all cards)", "lm_head", "attn"):
        assert words in text


def test_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    r = run("--batch", "1", "--batch", "2", "--plot", str(tmp_path / "curve.png"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "curve.png").stat().st_size > 1000


def test_a_point_that_does_not_fit_is_said(tmp_path):
    deep = tmp_path / "deep"
    deep.mkdir()
    (deep / "config.json").write_text(json.dumps({
        "hidden_size": 128, "intermediate_size": 128, "num_hidden_layers": 100000,
        "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 256}))
    r = run("--cards", "8", "--model", str(deep))
    assert r.exit_code == 0, r.output
    assert "does not fit" in r.output and "needs" in r.output and "cards=8" in r.output


@pytest.mark.parametrize("extra, word", [(["--cache-lengths", "1"], "cache-lengths"),
                                         (["--site", "mars"], "site"),
                                         (["--batch", "0"], "batch"),
                                         (["--plot", "x.png"], "--plot")])
def test_bad_options_are_one_line(extra, word):
    r = run(*extra)
    assert r.exit_code != 0 and word in r.output
