"""Sample Python source for the tests: small, regular modules a tiny model can learn."""


def module_source(index: int) -> str:
    """A small, regular Python module; the fixtures write several with different names."""
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
