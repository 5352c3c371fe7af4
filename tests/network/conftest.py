"""Fixtures of the network tests: programs (net_programs.py), certificates (tests/wifi/pki.py, importable through
tests/conftest.py); the sysroot fixture is the mt3620 plugin's."""
