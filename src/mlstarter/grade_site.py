"""`sitecustomize` of every Python process in a graded run (`mlstarter grade`).

Imported at start-up because its folder is first on PYTHONPATH. It installs an audit hook,
which Python never lets code remove, that refuses sockets to anything but this machine
(loopback and Unix sockets): the network is off even where the kernel gives no network
namespace. Code that calls the C library itself (ctypes) or another program is not stopped by
it; the namespace, where there is one, stops those too.
"""

from __future__ import annotations

import sys

_LOCAL = ("127.", "::1", "localhost", "0.0.0.0", "::")


def _local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return isinstance(host, str) and (host == "" or host.startswith(_LOCAL))


def _guard(event: str, args: tuple[object, ...]) -> None:
    if event in ("socket.connect", "socket.sendto"):
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and address and not _local(address[0]):
            raise PermissionError("the network is off while mlstarter grades this code")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname") and args:
        if not _local(args[0]):
            raise PermissionError("the network is off while mlstarter grades this code")


sys.addaudithook(_guard)
