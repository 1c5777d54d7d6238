"""chipemu.llm: decoder LLMs on the emulated cards (issue 13, being built; docs/llm.md when it
lands). Built so far: model configurations (config.py), weights by Hugging Face name (weights.py),
checkpoint folders read and written with safetensors (checkpoint.py),
a model placed on one card generating greedily token by token as programs (model.py), and the
NumPy float32 model it is measured against (reference.py)."""
from chipemu.llm.config import PRESETS, ModelConfig

__all__ = ["ModelConfig", "PRESETS"]
