"""What an estimate returns (`Estimate`), the server preset (`SERVER`) and Mistral's published
reference figure (`MISTRAL`); docs/llm.md explains each figure."""
from __future__ import annotations

from dataclasses import dataclass, field

from chipemu.llm.gpu import GpuEstimate

__all__ = ["Server", "SERVER", "Estimate", "MISTRAL"]


@dataclass(frozen=True)
class Server:
    """Cards joined by card-to-card links (a decode step's activations cross them)."""
    name: str
    cards: int
    link_bytes_per_s: float
    link_latency_s: float
    link_pj_per_bit: float
    source: str


SERVER = Server("corsair-server", 8, 256e9, 100e-9, 1.0,
                "8 cards per server (Hot Chips 2025); card-to-card bridge 256 GB/s, 1 pJ/bit, "
                "100 ns: assumed (hardware-numbers.md: no public figure)")

MISTRAL = {"tokens": 400, "co2e_g": 1.14, "water_ml": 45.0,
           "source": "Mistral AI LCA (July 2025, Carbone 4, ADEME): one 400-token Le Chat reply "
                     "of Mistral Large 2, location-based, cooling and hardware manufacturing "
                     "included, training not"}


@dataclass
class Estimate:
    """One response of `batch` sequences (times in s, energies in J for the whole batch unless
    'per response' (one sequence) or 'per token' (one output token))."""
    model: str
    batch: int
    prompt: int
    new_tokens: int
    cards: int
    layers_per_card: int
    fmt: str
    weight_fmt: str
    site: str
    ttft_s: float
    response_s: float
    energy_j: float
    static_j: float
    decode_j: float                     # the decode steps' share of energy_j
    co2e_g: float                       # per response
    water_ml: float                     # per response
    gpu: GpuEstimate
    gpu_co2e_g: float
    gpu_water_ml: float
    by_call_j: dict = field(default_factory=dict)       # one decode step at the last length
    by_component_j: dict = field(default_factory=dict)  # the same step
    cache_lengths: str = "exact"
    timed_points: int = 0
    wall_s: float = 0.0
    prefill_chunk: int = 1              # prompt tokens per sequence per prefill step
    kv_home: str = "dimc"               # the KV cache in the DIMC slots or streamed from DRAM

    @property
    def tpot_s(self) -> float:
        n = self.new_tokens - 1
        return (self.response_s - self.ttft_s) / n if n else 0.0

    @property
    def tokens_per_s_user(self) -> float:
        return 1 / self.tpot_s if self.tpot_s else 0.0

    @property
    def tokens_per_s_total(self) -> float:
        return self.batch * self.tokens_per_s_user

    @property
    def j_per_token(self) -> float:
        return self.energy_j / (self.batch * self.new_tokens)

    @property
    def decode_j_per_token(self) -> float:
        """Energy of one decode step per sequence (no prompt): the marginal output token."""
        n = self.new_tokens - 1
        return self.decode_j / (self.batch * n) if n else 0.0

    @property
    def gpu_tpot_s(self) -> float:
        """The H200 column's time per output token (s)."""
        return self.gpu.decode_s / max(self.new_tokens - 1, 1)

    @property
    def gpu_decode_j_per_token(self) -> float:
        n = self.new_tokens - 1
        return self.gpu.decode_j / (self.batch * n) if n else 0.0

    @property
    def j_per_response(self) -> float:
        return self.energy_j / self.batch

    @property
    def wh_per_response(self) -> float:
        return self.j_per_response / 3600

    @property
    def static_share(self) -> float:
        return self.static_j / self.energy_j if self.energy_j else 0.0

    @property
    def gpu_j_per_token(self) -> float:
        return self.gpu.energy_j / (self.batch * self.new_tokens)

    def as_dict(self) -> dict:
        keys = ("model", "batch", "prompt", "new_tokens", "cards", "layers_per_card", "fmt",
                "weight_fmt", "site", "ttft_s", "tpot_s", "response_s", "tokens_per_s_user",
                "tokens_per_s_total", "energy_j", "j_per_token", "decode_j_per_token",
                "prefill_chunk", "kv_home",
                "gpu_decode_j_per_token", "j_per_response",
                "wh_per_response", "static_share", "co2e_g", "water_ml", "cache_lengths",
                "timed_points", "wall_s", "gpu_j_per_token", "gpu_co2e_g", "gpu_water_ml")
        out = {k: getattr(self, k) for k in keys}
        out.update(gpu_ttft_s=self.gpu.ttft_s, gpu_tpot_s=self.gpu_tpot_s, gpu_fits=self.gpu.fits)
        return out
