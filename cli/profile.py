"""`chipemu profile`: operator profiles of a model for serving simulators (llm/profile.py)."""
import click


def _ints(ctx, param, value):
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}; allowed: integers separated by commas") from None
    if not out or min(out) < 1:
        raise click.BadParameter(f"{value!r}; allowed: integers >= 1 separated by commas")
    return out


@click.command()
@click.option("--model", default="llama-3.1-8b", show_default=True,
              help="A preset (chipemu run llm --help lists them) or a Hugging Face config.json.")
@click.option("--tokens", default="1,2,4,8,16,32,64", show_default=True, callback=_ints,
              help="Token counts of the per-layer operators (mlp.csv rows).")
@click.option("--batch", "batches", default="1,4,16", show_default=True, callback=_ints,
              help="Decode batch sizes (attention.csv).")
@click.option("--kv", default="128,512,2048", show_default=True, callback=_ints,
              help="Cached keys per sequence (attention.csv).")
@click.option("--chunk", "chunks", default="16,64", show_default=True, callback=_ints,
              help="Prefill chunk sizes at batch 1 (attention.csv).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for mlp.<fmt> and attention.<fmt>.")
@click.option("--format", "table_fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True, help="parquet needs pandas and pyarrow.")
@click.option("--device", "preset", default="corsair", show_default=True)
@click.option("--fmt", default="mxint8", show_default=True, help="Activations' format.")
@click.option("--weight-fmt", default="mxint4", show_default=True, help="Weights' format.")
@click.option("--kv-home", type=click.Choice(["dimc", "dram"]), default="dimc",
              show_default=True, help="Where the KV cache lives.")
@click.option("--block-size", type=click.IntRange(1), default=16, show_default=True,
              help="The block_size column Vidur filters on (its run's paged block size).")
@click.option("--vidur-model", default=None,
              help="Also write a Vidur profiling dataset (mlp.csv.xz, attention.csv.xz, "
                   "config.json) under OUT/vidur for this Hugging Face model name.")
def profile(model, tokens, batches, kv, chunks, out_dir, table_fmt, preset, fmt, weight_fmt,
            kv_home, block_size, vidur_model):
    """Time each operator of one layer of --model alone on a card (timing mode) over a grid of
    sizes and write the tables a serving simulator reads as its operator profile: mlp.csv
    (num_tokens) and attention.csv (batch_size, kv_cache_size, prefill_chunk_size), times in
    ms and energies in J (docs/llm.md, "Operator profiles")."""
    from pathlib import Path

    from rich.console import Console
    from rich.progress import Progress

    from chipemu.emulator.errors import ChipemuError
    from chipemu.llm import ModelConfig
    from chipemu.llm.config import PRESETS
    from chipemu.llm.profile import (attention_profile, compute_profile, write_table,
                                     write_vidur_dataset)

    console = Console()
    try:
        cfg = ModelConfig.preset(model) if model in PRESETS else ModelConfig.from_hf(model)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        with Progress(console=console, transient=True) as bar:
            t = bar.add_task(f"{cfg.name}: operators", total=len(tokens))
            mlp = compute_profile(cfg, tokens, device=preset, fmt=fmt, weight_fmt=weight_fmt,
                                  progress=lambda i, n: bar.update(t, completed=i, total=n))
            a = bar.add_task(f"{cfg.name}: attention", total=None)
            att = attention_profile(cfg, batches=batches, kv=kv, chunks=chunks, device=preset,
                                    fmt=fmt, kv_home=kv_home, block_size=block_size,
                                    progress=lambda i, n: bar.update(a, completed=i, total=n))
        for name, rows in (("mlp", mlp), ("attention", att)):
            path = write_table(rows, Path(out_dir) / f"{name}.{table_fmt}")
            console.print(f"{path}: {len(rows)} rows")
        if vidur_model:
            for path in write_vidur_dataset(mlp, att, Path(out_dir) / "vidur",
                                            model=vidur_model, device_sku=mlp[0]["device"]):
                console.print(path)
    except ChipemuError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
