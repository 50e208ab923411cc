"""``python -m moatsim`` is the ``moatsim`` command."""

import sys

from moatsim.cli import main

sys.exit(main())
