"""`python -m mlstarter` runs the command line."""

from __future__ import annotations

from mlstarter.cli import main

if __name__ == "__main__":
    main()
