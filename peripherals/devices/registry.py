"""Device type names a board file uses (Renode style: Category.Model) -> the model class and the bus it sits on."""
from __future__ import annotations

from .eeprom import I2cEeprom
from .loopback import I2cLoopback, SpiLoopback
from .lsm6ds3 import Lsm6ds3, Lsm6dso
from .max98090 import Max98090
from .sdcard import SdCard
from .ssd1306 import Ssd1306
from .ssd1331 import Ssd1331

# type name -> (class, buses it can sit on: "i2c", "spi", "i2s")
DEVICE_TYPES: dict[str, tuple[type, tuple[str, ...]]] = {
    "Sensors.LSM6DS3": (Lsm6ds3, ("i2c", "spi")),
    "Sensors.LSM6DSO": (Lsm6dso, ("i2c", "spi")),
    "Video.SSD1306": (Ssd1306, ("i2c",)),
    "Video.SSD1331": (Ssd1331, ("spi",)),
    "Storage.SDCard": (SdCard, ("spi",)),
    "Sound.MAX98090": (Max98090, ("i2c",)),
    "I2C.Loopback": (I2cLoopback, ("i2c",)),
    "SPI.Loopback": (SpiLoopback, ("spi",)),
    "Memory.I2CEeprom": (I2cEeprom, ("i2c",)),
}
