"""Synthetic event logs and device-parameter dicts for the engine tests and benchmarks.

`tiny_params()` is a `tiny`-like device with round numbers (2x2 chiplets in a mesh, 2x2 tiles each);
`corsair_params()` a Corsair-sized one (8 chiplets of 16x16 tiles, all-to-all per 4-chiplet package,
bridged). Both are built by hand here, not from emulator.device, so the engine is tested on its own.
`LogBuilder` appends records in the order given (callers keep (superstep, tile) order).
"""
import numpy as np

from chipemu.emulator.events import (BUF_DRAM, BUF_HOST, BUF_SRAM, BUFFER_DTYPE, EVENT_DTYPE,
                                     FLAG_ACCUMULATE, NO_BUF, OPS, VOPS, EventLog)

FMT = {"int8": 3, "mxint8": 4, "mxint4": 5, "bfp16": 11, "bfp12": 12, "fp32": 0, "bf16": 1}


def link(a, b, phy_a, phy_b, bytes_per_cycle=16, latency_cycles=20, fj_per_bit=100):
    return dict(a=a, b=b, phy_a=phy_a, phy_b=phy_b, bytes_per_cycle=bytes_per_cycle,
                latency_cycles=latency_cycles, fj_per_bit=fj_per_bit)


def tiny_params(**over):
    """2x2 chiplets (mesh: 0-1, 2-3, 0-2, 1-3), 2x2 tiles each (local ids 0 1 / 2 3), round numbers.

    Bandwidths (bytes/cycle): SRAM port 128, inject/eject 64, NoC link 32, D2D 16, DRAM 32, host 16.
    Latencies (cycles): NoC hop 2, D2D 20, DRAM 100, host 500; packets of at most 256 bytes.
    DIMC: 64x64 cells of 8 bits, 2 engines, 4 slots, 1 input bit/cycle (8 cycles per int8 vector),
    pipeline 4, io 64 B/cycle, 1 cycle per weight row. Vector: 16 lanes, 1 cycle per batch
    (exp, reciprocal, rsqrt: 4). PHYs: chiplet 0-1 link on local tiles 1/0, 2-3 on 1/0,
    0-2 on 2/0, 1-3 on 3/1 (the tile nearest the neighbour).
    """
    p = dict(
        n_chiplets=4, tile_rows=2, tile_cols=2, clock_ghz=1.0,
        noc_hop_cycles=2, noc_link_bytes_per_cycle=32, noc_max_packet_bytes=256,
        dma_inject_bytes_per_cycle=64, dma_eject_bytes_per_cycle=64,
        dimc_rows=64, dimc_cols=64, dimc_slots=4, dimc_engines=2, dimc_cell_bits=8,
        dimc_input_bits_per_cycle=1, dimc_pipeline_cycles=4, dimc_io_bytes_per_cycle=64,
        dimc_write_cycles_per_row=1, dimc_write_overlaps_compute=1,
        sram_port_bytes_per_cycle=128, sram_capacity_bytes=1 << 20,
        vec_lanes=16, vec_cycles=[1, 1, 1, 1, 4, 4, 4, 1, 1, 1],
        links=[link(0, 1, 1, 0), link(2, 3, 1, 0), link(0, 2, 2, 0), link(1, 3, 3, 1)],
        dram_channels=1, dram_channel_tile=[0], dram_bytes_per_cycle=32, dram_latency_cycles=100,
        host_chiplet=0, host_tile=0, host_bytes_per_cycle=16, host_latency_cycles=500,
        barrier_cycles=10,
        fj_mac=[0, 0, 0, 100, 100, 100, 0, 0, 0, 0, 0, 100, 100],
        fj_overhead_per_mac=10, fj_dimc_row_write=1000,
        fj_sram_read_bit=2, fj_sram_write_bit=3, fj_noc_bit_hop=5,
        fj_dram_bit=50, fj_host_bit=70,
        fj_vec_op=[10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
        static_uw_tile=0, static_uw_chiplet=0, static_uw_card=0,
    )
    p.update(over)
    return p


def corsair_params(**over):
    """8 chiplets of 16x16 tiles: all-to-all inside each 4-chiplet package, chiplet k bridged to k+4."""
    links = []
    phy = {0: 15, 1: 255, 2: 240, 3: 0}                   # a corner tile per neighbour slot
    for pkg in (0, 4):
        for i in range(4):
            for j in range(i + 1, 4):
                links.append(link(pkg + i, pkg + j, phy[j], phy[i], 64, 30, 200))
    for k in range(4):
        links.append(link(k, k + 4, 128, 128, 32, 60, 400))
    p = tiny_params(
        n_chiplets=8, tile_rows=16, tile_cols=16, clock_ghz=1.0, noc_link_bytes_per_cycle=64,
        dma_inject_bytes_per_cycle=64, dma_eject_bytes_per_cycle=64, noc_max_packet_bytes=256,
        dimc_engines=2, dimc_slots=4, sram_capacity_bytes=4 << 20, links=links,
        dram_channels=2, dram_channel_tile=[0, 255], static_uw_tile=100_000,
        static_uw_chiplet=2_000_000, static_uw_card=20_000_000)
    p.update(over)
    return p


class LogBuilder:
    """Appends event records; buffers are laid out one after another in SRAM."""

    def __init__(self):
        self.events = []
        self.peers = []
        self.buffers = []
        self._sram_top = 0

    # -- buffers: return a range builder r(off=0, length=None) -> (buf, off, len)
    def sram(self, size, base=None):
        if base is None:
            base, self._sram_top = self._sram_top, self._sram_top + size
        self.buffers.append((BUF_SRAM, 0, base, size))
        return len(self.buffers) - 1

    def dram(self, size, channel=0, base=0):
        self.buffers.append((BUF_DRAM, channel, base, size))
        return len(self.buffers) - 1

    def host(self, size):
        self.buffers.append((BUF_HOST, 0, 0, size))
        return len(self.buffers) - 1

    def rng(self, buf, off=0, length=None):
        if length is None:
            length = self.buffers[buf][3] - off
        return (buf, off, length)

    def _ev(self, op, tile, step, a=0, b=0, c=0, unit=0, fmt=-1, fmt2=-1, src0=None, src1=None,
            dst=None, peers=(), flags=0):
        e = np.zeros((), EVENT_DTYPE)
        e["op"], e["tile"], e["step"], e["a"], e["b"], e["c"] = OPS[op], tile, step, a, b, c
        e["unit"], e["fmt"], e["fmt2"], e["flags"] = unit, fmt, fmt2, flags
        for name, r in (("src0", src0), ("src1", src1), ("dst", dst)):
            e[name] = r if r is not None else (NO_BUF, 0, 0)
        e["peer_first"], e["peer_count"] = len(self.peers), len(peers)
        self.peers.extend(peers)
        self.events.append(e)
        return len(self.events) - 1

    def dimc_load(self, tile, step, slot, src, rows, first_row=0, fmt="mxint8"):
        return self._ev("dimc_load", tile, step, a=first_row, b=rows, c=slot, fmt2=FMT[fmt], src0=src)

    def mvm(self, tile, step, x, y, nvec, k, engine=0, slot=0, fmt="int8", wfmt="int8", acc=False):
        return self._ev("dimc_mvm", tile, step, a=nvec, b=k, c=slot, unit=engine, fmt=FMT[fmt],
                        fmt2=FMT[wfmt], src0=x, dst=y, flags=FLAG_ACCUMULATE if acc else 0)

    def vec(self, tile, step, kind, n, dst, src0=None, src1=None, row_len=0, flags=0):
        return self._ev("vec", tile, step, a=n, b=row_len, c=VOPS[kind], src0=src0, src1=src1,
                        dst=dst, flags=flags)

    def send(self, tile, step, peers, src, dst):
        return self._ev("send", tile, step, a=src[2], src0=src, dst=dst, peers=list(peers))

    def dram_read(self, tile, step, src, dst):
        return self._ev("dram_read", tile, step, a=src[2], src0=src, dst=dst)

    def dram_write(self, tile, step, src, dst):
        return self._ev("dram_write", tile, step, a=src[2], src0=src, dst=dst)

    def host_read(self, tile, step, src, dst):
        return self._ev("host_read", tile, step, a=src[2], src0=src, dst=dst)

    def barrier(self, tile, step, group):
        return self._ev("barrier", tile, step, peers=sorted(group))

    def build(self):
        ev = np.array(self.events, EVENT_DTYPE) if self.events else np.zeros(0, EVENT_DTYPE)
        return EventLog(ev, np.array(self.peers, np.uint32),
                        np.array(self.buffers, BUFFER_DTYPE) if self.buffers else np.zeros(0, BUFFER_DTYPE))


def bench_log(params, n_events, seed=0, send_bytes=256):
    """A synthetic SPMD log of about n_events records with contention, built with vectorized NumPy.

    Every tile runs, per superstep (5 records): DIMC_MVM on engine 0 (x -> y0), DIMC_MVM on engine 1
    accumulating (x -> y1), VEC add (y0 + y1 -> z), SEND z[:send_bytes] to a neighbour's `inbox`,
    VEC exp (inbox -> x, the message of the previous superstep). Destinations: the east neighbour
    (west at the edge); every 16th tile of a chiplet sends to the chiplet's tile 0 (a hotspot on its
    eject port) and tile 1 of each chiplet to tile 1 of the next chiplet (over D2D). Every 64th
    superstep each tile also reloads its weights (DIMC_LOAD) and reads 256 bytes of DRAM (channels
    contend). Records are in issue order (superstep, tile, program order).
    """
    rng = np.random.default_rng(seed)
    C, R, Q = params["n_chiplets"], params["tile_rows"], params["tile_cols"]
    T = R * Q
    tiles = np.arange(C * T, dtype=np.uint32)
    local = tiles % T
    chiplet = tiles // T
    col = local % Q
    dest = np.where(col + 1 < Q, tiles + 1, tiles - 1).astype(np.uint32)
    dest = np.where(local % 16 == 8, chiplet * T, dest).astype(np.uint32)
    dest = np.where(local == 1, ((chiplet + 1) % C) * T + 1, dest).astype(np.uint32)
    b = LogBuilder()
    X, Y0, Y1, Z, IN, W = b.sram(256), b.sram(1024), b.sram(1024), b.sram(1024), b.sram(1024), b.sram(4096)
    D = [b.dram(1 << 20, channel=ch) for ch in range(C * params["dram_channels"])]
    buffers = np.array(b.buffers, BUFFER_DTYPE)

    def block(op, **f):
        e = np.zeros(len(tiles), EVENT_DTYPE)
        e["op"], e["tile"], e["fmt"], e["fmt2"] = OPS[op], tiles, -1, -1
        for name in ("src0", "src1", "dst"):
            e[name]["buf"] = NO_BUF
        for k, v in f.items():
            if k in ("src0", "src1", "dst"):
                e[k]["buf"], e[k]["off"], e[k]["len"] = v
            else:
                e[k] = v
        return e

    i8 = FMT["int8"]
    mvm0 = block("dimc_mvm", a=4, b=64, c=0, unit=0, fmt=i8, fmt2=i8, src0=(X, 0, 256), dst=(Y0, 0, 1024))
    mvm1 = block("dimc_mvm", a=4, b=64, c=1, unit=1, fmt=i8, fmt2=i8, src0=(X, 0, 256), dst=(Y1, 0, 1024),
                 flags=FLAG_ACCUMULATE)
    vadd = block("vec", a=256, c=VOPS["add"], src0=(Y0, 0, 1024), src1=(Y1, 0, 1024), dst=(Z, 0, 1024))
    send = block("send", a=send_bytes, peer_first=tiles, peer_count=1, src0=(Z, 0, send_bytes),
                 dst=(IN, 0, send_bytes))
    vexp = block("vec", a=64, c=VOPS["exp"], src0=(IN, 0, 256), dst=(X, 0, 256))
    load = block("dimc_load", a=0, b=64, c=0, fmt2=i8, src0=(W, 0, 4096))
    dread = block("dram_read", a=256, src0=(0, 0, 256), dst=(IN, 512, 256))
    ch = (tiles * 7 + rng.integers(0, len(D), len(tiles))) % len(D)
    dread["src0"]["buf"] = np.array(D, np.uint32)[ch]
    dread["src0"]["off"] = (local * 256) % (1 << 20)
    plain = np.stack([mvm0, mvm1, vadd, send, vexp], axis=1).reshape(-1)      # (tile, op) order
    heavy = np.stack([load, dread, mvm0, mvm1, vadd, send, vexp], axis=1).reshape(-1)
    per64 = 63 * len(plain) + len(heavy)
    n_blocks = -(-n_events // per64)
    ev = np.tile(np.concatenate([heavy] + [plain] * 63), n_blocks)[:n_events]
    sizes = np.array([len(heavy)] + [len(plain)] * 63)
    ev["step"] = np.repeat(np.arange(64 * n_blocks, dtype=np.uint32), np.tile(sizes, n_blocks))[:n_events]
    return EventLog(ev, dest, buffers)


def random_log(params, n_steps=6, seed=0, barriers=True):
    """A random valid log on a tiny-like device: every op kind, multicast, aliasing buffers.

    DRAM writes go to a per-tile region and DRAM reads come from a read-only region, and barriers
    (over all tiles) end a superstep's program, so no ordering cycle can arise.
    """
    rng = np.random.default_rng(seed)
    T = params["tile_rows"] * params["tile_cols"]
    n_tiles = params["n_chiplets"] * T
    b = LogBuilder()
    bufs = [b.sram(1024) for _ in range(4)]
    alias = b.sram(512, base=0)                       # overlaps bufs[0]: hazards are physical
    W = b.sram(4096)
    n_chan = params["n_chiplets"] * params["dram_channels"]
    dram_ro = [b.dram(4096, channel=ch) for ch in range(n_chan)]
    dram_wr = [b.dram(512, channel=t % n_chan, base=4096 + 512 * t) for t in range(n_tiles)]
    host = b.host(1 << 16)
    every = list(range(n_tiles))
    for step in range(n_steps):
        for t in range(n_tiles):
            for _ in range(rng.integers(0, 5)):
                kind = rng.choice(["mvm", "vec", "send", "load", "dram_read", "dram_write", "host_read"],
                                  p=[0.3, 0.25, 0.2, 0.05, 0.08, 0.06, 0.06])
                buf = bufs[rng.integers(0, 4)] if rng.random() < 0.9 else alias
                off = int(rng.integers(0, 4)) * 64
                ln = int(rng.integers(1, 5)) * 64
                ln = min(ln, b.buffers[buf][3] - off)
                r = (buf, off, ln)
                if kind == "mvm":
                    y = bufs[rng.integers(0, 4)]
                    b.mvm(t, step, r, (y, 0, 1024), nvec=int(rng.integers(1, 5)), k=int(rng.integers(1, 65)),
                          engine=int(rng.integers(0, params["dimc_engines"])), slot=int(rng.integers(0, 4)),
                          fmt=str(rng.choice(["int8", "mxint8"])), wfmt=str(rng.choice(["int8", "mxint4"])),
                          acc=bool(rng.random() < 0.3))
                elif kind == "vec":
                    kinds = list(VOPS)
                    k = kinds[rng.integers(0, len(kinds))]
                    src1 = (bufs[rng.integers(0, 4)], 0, ln) if k in ("add", "mul", "max") else None
                    b.vec(t, step, k, int(ln // 4), (bufs[rng.integers(0, 4)], 512, ln), src0=r, src1=src1)
                elif kind == "send":
                    peers = rng.choice(n_tiles, size=int(rng.integers(1, 4)), replace=False)
                    b.send(t, step, [int(p) for p in peers], r, r)
                elif kind == "load":
                    rows = int(rng.integers(1, 65))
                    b.dimc_load(t, step, int(rng.integers(0, 4)), (W, 0, rows * 64), rows,
                                first_row=int(rng.integers(0, 65 - rows)))
                elif kind == "dram_read":
                    b.dram_read(t, step, (dram_ro[rng.integers(0, n_chan)], off, ln), r)
                elif kind == "dram_write":
                    b.dram_write(t, step, (bufs[1], 0, 256), (dram_wr[t], 0, 256))
                else:
                    b.host_read(t, step, (host, 64 * t, ln), r)
            if barriers and step % 3 == 2:
                b.barrier(t, step, every)
    return b.build()


def mvm_chain_builder(tiles=(0,), n=3):
    """n MVMs on engine 0 of each tile, 4 int8 vectors x K=64: 4 + max(4*8, (256+1024)/64) = 36 each."""
    b = LogBuilder()
    X, Y = b.sram(256), b.sram(1024)
    for t in tiles:
        for _ in range(n):
            b.mvm(t, 0, b.rng(X), b.rng(Y), nvec=4, k=64)
    return b
