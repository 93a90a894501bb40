"""The 2019 way: the same hybrid model trained through tfpyth, in a subprocess.

tfpyth 1.0.1 was written for TensorFlow 1.14. On TensorFlow 2 two of its functions still work as
they are (``eager_tensorflow_from_torch`` and ``tensorflow_from_torch``: gradients reach their
inputs, not the parameters of torch modules used inside), but ``torch_from_tensorflow`` needs a
TF1 session: eager execution must be switched off before any TensorFlow tensor exists and
``tfpyth.tf`` must point at ``tf.compat.v1``. Both changes hold for the whole process, so this
path runs in a fresh Python process (``python -m <package>.legacy '<json request>'``) that prints
one JSON line back.

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

from .train import TrainConfig, TrainResult

log = logging.getLogger(__name__)

INSTALL_HINT = "tfpyth is not installed: run `make setup` (pip install --no-deps tfpyth==1.0.1)"


class TfpythUnavailable(RuntimeError):
    """Raised when the tfpyth path is asked for but tfpyth is not installed."""


def tfpyth_available() -> bool:
    """True when ``import tfpyth`` would find the package (without importing it)."""
    return importlib.util.find_spec("tfpyth") is not None


def run_in_subprocess(request: dict[str, Any], timeout: float = 900.0) -> dict[str, Any]:
    """Run one request (``{"task": "train" | "gradcheck", ...}``) in a fresh interpreter.

    The child's log goes to this process's stderr; its last stdout line is parsed and returned.
    Raises :class:`TfpythUnavailable` without tfpyth and ``RuntimeError`` if the child fails,
    times out or prints no JSON.
    """
    if not tfpyth_available():
        raise TfpythUnavailable(INSTALL_HINT)
    command = [sys.executable, "-m", f"{__package__}.legacy", json.dumps(request)]
    try:
        done = subprocess.run(
            command, stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"the tfpyth subprocess took longer than {timeout:.0f} s") from error
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"the tfpyth subprocess failed (exit code {done.returncode}); see its log"
        )
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as error:
        raise RuntimeError(f"the tfpyth subprocess printed no JSON: {lines[-1]!r}") from error


def train_tfpyth(
    config: TrainConfig,
    dataset: str = "digits",
    out_dir: str | Path | None = None,
    threads: int = 1,
) -> TrainResult:
    """Train the hybrid model through ``tfpyth.torch_from_tensorflow`` in a subprocess.

    Same data split, initial weights and batch order as :func:`.train.train_dlpack`. Writes
    ``model.pt`` (the shared checkpoint format) into ``out_dir`` when given. ``threads`` is
    passed to the child as in :func:`.bridge.set_threads`.
    """
    request = {
        "task": "train",
        "threads": threads,
        "config": config.to_dict(),
        "dataset": dataset,
        "out_dir": None if out_dir is None else str(Path(out_dir).resolve()),
    }
    return TrainResult(**run_in_subprocess(request))


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


def _train(request: dict[str, Any]) -> dict[str, Any]:
    tfpyth = _enter_graph_mode()
    import tensorflow as tf
    import torch
    from torch import nn

    from .data import load_split
    from .evaluate import accuracy
    from .model import extract_features, init_extractor_weights, make_head, save_checkpoint
    from .train import fit, predict

    start = time.perf_counter()
    config = TrainConfig.from_dict(request["config"])
    split = load_split(request.get("dataset", "digits"), seed=config.seed)
    tf1 = tf.compat.v1
    tf1.set_random_seed(config.seed)
    initial = init_extractor_weights(split.n_features, config.model)

    x_in = tf1.placeholder(tf.float32, shape=(None, split.n_features), name="x")
    weight_in = [
        tf1.placeholder(tf.float32, shape=w.shape, name=f"w{i}") for i, w in enumerate(initial)
    ]
    features = extract_features(x_in, *weight_in)
    session = _session(request.get("threads", 1))
    tf_features = _torch_function(tfpyth, session, [x_in, *weight_in], features, tf.float32)

    weights = [nn.Parameter(torch.from_numpy(w.copy())) for w in initial]
    head = make_head(config.model.hidden[-1], split.n_classes, config.model)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return head(tf_features(x, *weights))

    x_train, y_train = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    losses = fit(forward, [*weights, *head.parameters()], x_train, y_train, config)
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
        train_accuracy=accuracy(train_pred, split.y_train),
        losses=losses,
        predictions=test_pred.tolist(),
        seconds=time.perf_counter() - start,
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
