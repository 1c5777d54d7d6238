"""Programs: kernel calls on a card's placed weights and ops, recorded into one event log and
timed by one engine run, with activations kept on the device (docs/programs.md).

Modules: tensor (DeviceTensor and its blocks), redistribute (the moves between layouts), ops
(layer ops placed on a card), recorder (`Program`), spans (per-kernel figures).
"""
from chipemu.kernels.program.ops import PlacedOp
from chipemu.kernels.program.recorder import Program
from chipemu.kernels.program.spans import KernelSpan
from chipemu.kernels.program.tensor import Block, DeviceTensor

__all__ = ["Program", "PlacedOp", "DeviceTensor", "Block", "KernelSpan"]
