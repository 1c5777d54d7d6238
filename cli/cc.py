"""`chipemu cc`: build a kernel author's C twin with chipemu's own result flags (chipemu.cc)."""
import click


@click.command(context_settings=dict(ignore_unknown_options=True, allow_interspersed_args=True))
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The shared library to write (e.g. libmy.so).")
@click.option("--cc", "compiler", default=None, help="The C compiler (default: $CC, else cc).")
@click.option("--flag", "extra", multiple=True,
              help="One more compiler argument (repeat), e.g. --flag=-DWIDTH=64.")
@click.option("--host", is_flag=True,
              help="Build a C/C++ host program linked to libchipemu.so (chipemu_host.h), not a "
                   "kernel library.")
@click.option("--print", "show", is_flag=True, help="Print the command and do not run it.")
def cc(sources, output, compiler, extra, host, show):
    """Compile C tile kernels (CHIPEMU_TILE_KERNEL, docs/intrinsics.md) into a shared library
    with exactly the flags chipemu's C core is built with, against chipemu's headers, so the
    twin stays bit-exact with its Numba twin: chipemu cc my_kernel.c -o libmy.so. With --host,
    a C or C++ program using the host API: chipemu cc --host host.cpp -o host"""
    import shlex

    from chipemu import cc as build

    cmd = (build.host_command if host else build.command)(list(sources), output, extra, compiler)
    if show:
        click.echo(shlex.join(cmd))
        return
    try:
        build.build(sources, output, extra, compiler, host=host)
    except (RuntimeError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"built {output}")
