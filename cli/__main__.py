"""python -m chipemu.cli: the `chipemu` command."""
from chipemu.cli import main

main()
