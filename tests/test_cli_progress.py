"""`chipemu run`'s progress bar and --network."""
from click.testing import CliRunner
from rich.console import Console

from chipemu.cli.main import main
from chipemu.cli.progress import ProgressBar
from chipemu.kernels import matmul


def test_the_bar_draws_phases_and_events_timed():
    console = Console(record=True, force_terminal=True, width=120)
    bar = ProgressBar(console, delay_s=0.0)
    matmul((256, 256), (256, 256), device="tiny", mode="timing", progress=bar)
    assert bar.bar is not None
    bar.bar.refresh()
    text = console.export_text()
    bar.close()
    assert "matmul: timing" in text and "events timed" in text


def test_the_bar_stays_silent_for_a_short_run():
    console = Console(record=True, force_terminal=True, width=120)
    bar = ProgressBar(console)
    matmul((64, 64), (64, 64), device="tiny", mode="timing", progress=bar)
    bar.close()
    assert bar.bar is None and console.export_text() == ""


def test_run_takes_network():
    runner = CliRunner(env={"COLUMNS": "150"})
    base = ["run", "matmul", "--preset", "tiny", "--mode", "timing", "--m", "64", "--k", "64",
            "--n", "64"]
    for net in ("packet", "message"):
        result = runner.invoke(main, base + ["--network", net])
        assert result.exit_code == 0, result.output
        assert "198" in result.output.replace(",", "")       # the hand-derived compute cycles
    result = runner.invoke(main, base + ["--network", "fluid"])
    assert result.exit_code != 0 and "fluid" in result.output
