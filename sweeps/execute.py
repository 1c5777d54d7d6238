"""Where a sweep's points run: in this process ("serial"), in local worker processes ("local",
concurrent.futures with fresh interpreters), or on a Dask cluster (a scheduler address such as
"dask://host:8786" or "tcp://host:8786", or a dask.distributed.Client). Every executor yields
(point index, row) as points finish; the table puts them back in point order, so it never
depends on the executor or the order of completion."""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from chipemu.emulator.errors import ConfigError
from chipemu.sweeps.run import run_point

__all__ = ["run_all", "check_executor"]


def check_executor(executor):
    """executor as given, or ConfigError: "serial", "local", a Dask address, or a Client."""
    if _is_client(executor):
        return executor
    if isinstance(executor, str) and (executor in ("serial", "local")
                                      or executor.startswith(("dask://", "tcp://", "tls://"))):
        return executor
    raise ConfigError(f"executor={executor!r}; allowed: 'serial', 'local' (worker processes), "
                      f"a Dask scheduler address 'dask://host:port' (or tcp://, tls://) or a "
                      f"dask.distributed.Client")


def _is_client(x) -> bool:
    return type(x).__name__ == "Client" and type(x).__module__.startswith("distributed")


def _failed(point, exc) -> dict:
    row = point.inputs()
    row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    return row


def run_all(points: list, executor="local", workers: int | None = None):
    """Yield (index, row) for every point, as they finish."""
    if not points:
        return
    if executor == "serial":
        for p in points:
            yield p.index, run_point(p)
    elif executor == "local":
        n = max(1, min(len(points), workers or os.cpu_count() or 1))
        # fresh interpreters ("spawn"): a fork would copy this process's threads and locks
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_point, p): p for p in points}
            for fut in as_completed(futures):
                p = futures[fut]
                try:
                    yield p.index, fut.result()
                except Exception as exc:          # the worker died, not the point
                    yield p.index, _failed(p, exc)
    else:
        yield from _run_dask(points, executor)


def _run_dask(points, executor):
    try:
        from dask.distributed import Client, as_completed as dask_completed
    except ImportError:
        raise ConfigError("a Dask executor needs dask[distributed]: pip install "
                          "'chipemu[dask]'") from None
    own = not _is_client(executor)
    client = Client(executor.replace("dask://", "tcp://", 1)) if own else executor
    try:
        futures = client.map(run_point, points, pure=False)
        by_key = {f.key: p for f, p in zip(futures, points)}
        for fut in dask_completed(futures):
            p = by_key[fut.key]
            try:
                yield p.index, fut.result()
            except Exception as exc:
                yield p.index, _failed(p, exc)
    finally:
        if own:
            client.close()
