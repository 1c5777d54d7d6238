"""What a program needs to drive a layer op on device-resident data: a `LayerOp`.

A layer op (rmsnorm, glu, ...) keeps each float32 tensor operand in its own SRAM buffer: on
member tile t (global ids 0 .. plan.tiles - 1) the rows x n_t block of columns
`plan.tile_cols(t) = (c0, n_t)`, row-major at offset 0. Its load supersteps only read the host
(tensor inputs and constants); its compute supersteps touch SRAM only. A program therefore skips
the load: it writes the constants once when the op is set up, moves each input into its buffer
on the device (kernels/program), and launches the compute supersteps.

    OP = LayerOp("rmsnorm", inputs=("x",), output="y", compute=compute_phase,
                 constants=constant_data)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["LayerOp"]


@dataclass(frozen=True)
class LayerOp:
    """One layer op's program interface.

    inputs: the SRAM buffers of its tensor inputs, in argument order; output: the SRAM buffer of
    its result (same column distribution); compute(run, plan, p): launches the compute
    supersteps, inside whatever phase the caller opened; constants(plan, *values): {SRAM buffer:
    {member tile: float32 array of its bytes}} of every buffer the load fills that is not a
    tensor input (weights such as gamma, scalar constants, tables)."""

    name: str
    inputs: tuple
    output: str
    compute: Callable
    constants: Callable
