"""``python -m model`` is the ``moatsim`` command."""

import sys

from model.cli import main

sys.exit(main())
