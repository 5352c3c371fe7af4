"""The I2S controllers and their FIFO ports."""
