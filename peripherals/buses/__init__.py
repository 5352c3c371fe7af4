"""Buses between the chip and board devices: I2C, SPI, I2S and analog inputs (pure logic)."""
