"""The tfpyth path. tfpyth is installed by `make setup`; without it these tests skip."""
# points: 10

import importlib.util
import json
import subprocess

import pytest
import tensorflow as tf
import torch

from {{ cookiecutter.package_name }} import legacy
from {{ cookiecutter.package_name }}.model import ModelConfig
from {{ cookiecutter.package_name }}.train import TrainConfig, TrainResult, train_dlpack

needs_tfpyth = pytest.mark.skipif(
    importlib.util.find_spec("tfpyth") is None,
    reason="tfpyth is not installed: run `make setup` (pip install --no-deps tfpyth==1.0.1)",
)


@needs_tfpyth
def test_eager_tensorflow_from_torch_works_unchanged_on_tf2():
    import tfpyth

    lin = torch.nn.Linear(4, 1).double()
    fn = tfpyth.eager_tensorflow_from_torch(lambda x, y: (torch.sin(x) * y).sum() + lin(x).sum())
    x = tf.Variable(tf.random.stateless_normal([4], seed=[1, 2], dtype=tf.float64))
    y = tf.constant([1.0, 2.0, 3.0, 4.0], dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(y)
        out = fn(x, y)
    grad_x, grad_y = tape.gradient(out, [x, y])
    expected_x = tf.cos(x) * y + tf.constant(lin.weight.detach().numpy()[0])
    tf.debugging.assert_near(grad_x, expected_x)
    tf.debugging.assert_near(grad_y, tf.sin(x))
    # The known limit: parameters of a torch module used inside get no gradient.
    assert lin.weight.grad is None


@needs_tfpyth
def test_tensorflow_from_torch_inside_tf_function():
    import tfpyth

    @tf.function
    def graph(a, b):
        return tfpyth.tensorflow_from_torch(lambda x, y: (x * y).sum(), [a, b], tf.float32)

    a, b = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    with tf.GradientTape() as tape:
        tape.watch(a)
        out = graph(a, b)
    assert float(out) == 11.0
    assert tape.gradient(out, a).numpy().tolist() == [3.0, 4.0]


@needs_tfpyth
def test_torch_from_tensorflow_passes_gradcheck_in_a_graph_mode_subprocess():
    reply = legacy.run_in_subprocess({"task": "gradcheck", "threads": 1})
    assert reply == {"gradcheck": True, "executing_eagerly": False}
    assert tf.executing_eagerly()  # this process was left in eager mode


@needs_tfpyth
def test_tfpyth_training_matches_the_dlpack_bridge(digits, tmp_path):
    config = TrainConfig(epochs=2, model=ModelConfig(hidden=(64, 32), head_hidden=16))
    old = legacy.train_tfpyth(config, out_dir=tmp_path)
    new = train_dlpack(digits, config)
    assert old.bridge == "tfpyth" and (tmp_path / "model.pt").is_file()
    # Same data, weights, batches and maths: the two bridges follow the same trajectory, step
    # by step, and choose the same epoch on the dev split.
    assert len(old.step_losses) == len(new.step_losses) > 30
    assert old.step_losses == pytest.approx(new.step_losses, abs=1e-5)
    assert old.best_epoch == new.best_epoch
    assert old.gradient_error < 1e-6 and new.gradient_error < 1e-6
    assert sum(a == b for a, b in zip(old.predictions, new.predictions, strict=True)) >= 0.98 * len(
        new.predictions
    )


def test_the_child_starts_at_once_and_is_waited_for(monkeypatch):
    started, waited = [], []
    reply = TrainResult("tfpyth", 0.9, 0.9, 0.95, 3, [1.0], [1.0], [0, 1], 2.5)

    class Child:
        returncode = 0

        def __init__(self, command, **kwargs):
            started.append(command)

        def communicate(self, timeout=None):
            waited.append(timeout)
            return "[tfpyth] log lines go to stderr\n" + json.dumps(reply.to_dict()) + "\n", None

    monkeypatch.setattr(legacy, "tfpyth_available", lambda: True)
    monkeypatch.setattr(legacy.subprocess, "Popen", Child)
    run = legacy.start_tfpyth(TrainConfig(epochs=1), timeout=30)
    assert len(started) == 1 and not waited  # started, not waited for yet
    assert started[0][1:3] == ["-m", f"{legacy.__package__}.legacy"]
    request = json.loads(started[0][3])
    assert request["task"] == "train" and request["config"]["epochs"] == 1
    assert run.result() == reply and waited == [30]


def test_missing_tfpyth_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(legacy, "tfpyth_available", lambda: False)
    with pytest.raises(legacy.TfpythUnavailable, match="make setup"):
        legacy.train_tfpyth(TrainConfig(epochs=1))


@pytest.mark.parametrize(
    ("code", "stdout", "message"),
    [(1, "", "exit code 1"), (0, "", "exit code 0"), (0, "not json\n", "no JSON")],
)
def test_a_failing_child_is_a_clear_error(monkeypatch, code, stdout, message):
    monkeypatch.setattr(legacy, "tfpyth_available", lambda: True)
    monkeypatch.setattr(
        legacy.subprocess,
        "run",
        lambda command, **kwargs: subprocess.CompletedProcess(command, code, stdout=stdout),
    )
    with pytest.raises(RuntimeError, match=message):
        legacy.run_in_subprocess({"task": "gradcheck"})


def test_subprocess_rejects_unknown_tasks(capsys):
    assert legacy.main(['{"task": "fly"}']) == 2
    assert "unknown task" in capsys.readouterr().err
