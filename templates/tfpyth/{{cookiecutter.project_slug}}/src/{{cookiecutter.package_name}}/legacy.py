"""The 2019 way: the same hybrid model trained through tfpyth, in a subprocess.

tfpyth 1.0.1 was written for TensorFlow 1.14. On TensorFlow 2 two of its functions still work as
they are (``eager_tensorflow_from_torch`` and ``tensorflow_from_torch``: gradients reach their
inputs, not the parameters of torch modules used inside), but ``torch_from_tensorflow`` needs a
TF1 session: eager execution must be switched off before any TensorFlow tensor exists and
``tfpyth.tf`` must point at ``tf.compat.v1``. Both changes hold for the whole process, so this
path runs in a fresh Python process (``python -m <package>.legacy '<json request>'``) that prints
one JSON line back.

This module imports neither TensorFlow nor torch at the top: :func:`start_tfpyth` can start the
child before the parent pays for its own imports.

tfpyth is installed by ``make setup`` with ``pip install --no-deps tfpyth==1.0.1`` (its metadata
asks for ``tensorflow~=1.14``, which no longer installs).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from .config import TrainConfig, TrainResult

log = logging.getLogger(__name__)

INSTALL_HINT = "tfpyth is not installed: run `make setup` (pip install --no-deps tfpyth==1.0.1)"


class TfpythUnavailable(RuntimeError):
    """Raised when the tfpyth path is asked for but tfpyth is not installed."""


def tfpyth_available() -> bool:
    """True when ``import tfpyth`` would find the package (without importing it)."""
    return importlib.util.find_spec("tfpyth") is not None


def _command(request: dict[str, Any]) -> list[str]:
    if not tfpyth_available():
        raise TfpythUnavailable(INSTALL_HINT)
    return [sys.executable, "-m", f"{__package__}.legacy", json.dumps(request)]


def _reply(returncode: int, stdout: str) -> dict[str, Any]:
    """The child's last stdout line as JSON; ``RuntimeError`` if it failed or printed none."""
    lines = stdout.strip().splitlines()
    if returncode != 0 or not lines:
        raise RuntimeError(f"the tfpyth subprocess failed (exit code {returncode}); see its log")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as error:
        raise RuntimeError(f"the tfpyth subprocess printed no JSON: {lines[-1]!r}") from error


def run_in_subprocess(request: dict[str, Any], timeout: float = 900.0) -> dict[str, Any]:
    """Run one request (``{"task": "train" | "gradcheck", ...}``) in a fresh interpreter.

    The child's log goes to this process's stderr; its last stdout line is parsed and returned.
    Raises :class:`TfpythUnavailable` without tfpyth and ``RuntimeError`` if the child fails,
    times out or prints no JSON.
    """
    command = _command(request)
    try:
        done = subprocess.run(
            command, stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"the tfpyth subprocess took longer than {timeout:.0f} s") from error
    return _reply(done.returncode, done.stdout)


class TfpythRun:
    """A tfpyth training run going on in a child process; :meth:`result` waits for it."""

    def __init__(self, request: dict[str, Any], timeout: float) -> None:
        self.timeout = timeout
        self.process = subprocess.Popen(_command(request), stdout=subprocess.PIPE, text=True)

    def result(self) -> TrainResult:
        """Wait for the child; raises ``RuntimeError`` if it fails, times out or prints no JSON."""
        try:
            stdout, _ = self.process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired as error:
            self.process.kill()
            self.process.communicate()
            raise RuntimeError(
                f"the tfpyth subprocess took longer than {self.timeout:.0f} s"
            ) from error
        return TrainResult(**_reply(self.process.returncode, stdout))


def start_tfpyth(
    config: TrainConfig,
    dataset: str = "digits",
    out_dir: str | Path | None = None,
    threads: int = 1,
    timeout: float = 3600.0,
) -> TfpythRun:
    """Start training the hybrid model through ``tfpyth.torch_from_tensorflow`` in a subprocess.

    Same data split, initial weights, batch order and dev-chosen epoch as
    :func:`.train.train_dlpack`. Writes ``model.pt`` (the shared checkpoint format) into
    ``out_dir`` when given. ``threads`` is passed to the child as in :func:`.bridge.set_threads`.
    Raises :class:`TfpythUnavailable` at once without tfpyth.
    """
    request = {
        "task": "train",
        "threads": threads,
        "config": config.to_dict(),
        "dataset": dataset,
        "out_dir": None if out_dir is None else str(Path(out_dir).resolve()),
    }
    return TfpythRun(request, timeout)


def train_tfpyth(
    config: TrainConfig,
    dataset: str = "digits",
    out_dir: str | Path | None = None,
    threads: int = 1,
) -> TrainResult:
    """:func:`start_tfpyth` and wait for its result."""
    return start_tfpyth(config, dataset, out_dir, threads).result()


# ---------------------------------------------------------------------------------------------
# Everything below runs inside the subprocess, in TF1 graph mode.


def _enter_graph_mode() -> Any:
    """Switch this process to TF1 graph mode and point tfpyth at ``tf.compat.v1``."""
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    import tfpyth

    tfpyth.tf = tf.compat.v1
    return tfpyth


def _session(threads: int) -> Any:
    """A TF1 session with ``threads`` intra- and inter-op threads (0: TensorFlow's default)."""
    import tensorflow as tf
    import torch

    if threads:
        torch.set_num_threads(threads)
    config = tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
    )
    return tf.compat.v1.Session(config=config)


def _torch_function(tfpyth: Any, session: Any, inputs: list[Any], output: Any, dtype: Any) -> Any:
    """``tfpyth.torch_from_tensorflow(...)`` as a plain callable.

    tfpyth returns an *instance* of its autograd Function, which torch 2 deprecates (a later
    torch will refuse it): call ``apply`` on the class instead.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        function = tfpyth.torch_from_tensorflow(session, inputs, output, tf_dtype=dtype)
    return type(function).apply


def _graph(
    tfpyth: Any, session: Any, features: Any, shapes: list[Any], n_features: int, dtype: Any
) -> Any:
    """Placeholders for ``x`` and every weight, the feature graph, and tfpyth's torch function."""
    tf1 = tfpyth.tf
    x_in = tf1.placeholder(dtype, shape=(None, n_features), name="x")
    weight_in = [tf1.placeholder(dtype, shape=s, name=f"w{i}") for i, s in enumerate(shapes)]
    output = features(x_in, *weight_in)
    return _torch_function(tfpyth, session, [x_in, *weight_in], output, dtype)


def _train(request: dict[str, Any]) -> dict[str, Any]:
    tfpyth = _enter_graph_mode()
    import numpy as np
    import tensorflow as tf
    import torch
    from torch import nn

    from .data import load_split
    from .evaluate import accuracy
    from .model import init_extractor_weights, make_head, resolve_features, save_checkpoint
    from .train import fit, gradient_error, predict

    start = time.perf_counter()
    config = TrainConfig.from_dict(request["config"])
    split = load_split(request.get("dataset", "digits"), seed=config.seed)
    tf.compat.v1.set_random_seed(config.seed)
    features = resolve_features(config.model.features)
    initial = init_extractor_weights(split.n_features, config.model)
    shapes = [w.shape for w in initial]
    session = _session(request.get("threads", 1))
    tf_features = _graph(tfpyth, session, features, shapes, split.n_features, tf.float32)

    weights = [nn.Parameter(torch.from_numpy(w.copy())) for w in initial]
    head = make_head(config.model.hidden[-1], split.n_classes, config.model)

    # The bridge's gradient check, as in the DLPack path: a float64 twin of the graph, one batch.
    tf_features64 = _graph(tfpyth, session, features, shapes, split.n_features, tf.float64)
    weights64 = [torch.from_numpy(w.astype(np.float64)).requires_grad_(True) for w in initial]
    head64 = make_head(config.model.hidden[-1], split.n_classes, config.model).double()
    y_check = torch.from_numpy(split.y_train[: config.batch_size])

    def check_loss(x: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(head64(tf_features64(x, *weights64)), y_check)

    x_check = torch.from_numpy(split.x_train[: config.batch_size]).double()
    check = gradient_error(check_loss, x_check, weights64, seed=config.seed)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return head(tf_features(x, *weights))

    x_train, y_train = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    dev = (torch.from_numpy(split.x_dev), torch.from_numpy(split.y_dev))
    fitted = fit(forward, [*weights, *head.parameters()], x_train, y_train, config, dev=dev)
    test_pred = predict(forward, torch.from_numpy(split.x_test))
    train_pred = predict(forward, x_train)
    checkpoint = None
    if request.get("out_dir"):
        path = Path(request["out_dir"]) / "model.pt"
        checkpoint = str(
            save_checkpoint(path, weights, head, config.model, split.n_features, split.n_classes)
        )
    session.close()
    return TrainResult(
        bridge="tfpyth",
        test_accuracy=accuracy(test_pred, split.y_test),
        dev_accuracy=fitted.dev_accuracies[fitted.best_epoch - 1],
        train_accuracy=accuracy(train_pred, split.y_train),
        best_epoch=fitted.best_epoch,
        losses=fitted.losses,
        step_losses=fitted.step_losses,
        predictions=test_pred.tolist(),
        seconds=time.perf_counter() - start,
        gradient_error=check,
        checkpoint=checkpoint,
    ).to_dict()


def _gradcheck(request: dict[str, Any]) -> dict[str, Any]:
    """``torch.autograd.gradcheck`` on ``sum(sin(x) * w)`` computed by a tfpyth TF1 graph."""
    tfpyth = _enter_graph_mode()
    import tensorflow as tf
    import torch

    tf1 = tf.compat.v1
    x_in = tf1.placeholder(tf.float64, name="x")
    w_in = tf1.placeholder(tf.float64, name="w")
    output = tf.reduce_sum(tf.sin(x_in) * w_in)
    with _session(request.get("threads", 1)) as session:
        function = _torch_function(tfpyth, session, [x_in, w_in], output, tf.float64)
        generator = torch.Generator().manual_seed(request.get("seed", 0))
        x = torch.randn(5, dtype=torch.float64, generator=generator, requires_grad=True)
        w = torch.randn(5, dtype=torch.float64, generator=generator, requires_grad=True)
        passed = torch.autograd.gradcheck(function, (x, w))
    return {"gradcheck": bool(passed), "executing_eagerly": tf.executing_eagerly()}


TASKS = {"train": _train, "gradcheck": _gradcheck}


def main(argv: list[str] | None = None) -> int:
    """Subprocess entry point: run the JSON request in ``argv[0]``, print one JSON line."""
    logging.basicConfig(level=logging.INFO, format="[tfpyth] %(message)s", stream=sys.stderr)
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m <package>.legacy '<json request>'", file=sys.stderr)
        return 2
    request = json.loads(argv[0])
    task = TASKS.get(request.get("task", ""))
    if task is None:
        print(
            f"unknown task {request.get('task')!r}; choose one of {sorted(TASKS)}", file=sys.stderr
        )
        return 2
    print(json.dumps(task(request)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
