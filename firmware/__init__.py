"""The project's own firmware: C sources in the folders beside this file, built by `toolchain`."""
