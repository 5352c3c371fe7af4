"""The ISUs (serial interface units 0-4): configuration block, I2C master/subordinate, SPI master, SPI subordinate.
The UART function is mt3620.peripherals.uart.mt3620_uart."""
