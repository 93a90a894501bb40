"""Sample Python source for the tests: small, regular modules a tiny model can learn, and
real modules of the standard library, distinct enough to be held out from each other."""

from __future__ import annotations

import sysconfig
from pathlib import Path

# Small stdlib modules present from Python 3.11 on, none generated, none a copy of another.
DISTINCT_MODULES = (
    "bisect", "colorsys", "fnmatch", "glob", "heapq", "numbers",
    "sched", "shlex", "stat", "string", "textwrap", "queue",
)  # fmt: skip


def distinct_source(index: int) -> str:
    """The source of the ``index``-th module of ``DISTINCT_MODULES``."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return (stdlib / f"{DISTINCT_MODULES[index]}.py").read_text(encoding="utf-8")


def module_source(index: int) -> str:
    """A small, regular Python module; the fixtures write several with different names (they
    are near-duplicates of each other: training text, never held-out text)."""
    return (
        "import os\n"
        "\n"
        "\n"
        f"class Counter{index}:\n"
        '    """Counts things."""\n'
        "\n"
        "    def __init__(self, value):\n"
        "        self.value = value  # the start\n"
        "\n"
        "    def double(self):\n"
        "        return self.value * 2\n"
        "\n"
        "    def path(self, name):\n"
        "        return os.path.join(self.value, name)\n"
        "\n"
        "\n"
        "def main():\n"
        f"    counter = Counter{index}(os.getcwd())\n"
        "    print(counter.double())\n"
    )
