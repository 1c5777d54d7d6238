"""`chipemu sweep` and `chipemu plot` (cli/sweep.py), as a user types them."""
import pandas as pd
import pytest
from click.testing import CliRunner

from chipemu.cli import main

SPEC = '''device = "tiny"
[[case]]
name = "gemv"
kernel = "matmul"
m = 1
k = 512
n = 256
[grid]
"chiplet.noc.link_bytes_per_cycle" = [16, 32]
fmt = ["mxint8", "mxint4"]
[[point]]
kernel = "matmul"
m = -1
'''


@pytest.fixture()
def spec(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return path


def test_sweep_writes_the_table_and_plots(spec, tmp_path):
    pytest.importorskip("matplotlib")
    out, roof, par = tmp_path / "t.csv", tmp_path / "roof.svg", tmp_path / "p.png"
    r = CliRunner().invoke(main, ["sweep", str(spec), "-o", str(out), "--executor", "serial",
                                  "--no-cache", "--quiet", "--roofline", str(roof),
                                  "--pareto", f"seconds,energy_j={par}"])
    assert r.exit_code == 0, r.output
    assert "5 points, 1 with errors" in r.output
    df = pd.read_csv(out)
    assert list(df["status"]) == ["ok"] * 4 + ["error"] and roof.exists() and par.exists()
    shown = CliRunner().invoke(main, ["plot", "energy", str(out), "-o", str(tmp_path / "e.pdf")])
    assert shown.exit_code == 0 and (tmp_path / "e.pdf").exists()


def test_sweep_prints_a_table_and_uses_its_cache(spec, tmp_path):
    db = tmp_path / "c.sqlite"
    args = ["sweep", str(spec), "--executor", "serial", "--cache", str(db)]
    first = CliRunner(env={"COLUMNS": "200"}).invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "gemv" in first.output and "param.fmt" in first.output
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and "5 points, 1 with errors" in again.output


def test_errors_are_one_line(spec, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[case]]\nkernel = "matmul"\nq = 1\n')
    r = CliRunner().invoke(main, ["sweep", str(bad), "--quiet"])
    assert r.exit_code != 0 and "matmul has no parameter 'q'" in r.output
    r = CliRunner().invoke(main, ["sweep", str(spec), "-o", str(tmp_path / "t.xlsx"),
                                  "--executor", "serial", "--no-cache", "--quiet"])
    assert r.exit_code != 0 and "allowed suffixes" in r.output
    r = CliRunner().invoke(main, ["sweep", str(spec), "--executor", "mpi", "--quiet"])
    assert r.exit_code != 0 and "executor='mpi'" in r.output
