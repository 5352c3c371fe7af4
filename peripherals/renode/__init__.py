"""IronPython 2.7 shims that Renode runs as Python.PythonPeripheral scripts (*.py27 files, shipped as package data)."""
