"""Serve a starter's Gradio demo: local only, offline, a clean stop on Ctrl-C.

`python -m <package> demo [--run RUN] [--port N]` builds the app from the user's own run (the
starter's `demo.build_app`) and serves it here. Gradio's analytics and update check are off, the
page uses the system's fonts (no font download), the server listens on 127.0.0.1 only, and the
port comes from `--port`, else `GRADIO_SERVER_PORT`, else 7860. The URL is printed on stdout
when the server is ready. This file is the same in every mlstarter starter.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gradio as gr

DEFAULT_PORT = 7860
HOST = "127.0.0.1"
# Gradio reads these at import: no analytics, no version check, nothing fetched from a hub.
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


class DemoUnavailable(RuntimeError):
    """The demo cannot start: its dependency group is missing, or there is no run to show."""


def port_from(option: int | None) -> int:
    """The port: `--port`, else GRADIO_SERVER_PORT, else 7860; refused when not a port number."""
    raw = option if option is not None else os.environ.get("GRADIO_SERVER_PORT", DEFAULT_PORT)
    try:
        port = int(raw)
    except ValueError:
        raise DemoUnavailable(f"GRADIO_SERVER_PORT={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise DemoUnavailable(f"port {port} is outside 1-65535")
    return port


def import_gradio() -> Any:
    """Gradio, imported offline; a clear error when the demo group is not installed."""
    os.environ.update(OFFLINE_ENV)
    missing = "the demo needs its dependency group: make setup-demo (make setup WITH=demo)"
    try:
        import gradio
    except ImportError:
        raise DemoUnavailable(missing) from None
    # An uninstalled Gradio leaves the files it wrote at run time (hash_seed.txt) behind: the
    # folder then imports as an empty namespace package.
    if getattr(gradio, "__file__", None) is None:
        raise DemoUnavailable(missing)
    return gradio


def theme() -> Any:
    """Gradio's default look with the system's fonts, so the page fetches nothing (pass it to
    `launch`: Gradio 6 warns when a Blocks gets it)."""
    gr = import_gradio()
    system = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]
    return gr.themes.Default(font=system, font_mono=mono)


def serve(build_app: Callable[[], gr.Blocks], port: int | None = None) -> int:
    """Build the app and serve it until Ctrl-C or SIGTERM; return the exit code (0)."""
    chosen = port_from(port)
    import_gradio()
    app = build_app()
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            app.launch(
                server_name=HOST,
                server_port=chosen,
                share=False,
                prevent_thread_lock=True,
                show_error=True,
                quiet=True,
                theme=theme(),  # Gradio 6: the look is a launch() setting, not a Blocks one
                ssr_mode=False,  # server-side rendering would need Node.js
            )
        except OSError as exc:  # Gradio: "Cannot find empty port"
            raise DemoUnavailable(
                f"port {chosen} is taken: choose another with --port or GRADIO_SERVER_PORT ({exc})"
            ) from None
        sys.stdout.write(f"Demo running at http://{HOST}:{chosen}/ (Ctrl-C to stop)\n")
        sys.stdout.flush()
        stop.wait()
    finally:
        app.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stderr.write("demo stopped\n")
    return 0
