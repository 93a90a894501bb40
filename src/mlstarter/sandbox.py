"""Run untrusted code: a process of its own, time-limited, offline, and everything it starts ended.

`run()` (in mlstarter) starts a supervisor, `python -m mlstarter.sandbox SPEC`, in a session of its
own. The supervisor, which runs no student code:
- makes itself a child subreaper (prctl), so whatever the command starts, even a daemon that
  double-forks into a session of its own, stays its descendant and is found and killed at the end;
- moves into a new user and network namespace where the kernel allows it without root (only a
  loopback interface: no route out); where it does not, the command still runs, the result says
  so, and `grade` falls back to a Python audit hook that refuses non-local sockets;
- sets resource limits: no core files, a largest file size, optionally an address-space limit;
- starts the command in a process group of its own, with exactly the environment of the spec,
  stdin from /dev/null, stdout and stderr to files;
- when the command ends, when the time limit passes or when the supervisor is asked to stop
  (SIGTERM, SIGINT), it sends SIGTERM to the group, then SIGKILL, then kills every descendant left,
  and writes a status file (exit code, timed out, seconds, the isolation in effect).

What it cannot do without root: hide the files the user can read, limit CPU or memory per
process tree beyond rlimits, or stop code that deliberately tampers with the test process
itself. The README (`mlstarter grade`) says so.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
GRACE_SECONDS = 3.0
SUPERVISOR_MARGIN = 30.0  # the parent's own deadline past the command's limit


@dataclass
class SandboxSpec:
    """What to run, and how closed in."""

    command: list[str]
    cwd: str
    env: dict[str, str]
    timeout: float
    stdout: str
    stderr: str
    status: str
    network: bool = False  # False: cut the network where the kernel allows it
    max_file_bytes: int = 1 << 30
    max_memory_bytes: int | None = None


@dataclass
class SandboxResult:
    """How the command ended, and what isolation it had."""

    returncode: int | None = None
    timed_out: bool = False
    stopped: bool = False  # ended because the supervisor was asked to stop
    seconds: float = 0.0
    network: str = "unknown"  # "cut (network namespace)" or why it could not be cut
    reaped: int = 0  # descendants still alive after the command ended, killed
    error: str = ""
    notes: list[str] = field(default_factory=list)


# --- the parent side ----------------------------------------------------------------------------


def run(spec: SandboxSpec, stop: threading.Event | None = None) -> SandboxResult:
    """Run `spec` under a supervisor; return how it ended. Setting `stop` ends it early."""
    spec_path = Path(spec.status).with_suffix(".spec.json")
    spec_path.write_text(json.dumps(asdict(spec)), encoding="utf-8")
    Path(spec.status).unlink(missing_ok=True)
    with open(Path(spec.status).with_suffix(".supervisor.log"), "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlstarter.sandbox", str(spec_path)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + spec.timeout + SUPERVISOR_MARGIN
    asked = False
    try:
        while True:
            try:
                proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if not asked and ((stop is not None and stop.is_set()) or time.monotonic() > deadline):
                proc.send_signal(signal.SIGTERM)  # the supervisor ends what it started
                asked = True
                deadline = time.monotonic() + GRACE_SECONDS + 10
            elif asked and time.monotonic() > deadline:
                _kill_group(proc.pid)
                proc.wait()
                break
    except BaseException:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=GRACE_SECONDS + 10)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
        raise
    try:
        data = json.loads(Path(spec.status).read_text(encoding="utf-8"))
        return SandboxResult(**data)
    except (OSError, ValueError, TypeError):
        return SandboxResult(
            stopped=asked,
            error=f"the sandbox supervisor ended without a status (exit {proc.returncode})",
        )


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- the supervisor -----------------------------------------------------------------------------


class _Stop:
    signum: int | None = None


def _on_signal(signum: int, frame: object) -> None:
    _Stop.signum = signum


def supervise(spec: SandboxSpec) -> SandboxResult:
    """In the supervisor process: isolate, run, end everything, report."""
    result = SandboxResult()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        result.notes.append("not a subreaper: a daemon that leaves the group may outlive the run")
    result.network = "left on (asked for)" if spec.network else _cut_network(libc)
    _limit(spec, result)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    started = time.monotonic()
    try:
        with open(spec.stdout, "wb") as out, open(spec.stderr, "wb") as err:
            proc = subprocess.Popen(
                spec.command, cwd=spec.cwd, env=spec.env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, process_group=0,
            )  # fmt: skip
    except OSError as exc:
        result.error = f"cannot start {spec.command[0]}: {exc.strerror}"
        return result
    while True:
        try:
            proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            pass
        if _Stop.signum is not None:
            result.stopped = True
            break
        if time.monotonic() - started > spec.timeout:
            result.timed_out = True
            break
    _end_group(proc)
    result.returncode = proc.returncode
    result.seconds = round(time.monotonic() - started, 2)
    result.reaped = _reap_descendants()
    return result


def _cut_network(libc: Any) -> str:
    """A user and network namespace of our own: only a loopback, so nothing leaves the machine."""
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        why = errno.errorcode.get(code, str(code))
        return f"not cut: the kernel refused a network namespace ({why})"
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):  # fmt: skip
            with open(f"/proc/self/{name}", "w", encoding="ascii") as f:
                f.write(text)
    except OSError as exc:
        return f"cut, but the user namespace has no id map ({exc.strerror})"
    try:  # a loopback that is up, for tests that talk to themselves
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            import fcntl

            request = struct.pack("16sH14x", b"lo", 0)
            flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))
    except OSError:
        return "cut (network namespace; loopback down)"
    return "cut (network namespace)"


def _limit(spec: SandboxSpec, result: SandboxResult) -> None:
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, spec.max_file_bytes)]
    if spec.max_memory_bytes:
        limits.append((resource.RLIMIT_AS, spec.max_memory_bytes))
    for which, value in limits:
        try:
            _, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, hard))
        except (OSError, ValueError) as exc:
            result.notes.append(f"limit {which} not set ({exc})")


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's group, a grace period, then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                try:
                    os.killpg(proc.pid, 0)
                except (ProcessLookupError, PermissionError):
                    return
            time.sleep(0.05)
    proc.poll()


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _reap_descendants() -> int:
    """Kill every process still below the supervisor (orphans come to it as subreaper)."""
    killed = 0
    for _ in range(200):
        _collect_zombies()
        children = _children(os.getpid())
        if not children:
            break
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    _collect_zombies()
    return killed


def _collect_zombies() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    spec = SandboxSpec(**json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    try:
        result = supervise(spec)
    except Exception as exc:  # the parent reads the status: say what broke
        result = SandboxResult(error=f"sandbox failed: {type(exc).__name__}: {exc}")
        _reap_descendants()
    temporary = Path(spec.status).with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(result)), encoding="utf-8")
    os.replace(temporary, spec.status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
