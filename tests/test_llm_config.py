"""chipemu.llm.config: the built-in models give their published parameter counts, a Hugging
Face config.json (file, folder or dict) reads back to the same model, defaults follow the
transformers library, and bad configs are named errors."""
import json

import pytest

from chipemu.emulator.errors import ConfigError
from chipemu.llm import PRESETS, ModelConfig

# published sizes (model cards): 1.24 B, 3.21 B, 8.03 B, 7.25 B, 70.6 B parameters
PUBLISHED = {"llama-3.2-1b": 1.24e9, "llama-3.2-3b": 3.21e9, "llama-3.1-8b": 8.03e9,
             "mistral-7b": 7.25e9, "llama-3.1-70b": 70.6e9}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_presets_have_their_published_sizes_and_a_source(name):
    cfg = ModelConfig.preset(name)
    assert abs(cfg.parameters() - PUBLISHED[name]) < 0.01 * PUBLISHED[name]
    assert "Hugging Face" in cfg.source
    shape = cfg.block_shape()
    assert (shape.hidden, shape.heads, shape.kv_heads, shape.head_dim) == (
        cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim)


def test_sizes_in_formats():
    cfg = ModelConfig.preset("llama-3.1-8b")
    # mxint4: 4.25 bits a weight; the KV cache: 2 x 32 layers x 8 heads x 128 x 8.25 bits
    assert cfg.weight_bytes("mxint4") == -(-cfg.parameters() * 4.25 // 8)
    assert cfg.kv_bytes_per_token("mxint8") == 2 * 32 * 8 * 128 * 8.25 / 8
    assert ModelConfig.preset("llama-3.2-1b").parameters() < cfg.parameters()   # tied head


@pytest.mark.parametrize("how", ["file", "folder", "dict"])
def test_hugging_face_config_round_trip(tmp_path, how):
    cfg = ModelConfig.preset("mistral-7b")
    hf = dict(cfg.to_hf(), torch_dtype="bfloat16", bos_token_id=1)    # extra keys are ignored
    (tmp_path / "config.json").write_text(json.dumps(hf))
    arg = {"file": tmp_path / "config.json", "folder": tmp_path, "dict": hf}[how]
    back = ModelConfig.from_hf(arg, name="m")
    same = lambda c: {k: v for k, v in vars(c).items() if k not in ("name", "source")}
    assert same(back) == same(cfg)


def test_hugging_face_defaults():
    cfg = ModelConfig.from_hf({"hidden_size": 512, "intermediate_size": 1024,
                               "num_hidden_layers": 2, "num_attention_heads": 8,
                               "vocab_size": 1000})
    assert (cfg.head_dim, cfg.num_key_value_heads, cfg.tie_word_embeddings) == (64, 8, False)


@pytest.mark.parametrize("bad,match", [
    ({"num_key_value_heads": 3}, "multiple"), ({"head_dim": 63}, "even"),
    ({"hidden_size": 0}, "hidden_size"), ({"rms_norm_eps": -1}, "rms_norm_eps"),
    ({"hidden_size": True}, "hidden_size"), ({"tie_word_embeddings": 2}, "tie_word_embeddings")])
def test_bad_configs_are_named(bad, match):
    hf = dict(ModelConfig.preset("tiny").to_hf(), **bad)
    with pytest.raises(ConfigError, match=match):
        ModelConfig.from_hf(hf)


def test_missing_keys_unreadable_files_and_unknown_presets(tmp_path):
    with pytest.raises(ConfigError, match="lacks vocab_size"):
        ModelConfig.from_hf({"hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
                             "num_attention_heads": 2})
    with pytest.raises(ConfigError, match="cannot read"):
        ModelConfig.from_hf(tmp_path)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        ModelConfig.from_hf(tmp_path)
    with pytest.raises(ConfigError, match="llama-3.1-8b"):
        ModelConfig.preset("gpt-5")
    assert set(PRESETS) >= {"llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "mistral-7b",
                            "llama-3.1-70b", "tiny"}
