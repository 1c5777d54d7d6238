"""`chipemu run llm`: a response's latency, energy, CO2e and water for one or more models and
batches on emulated cards, beside an H200 composed from measured kernels (docs/llm.md)."""
from __future__ import annotations

import click

__all__ = ["llm"]


def _cache_lengths(value):
    if value in ("exact", "blocks"):
        return value
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 2:
        raise click.BadParameter(f"{value!r}; allowed: exact, blocks or an integer >= 2",
                                 param_hint="'--cache-lengths'")
    return n


@click.command("llm")
@click.option("--model", "models", multiple=True, default=["llama-3.1-8b"], show_default=True,
              help="A model preset or a Hugging Face config.json / folder (repeat to compare).")
@click.option("--batch", "batches", multiple=True, type=click.IntRange(1, 4096), default=[1],
              show_default=True, help="Sequences served together (repeat for a batch sweep).")
@click.option("--prompt", type=click.IntRange(1, 1 << 20), default=512, show_default=True,
              help="Prompt tokens per sequence.")
@click.option("--new-tokens", type=click.IntRange(1, 1 << 20), default=400, show_default=True,
              help="Generated tokens per sequence.")
@click.option("--cards", type=click.IntRange(1, 1 << 16), default=None,
              help="Cards available (default: as many as the model needs; the server preset "
                   "has 8).")
@click.option("--site", default="us-average", show_default=True,
              help="Where it runs: PUE, water and grid (us-average, azure-usa, google-usa, "
                   "mistral-eu, france, world).")
@click.option("--fmt", default="mxint8", show_default=True, help="Activations' format.")
@click.option("--weight-fmt", default="mxint4", show_default=True, help="Weights' format.")
@click.option("--kv-fmt", default=None, help="The KV cache's format (default: the attention's).")
@click.option("--cache-lengths", default="exact", show_default=True,
              help="exact (time every cache length), blocks or N (time some, interpolate: "
                   "docs/llm.md gives their measured error).")
@click.option("--prefill-chunk", default="auto", show_default=True,
              help="Prompt tokens per sequence per prefill step: auto (the largest of 64, 16, "
                   "4 that costs no card) or N (1: a token per step).")
@click.option("--kv-home", type=click.Choice(["auto", "dimc", "dram"]), default="auto",
              show_default=True,
              help="Where each layer's KV cache lives: the DIMC slots, the chiplets' DRAM "
                   "(streamed a block at a time) or auto (DIMC when the layers then fit the "
                   "cards, else DRAM).")
@click.option("--device", "preset", default="corsair", show_default=True,
              help="The card's device preset.")
@click.option("--plot", type=click.Path(dir_okay=False, writable=True), default=None,
              help="With several batches: write the latency/throughput/energy plot "
                   "(.png/.svg/.pdf; needs the plot extra).")
@click.option("--breakdown", is_flag=True,
              help="Also print where one decode step's energy goes, by call and component.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True),
              default=None, help="Write every figure as JSON.")
def llm(models, batches, prompt, new_tokens, cards, site, fmt, weight_fmt, kv_fmt,
        cache_lengths, prefill_chunk, kv_home, preset, plot, breakdown, json_path):
    """Estimate one response of each --model at each --batch on emulated cards (timing mode)."""
    import json
    from pathlib import Path

    from rich.console import Console
    from rich.progress import Progress

    from chipemu.emulator.errors import CapacityError, ChipemuError
    from chipemu.llm import ModelConfig
    from chipemu.llm.config import PRESETS
    from chipemu.llm.estimate import estimate
    from chipemu.llm.report import breakdown_table, plot_sweep, response_table, sweep_table

    cache = _cache_lengths(cache_lengths)
    if prefill_chunk != "auto":
        if not prefill_chunk.isdigit() or int(prefill_chunk) < 1:
            raise click.BadParameter(f"{prefill_chunk!r}; allowed: auto or an integer >= 1",
                                     param_hint="'--prefill-chunk'")
        prefill_chunk = int(prefill_chunk)
    console, skipped = Console(), []
    try:
        cfgs = [ModelConfig.preset(m) if m in PRESETS else ModelConfig.from_hf(m)
                for m in models]
        out = []
        with Progress(console=console, transient=True) as bar:
            for cfg in cfgs:
                for b in batches:
                    task = bar.add_task(f"{cfg.name}, batch {b}: timing cache lengths",
                                        total=None)
                    try:
                        out.append(estimate(
                            cfg, batch=b, prompt=prompt, new_tokens=new_tokens, cards=cards,
                            device=preset, fmt=fmt, weight_fmt=weight_fmt, kv_fmt=kv_fmt,
                            site=site, cache_lengths=cache, prefill_chunk=prefill_chunk,
                            kv_home=kv_home,
                            progress=lambda i, n, t=task: bar.update(t, completed=i, total=n)))
                    except CapacityError as exc:      # a point that does not fit: said, skipped
                        skipped.append(f"{cfg.name}, batch {b}: {exc}")
                    bar.remove_task(task)
    except ChipemuError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
    for line in skipped:
        console.print(f"[yellow]does not fit[/yellow] {line}")
    if not out:
        raise click.ClickException("no model and batch fits (above)")
    for b in batches:
        if any(e.batch == b for e in out):
            console.print(response_table([e for e in out if e.batch == b]))
    if breakdown:
        for e in out:
            console.print(breakdown_table(e))
    if len({e.batch for e in out}) > 1:
        console.print(sweep_table(out))
    if plot:
        if len(batches) < 2:
            raise click.UsageError("--plot needs two or more --batch values")
        try:
            console.print(f"plot: {plot_sweep(out, plot)}")
        except ImportError:
            raise click.ClickException("--plot needs matplotlib: pip install 'chipemu[plot]'") \
                from None
    if json_path:
        Path(json_path).write_text(json.dumps([e.as_dict() for e in out], indent=2))
        console.print(f"figures: {json_path}")
