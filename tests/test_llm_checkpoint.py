"""chipemu.llm.checkpoint: a Hugging Face style folder written by save_checkpoint (float32,
float16 or bfloat16 tensors) loads back to the same model and weights and generates; missing,
misshapen or unreadable checkpoints are named errors."""
import dataclasses
import json

import ml_dtypes
import numpy as np
import pytest

from chipemu.emulator.errors import ConfigError
from chipemu.llm import ModelConfig
from chipemu.llm.checkpoint import load_checkpoint, save_checkpoint
from chipemu.llm.model import CardModel
from chipemu.llm.reference import reference_generate
from chipemu.llm.weights import random_weights

CFG = dataclasses.replace(ModelConfig.preset("tiny"), tie_word_embeddings=False, name="ckpt")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_round_trip_and_generate(tmp_path, dtype):
    w = random_weights(CFG, 3)
    save_checkpoint(tmp_path / "m", CFG, w, dtype=dtype)
    cfg, back = load_checkpoint(tmp_path / "m")
    assert cfg.hidden_size == CFG.hidden_size and not cfg.tie_word_embeddings
    for n, a in w.items():
        assert np.array_equal(back[n], a.astype(dtype).astype(np.float32))
    out = CardModel(cfg, back, batch=1, max_len=8).generate([[5, 6]], 3)
    assert np.array_equal(out.tokens, reference_generate(cfg, back, [[5, 6]], 3).tokens)


def test_bfloat16_files_and_extra_tensors(tmp_path):
    import safetensors.numpy as st
    w = random_weights(ModelConfig.preset("tiny"), 4)           # tied: no lm_head
    (tmp_path / "config.json").write_text(json.dumps(ModelConfig.preset("tiny").to_hf()))
    half = {n: a.astype(ml_dtypes.bfloat16) for n, a in w.items()}
    names = sorted(half)
    st.save_file({n: half[n] for n in names[:3]}, str(tmp_path / "model-00001.safetensors"))
    st.save_file({**{n: half[n] for n in names[3:]},
                  "model.layers.0.self_attn.rotary_emb.inv_freq": np.ones(32, np.float32)},
                 str(tmp_path / "model-00002.safetensors"))
    cfg, back = load_checkpoint(tmp_path)
    assert set(back) == set(w) and cfg.tie_word_embeddings
    assert np.array_equal(back["model.norm.weight"],
                          w["model.norm.weight"].astype(ml_dtypes.bfloat16).astype(np.float32))


def test_bad_checkpoints_are_named(tmp_path):
    with pytest.raises(ConfigError, match="not a directory"):
        load_checkpoint(tmp_path / "nope")
    save_checkpoint(tmp_path / "m", CFG, random_weights(CFG, 0))
    (tmp_path / "m" / "model.safetensors").rename(tmp_path / "m" / "x.bin")
    with pytest.raises(ConfigError, match="no \\*.safetensors"):
        load_checkpoint(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"\x00" * 7)
    with pytest.raises(ConfigError, match="cannot read"):
        load_checkpoint(tmp_path / "m")
    import safetensors.numpy as st
    w = random_weights(CFG, 0)
    w.pop("model.norm.weight")
    w["lm_head.weight"] = w["lm_head.weight"][:, :10].copy()
    st.save_file(w, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(ConfigError, match="lacks 1 tensors"):
        load_checkpoint(tmp_path / "m")
    w["model.norm.weight"] = np.ones(64, np.float32)
    st.save_file(w, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(ConfigError, match="wrong shape: lm_head.weight"):
        load_checkpoint(tmp_path / "m")
