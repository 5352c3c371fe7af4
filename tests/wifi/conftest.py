"""Fixtures of the Wi-Fi model tests: certificates (pki.py) and small radio environments."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
