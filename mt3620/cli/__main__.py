"""`python -m mt3620.cli` runs the command line."""
from . import main

raise SystemExit(main())
