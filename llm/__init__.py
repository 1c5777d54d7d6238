"""chipemu.llm: decoder LLMs on the emulated cards (issue 13, being built; docs/llm.md when it
lands). Built so far: model configurations (config.py)."""
from chipemu.llm.config import PRESETS, ModelConfig

__all__ = ["ModelConfig", "PRESETS"]
