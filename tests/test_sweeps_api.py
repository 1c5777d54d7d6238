"""chipemu.sweep (sweeps/api.py, execute.py, store.py): the same table whatever the executor,
error rows, the cache, progress, the table's columns."""
import numpy as np
import pandas as pd
import pytest

import chipemu
from chipemu.emulator.errors import ConfigError
from chipemu.sweeps import api

CASES = [{"kernel": "matmul", "m": 1, "k": 512, "n": 256, "name": "gemv"},
         {"kernel": "attention", "batch": 1, "heads": 4, "kv_heads": 2, "seq": 1, "kv_len": 300,
          "head_dim": 64}]
GRID = {"fmt": ["mxint8", "mxint4"], "chiplet.noc.link_bytes_per_cycle": [16, 32]}


def table(**kw):
    return chipemu.sweep(cases=CASES, grid=GRID, device="tiny", **{"cache": False, **kw})


@pytest.fixture(scope="module")
def serial():
    return table(executor="serial")


def test_one_row_per_point_in_point_order_with_version_and_device_hash(serial):
    assert list(serial["point"]) == list(range(8))
    assert (serial["status"] == "ok").all() and (serial["version"] == chipemu.__version__).all()
    assert serial["device_hash"].str.fullmatch("[0-9a-f]{16}").all()
    assert serial["device_hash"].nunique() == 2                 # two link widths
    for col in ("cycles", "seconds", "energy_j", "energy.static_fj", "util.dimc", "binding",
                "phase.compute.cycles", "metric.macs", "intensity_flop_per_byte"):
        assert col in serial.columns, col
    by = serial[[c for c in serial.columns if c.startswith("energy.")]].sum(axis=1)
    assert (by == serial["energy_fj"]).all()


def test_worker_processes_give_the_same_table(serial):
    pd.testing.assert_frame_equal(table(executor="local", workers=2), serial)


def test_a_dask_cluster_gives_the_same_table(serial):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            pd.testing.assert_frame_equal(table(executor=client), serial)
        pd.testing.assert_frame_equal(table(executor=cluster.scheduler_address), serial)


def test_an_invalid_point_is_a_row_with_its_error():
    df = chipemu.sweep(cases=CASES[:1], grid={"chiplet.noc.link_bytes_per_cycle": [32, 0],
                                              "m": [1, -4]}, device="tiny", executor="serial",
                       cache=False)
    assert list(df["status"]) == ["ok", "error", "error", "error"]
    assert df["error"][1].startswith("ShapeError: m=-4")
    assert df["error"][2].startswith("ConfigError: chiplet.noc.link_bytes_per_cycle=0")
    assert np.isnan(df["cycles"][1]) and df["cycles"][0] > 0


def test_a_repeat_runs_nothing_and_an_extension_only_the_new_points(tmp_path, monkeypatch):
    ran = []
    real = api.run_all

    def counting(points, executor, workers):
        ran.append([p.index for p in points])
        yield from real(points, executor, workers)
    monkeypatch.setattr(api, "run_all", counting)
    db = tmp_path / "c.sqlite"
    half = chipemu.sweep(cases=CASES[:1], grid={"fmt": ["mxint8"]}, device="tiny",
                         executor="serial", cache=db)
    full = chipemu.sweep(cases=CASES[:1], grid={"fmt": ["mxint8", "mxint4"]}, device="tiny",
                         executor="serial", cache=db)
    again = chipemu.sweep(cases=CASES[:1], grid={"fmt": ["mxint8", "mxint4"]}, device="tiny",
                          executor="serial", cache=db)
    assert ran == [[0], [1], []]
    pd.testing.assert_frame_equal(full, again)
    pd.testing.assert_frame_equal(full.iloc[:1], half)


def test_progress_reports_points_done_and_failures():
    seen = []
    chipemu.sweep(cases=CASES[:1], grid={"m": [1, 0]}, device="tiny", executor="serial",
                  cache=False, progress=lambda done, total, failed: seen.append((done, total, failed)))
    assert seen[0] == (0, 2, 0) and seen[-1] == (2, 2, 1) and len(seen) == 3


def test_csv_and_parquet_keep_the_table(serial, tmp_path):
    from chipemu.cli.sweep import _write_table, read_table
    for name in ("t.csv", "t.parquet"):
        _write_table(serial, tmp_path / name)
        back = read_table(tmp_path / name)
        assert list(back.columns) == list(serial.columns)
        assert (back["cycles"] == serial["cycles"]).all()
        assert (back["device_hash"] == serial["device_hash"]).all()


@pytest.mark.parametrize("kw,text", [(dict(executor="threads"), "executor='threads'"),
                                     (dict(workers=0), "workers=0"),
                                     (dict(spec={"case": []}, cases=CASES), "not both")])
def test_bad_arguments(kw, text):
    with pytest.raises(ConfigError, match=text):
        chipemu.sweep(**{"cases": CASES, "device": "tiny", **kw})


def test_an_llm_response_is_a_program_a_sweep_runs():
    df = chipemu.sweep(cases=[{"kernel": "llm", "model": "tiny", "prompt": 16, "new_tokens": 8}],
                       grid={"batch": [1, 4]}, device="tiny", executor="serial", cache=False)
    assert (df["status"] == "ok").all() and list(df["param.batch"]) == [1, 4]
    from chipemu.llm.config import ModelConfig
    from chipemu.llm.estimate import estimate
    e = estimate(ModelConfig.preset("tiny"), batch=4, prompt=16, new_tokens=8, device="tiny",
                 cache_lengths="blocks")
    assert df["llm.tpot_s"][1] == e.tpot_s and df["seconds"][1] == e.response_s
    assert df["llm.j_per_token"][1] == e.j_per_token and "llm.wall_s" not in df.columns
    bad = chipemu.sweep(cases=[{"kernel": "llm", "model": "tiny", "prompt": 4, "new_tokens": 2}],
                        device="tiny", mode="functional", executor="serial", cache=False)
    assert bad["error"][0].startswith("ConfigError: llm: mode='functional'")


def test_a_decoder_block_step_is_a_program_a_sweep_runs():
    block = {"kernel": "block", "hidden": 64, "intermediate": 128, "heads": 2, "kv_heads": 1,
             "head_dim": 64, "batch": 2, "cached": 8}
    df = chipemu.sweep(cases=[block], grid={"mode": ["timing", "functional"]}, device="tiny",
                       executor="serial", cache=False)
    assert (df["status"] == "ok").all()
    assert df["cycles"][0] == df["cycles"][1] and df["energy_fj"][0] == df["energy_fj"][1]
    from chipemu.sweeps.run import block_decode
    r = block_decode("tiny", **{k: v for k, v in block.items() if k != "kernel"})
    assert df["cycles"][0] == r.cycles
    calls = [c for c in df.columns if c.startswith("call.") and c.endswith(".energy_fj")]
    assert len(calls) == len(r.kernels) and df[calls].iloc[0].sum() == r.energy_fj
    assert df["call.blk.attn.cycles"][0] == r.kernels["blk.attn"]["cycles"]
