"""``python -m moatsim.viz._child PARENT_PID ARGS...``: ``solara ARGS...`` in a process that
ends when its parent does.

``moatsim viz`` starts the server in its own session (so Ctrl+C in the terminal reaches only
``moatsim viz``, which then stops the server cleanly); without this, a SIGKILLed
``moatsim viz`` would leave the server answering on its port. :func:`die_with_parent` asks the
kernel to kill this process with its parent and watches the parent as a fallback; the
parent's pid comes from the parent itself, so a parent that died while this process was
starting is noticed too.
"""

from __future__ import annotations

import sys

from moatsim.lifeline import die_with_parent


def main(argv: list[str]) -> None:
    die_with_parent(int(argv[0]))
    from solara.__main__ import main as solara_main

    sys.argv = ["solara", *argv[1:]]
    solara_main()


if __name__ == "__main__":
    main(sys.argv[1:])
