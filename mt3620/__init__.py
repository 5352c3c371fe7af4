"""MT3620 (Azure Sphere) emulator and Azure Sphere Security Service stand-in.

The import namespace maps the project's folders: mt3620.engine (engine/), mt3620.peripherals (peripherals/),
mt3620.cloud (cloud/), mt3620.platforms (platforms/). mt3620.imagepackage holds the image package and
capability file formats shared by the device and the cloud.
"""
__version__ = "0.1.0"
