"""The one error class the command line reports without a traceback."""

from __future__ import annotations


class StarterError(Exception):
    """A problem the user can fix (a missing dependency group, a missing model folder, no network).

    The message says what to do; `python -m <package>` prints it and exits with status 2.
    """
