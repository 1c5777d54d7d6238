"""Tile kernels for tests only (twins: tile.py, tile.c); not part of the installed package."""
