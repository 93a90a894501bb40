"""SIGINT and SIGTERM as a stop request that never leaves half-written work.

A signal is always remembered (`requested()`); whether it also raises `Interrupted` at once depends
on where the run is:
- outside any region (prompts, verification), it raises at once, as Ctrl-C normally does;
- inside `deferred()` (renaming into place, cleaning up, a batch's scheduler) it only records the
  request, and the code checks it where stopping is safe (`check()`);
- inside `interruptible()` (rendering into a staging folder) it raises at once again, so an
  in-flight bake rolls back instead of finishing.

After one raise the unwinding runs deferred, so a second Ctrl-C cannot break a cleanup half-way.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A stop request by SIGINT or SIGTERM; `exit_code` is 128 + the signal's number."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


class _State:
    pending: int | None = None
    raising: bool = True


_state = _State()


def _handle(signum: int, frame: object) -> None:
    if _state.pending is None:
        _state.pending = signum
    if _state.raising:
        _state.raising = False
        raise Interrupted(signum)


def install(raising: bool = True) -> Callable[[], None]:
    """Handle SIGINT and SIGTERM from now on; return a function that restores the old handlers.

    A signal the process was started with ignored (a background job's SIGINT) stays ignored.
    Outside the main thread nothing is installed (Python only delivers signals there).
    """
    _state.pending = None
    _state.raising = raising
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {}
    for signum in SIGNALS:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_IGN:
            continue
        previous[signum] = handler
        signal.signal(signum, _handle)

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def requested() -> int | None:
    """The signal that asked this run to stop, or None."""
    return _state.pending


def check() -> None:
    """Raise `Interrupted` if a stop was requested."""
    if _state.pending is not None:
        raise Interrupted(_state.pending)


@contextmanager
def deferred() -> Iterator[None]:
    """Signals inside only record a stop request; `check()` acts on it later."""
    before = _state.raising
    _state.raising = False
    try:
        yield
    finally:
        _state.raising = before


@contextmanager
def interruptible() -> Iterator[None]:
    """Signals inside raise `Interrupted` at once (also one that came just before)."""
    before = _state.raising
    _state.raising = True
    try:
        check()
        yield
    finally:
        _state.raising = before
