"""The simulation kernel: the virtual clock, bus accesses and address spaces, and the base of every peripheral
model. It imports nothing else of the project."""
