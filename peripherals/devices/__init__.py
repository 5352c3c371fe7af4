"""Board devices: sensors, displays, storage, codecs and loopbacks on the chip's I2C, SPI and I2S buses.

Each model is one file; `registry.DEVICE_TYPES` maps the type names a board file uses to the classes."""
