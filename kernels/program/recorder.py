"""`Program`: kernel calls on a card recorded into one event log and timed by one engine run.

    with card.program() as p:
        x = p.input(x_host)                      # host -> device, once
        h = p.op(norm, x)                        # a placed layer op
        y = p.matmul(h, wq)                      # a placed weight
        p.output(y)                              # device -> host (functional mode)
    p.result.kernels, p.result.write_trace("out")

Every call is one phase of the run, named after the placed weight or op (a second call of the
same one gets "#2", ...): the moves that bring its inputs into the layout it reads, then its
compute supersteps. Nothing waits for a whole kernel to finish: the engine orders ops by their
hazards only, so a kernel's first ops start as soon as their inputs have landed and independent
work overlaps. Tensors stay on the device; a tensor whose buffer a later call rewrote is stale
(ConfigError when used).
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.emulator.numerics.formats import get_format
from chipemu.kernels.attention import ingest
from chipemu.kernels.matmul import data as MD
from chipemu.kernels.matmul.api import compute_steps
from chipemu.kernels.move import MOVE_RUN, Moves
from chipemu.kernels.placement import PlacedWeight
from chipemu.kernels.program.ops import KINDS, HostlessBufs, check_placed
from chipemu.kernels.program.redistribute import check_shape, redistribute, same_layout
from chipemu.kernels.program.spans import kernel_spans
from chipemu.kernels.program.tensor import (Block, DeviceTensor, column_blocks, column_split,
                                            matmul_blocks, read_tensor)
from chipemu.kernels.scaffold import Run, shape_of

__all__ = ["Program"]


def _blocks(tuples):
    return tuple(Block(*t) for t in tuples)


class Program:
    """One recorded program on `card` (see the module docstring); use as a context manager."""

    def __init__(self, card, name: str = "program"):
        self.card = card
        self.run = Run(name, card.device, machine=card.machine)
        self.outputs: dict = {}
        self.result = None
        self._kinds: dict[str, str] = {}
        self._open = False

    def __enter__(self):
        if self.card._program is not None:
            raise ConfigError("a program is already recording on this card; finish it first")
        self.run.start()
        self.card.machine.clear_log()
        self.card._program, self._open = self, True
        return self

    def __exit__(self, exc_type, exc, tb):
        self.card._program, self._open = None, False
        if exc_type is None:
            r = self.run.finish(output=self.outputs, phases=self.run.phases)
            r.kernel_list = kernel_spans(r, self._kinds)
            self.result = r
        self.card.machine.clear_log()
        return False

    # ---- bookkeeping ----
    def _check_open(self):
        if not self._open:
            raise ConfigError("the program is not recording: call its methods inside "
                              "`with card.program() as p:`")

    def _label(self, name, kind):
        label, i = name, 1
        while label in self._kinds:
            i += 1
            label = f"{name}#{i}"
        self._kinds[label] = kind
        return label

    def _tensor(self, name, rows, cols, blocks, dtype="float32"):
        gen = self.card._gen
        bufs = sorted({b.buf for b in blocks})
        for b in bufs:
            gen[b] = gen.get(b, 0) + 1
        return DeviceTensor(name, rows, cols, tuple(blocks), tuple((b, gen[b]) for b in bufs),
                            dtype)

    def _fresh(self, t, what, any_dtype=False):
        if not isinstance(t, DeviceTensor):
            raise ConfigError(f"{what}={args.show(t)}; allowed: a DeviceTensor of this program")
        if not any_dtype and t.dtype != "float32":
            raise ConfigError(f"{what}: tensor {t.name!r} holds {t.dtype}; allowed: a float32 "
                              f"tensor (a kernel input)")
        for b, g in t.gens:
            if self.card._gen.get(b) != g:
                raise ConfigError(f"{what}: tensor {t.name!r} is stale: a later call rewrote "
                                  f"the buffer it lives in; use the tensor before calling the "
                                  f"op that produced it again")
        return t

    def _moves(self, moves):
        if moves:
            self.run.launch(MOVE_RUN, moves.tiles(), moves.params(self.card.device.n_tiles),
                            **moves.caps())

    # ---- host <-> device ----
    def input(self, x, name: str = "x") -> DeviceTensor:
        """x float32 [rows, cols] (a shape tuple in timing mode) from the host onto the device,
        columns split over tiles as the layer ops split theirs; one host_read per member."""
        self._check_open()
        card = self.card
        shape, arr = shape_of(x, name, card.timing)
        if len(shape) != 2:
            raise ShapeError(f"{name} has shape {shape}; a program input is [rows, cols]")
        rows, cols = shape
        host, sram, ranges = card.input_slot(name, rows, cols)
        if arr is not None:
            a = np.asarray(arr, np.float32)
            card.machine.write(host, np.concatenate([a[:, c0:c0 + n].ravel() for c0, n in ranges]))
        moves = Moves()
        for t, (c0, n) in enumerate(ranges):
            moves.host_read(t, host, rows * c0 * 4, sram, 0, rows * n * 4)
        label = self._label(name, "input")
        with self.run.phase(label):
            self._moves(moves)
        return self._tensor(label, rows, cols, column_blocks(rows, ranges, sram))

    def output(self, t, name: str | None = None):
        """t's [rows, cols] read back now (None in timing mode), kept in outputs[name]."""
        self._check_open()
        t = self._fresh(t, "t", any_dtype=True)
        out = None if self.card.timing else read_tensor(self.card.machine, t)
        self.outputs[name or t.name] = out
        return out

    # ---- kernels ----
    def matmul(self, x, w, *, name: str | None = None) -> DeviceTensor:
        """x [m, k] @ placed weights w -> [m, n]: x's pieces moved to the holders in float32,
        quantized there to the weight's format, then the matmul's compute supersteps."""
        self._check_open()
        card, dev = self.card, self.card.device
        if not isinstance(w, PlacedWeight) or w.card is not card:
            raise ConfigError(f"w={args.show(w)}; allowed: a PlacedWeight of this card")
        x = self._fresh(x, "x")
        if x.cols != w.k:
            raise ShapeError(f"x {x.name!r} is [{x.rows}, {x.cols}]; {w.name!r} needs K={w.k}")
        plan, sz = card._call_plan(w, x.rows)
        xf = card.staging(w)
        R, P, prow = plan.rows, plan.pieces_per_tile, plan.piece_rows
        fmt = get_format(plan.fmt).code
        dst, conv = [], Moves()
        for rep, mem, idx, run, pieces in MD.holder_pieces(plan):
            for c in range(plan.chiplets_used):
                tile = plan.kgroup_tiles(c, mem, rep)[idx]
                for u, i, row0, rows, j in MD.piece_rows(plan, rep, pieces):
                    k0, at = run[j] * R, (u * P + i) * prow
                    dst.append(Block(tile, xf, at * R * 4, row0, rows, k0, min(R, w.k - k0), R))
                    conv.convert(tile, xf, at * R * 4, w.bufs["xhome"], at * plan.row_bytes,
                                 rows * R, R, fmt)
        moves = Moves()
        redistribute(x, dst, moves)
        label = self._label(name or w.name, "matmul")
        p = MD.params(plan, dev.n_tiles, w.bufs, sz.woffs, sz.blocks, sz.xoffs)
        with self.run.phase(label):
            self._moves(moves)
            self._moves(conv)
            compute_steps(self.run, plan, sz, p)
        return self._tensor(label, x.rows, w.n, matmul_blocks(plan, w.bufs["y"]))

    def attention(self, q, k, v, cache, *, name: str | None = None) -> DeviceTensor:
        """One decode (or prefill-chunk) step of a KV cache of this card (made with
        device_inputs=True) on device tensors q [B*Sq, Hq*D], k and v [B*Sq, Hkv*D] (rows batch
        by batch, token by token; columns head by head): they move to the units' homes, are
        quantized and appended there, and attention runs over each sequence's keys so far ->
        [B*Sq, Hq*D] on the homes. The cache's lengths advance by Sq."""
        self._check_open()
        if cache not in self.card.caches.values():
            raise ConfigError(f"cache={args.show(cache)}; allowed: a KV cache of this card "
                              f"(card.kv_cache)")
        q, k, v = (self._fresh(t, w) for t, w in ((q, "q"), (k, "k"), (v, "v")))
        b, hq, hkv, d = cache.b, cache.hq, cache.hkv, cache.d
        if q.rows % b or (q.cols, k.cols, v.cols) != (hq * d, hkv * d, hkv * d) \
                or not q.rows == k.rows == v.rows:
            raise ShapeError(f"q {q.shape}, k {k.shape}, v {v.shape}: the cache needs q "
                             f"[B*Sq, {hq * d}] and k, v [B*Sq, {hkv * d}] with B={b}")
        sq = q.rows // b
        dst = ingest.input_blocks(cache, sq)
        moves = Moves()
        for t, key in ((q, "q"), (k, "k"), (v, "v")):
            redistribute(t, _blocks(dst[key]), moves)
        label = self._label(name or "attention", "attention")
        with self.run.phase(label):
            self._moves(moves)
            plan = cache.launch_on_device(self.run, sq)
        return self._tensor(label, q.rows, q.cols,
                            _blocks(ingest.output_blocks(plan, cache.bufs["y"])))

    def op(self, placed, *inputs, name: str | None = None, **call) -> DeviceTensor:
        """A placed layer op on device tensors (in the op's argument order): each input read in
        place when it already has the op's layout, else moved into the op's own buffer. call:
        the op's per-call control data (e.g. RoPE's positions=), checked by its kind."""
        self._check_open()
        card = self.card
        placed = check_placed(card, placed)
        spec = placed.op
        if len(inputs) != len(spec.inputs):
            raise ShapeError(f"op {placed.name!r} ({placed.kind}) takes {len(spec.inputs)} "
                             f"inputs ({', '.join(spec.inputs)}), got {len(inputs)}")
        plan = placed.plan
        ranges = [plan.tile_cols(t) for t in range(plan.tiles)]
        bufs, moves = dict(placed.bufs), Moves()
        for buf_name, t in zip(spec.inputs, inputs):
            t = self._fresh(t, buf_name)
            check_shape(t, placed.rows, placed.cols, f"{placed.name} input {buf_name}")
            dst = column_blocks(plan.rows, ranges, bufs[buf_name])
            if len({b.buf for b in t.blocks}) == 1 and same_layout(t, dst):
                bufs[buf_name] = t.blocks[0].buf          # read in place: nothing to move
            else:
                redistribute(t, dst, moves)
        kind = placed.kind
        spec_kind = KINDS[kind]
        args.no_extra(f"op {placed.name!r} ({kind})", call, spec_kind.call)
        opts = {**placed.opts, **call}
        p = spec_kind.params(plan, card.device.n_tiles, HostlessBufs(bufs), opts)
        if spec_kind.moves is not None:
            spec_kind.moves(plan, bufs, opts, moves)
        label = self._label(name or placed.name, kind)
        with self.run.phase(label):
            self._moves(moves)
            spec.compute(self.run, plan, p)
        if spec_kind.output is not None:
            blocks, cols, dtype = spec_kind.output(plan, bufs[spec.output])
            return self._tensor(label, placed.rows, cols, blocks, dtype)
        return self._tensor(label, placed.rows, placed.cols,
                            column_blocks(plan.rows, ranges, bufs[spec.output]))
