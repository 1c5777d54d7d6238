"""Numbers of the device: the format registry and quantized tensors (formats), host-side byte
layouts (layout), and the Numba twins of csrc/numerics/ (codec, vecmath). NumPy definitions of the
same rules are in chipemu.emulator.reference."""
