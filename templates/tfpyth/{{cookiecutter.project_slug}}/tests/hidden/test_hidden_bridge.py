"""Instructor tests for the two bridge pieces: torch_to_tf and the backward pass.

They also run from the grader folder, outside this repo's tests/ and its conftest.py, so they set
TensorFlow's quiet, repeatable defaults themselves before TensorFlow loads.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402

from {{ cookiecutter.package_name }}.bridge import (  # noqa: E402
    TF_ALIGNMENT,
    TFModule,
    set_threads,
    tf_to_torch,
    torch_from_tf,
    torch_to_tf,
)

set_threads(1)


def shares(tf_tensor: tf.Tensor, source: torch.Tensor) -> bool:
    """True when the TensorFlow tensor uses the very memory of ``source``."""
    return tf_to_torch(tf_tensor).data_ptr() == source.data_ptr()


@pytest.mark.parametrize(
    "dtype", [torch.float16, torch.float32, torch.float64, torch.int32, torch.uint8, torch.bool]
)
def test_torch_to_tf_shares_only_what_tensorflow_can_use(dtype):
    # Aligned and contiguous: no copy, whatever the dtype, and writes show through.
    source = torch.zeros(64, dtype=dtype)
    view = torch_to_tf(source)
    assert shares(view, source) and tuple(view.shape) == (64,)
    assert view.dtype == tf.dtypes.as_dtype(str(dtype).removeprefix("torch."))
    source[5] = 1  # written through torch, seen by a TensorFlow op
    assert float(tf.reduce_sum(tf.cast(view, tf.float32))) == 1.0

    # A row slice that still starts on an aligned address is shared too (no needless clone).
    rows = torch.zeros(4, TF_ALIGNMENT, dtype=dtype)
    assert rows[1:].data_ptr() % TF_ALIGNMENT == 0
    assert shares(torch_to_tf(rows[1:]), rows[1:])

    # Unaligned: copied into aligned memory, so later writes to the source are not seen.
    base = torch.ones(TF_ALIGNMENT + 1, dtype=dtype)
    unaligned = base[1:]
    assert unaligned.data_ptr() % TF_ALIGNMENT
    copied = torch_to_tf(unaligned)
    assert not shares(copied, unaligned)
    assert tf_to_torch(copied).data_ptr() % TF_ALIGNMENT == 0
    base[1] = 0
    assert bool(tf.reduce_all(copied == tf.ones_like(copied)))

    # Non-contiguous (a transpose, a stride-0 expand): copied, values in row-major order.
    matrix = torch.arange(12).reshape(3, 4).to(dtype)
    transposed = torch_to_tf(matrix.t())
    assert tuple(transposed.shape) == (4, 3)
    assert np.array_equal(transposed.numpy(), matrix.t().numpy())
    assert tuple(torch_to_tf(torch.ones(1, dtype=dtype).expand(7)).shape) == (7,)

    # A 0-d tensor keeps its shape; a leaf that requires grad is detached, still without a copy,
    # and left as it was.
    scalar = torch_to_tf(torch.tensor(1, dtype=dtype))
    assert tuple(scalar.shape) == () and scalar.dtype == view.dtype and scalar.numpy().item() == 1
    leaf = torch.zeros(8, requires_grad=True)
    detached = torch_to_tf(leaf)
    assert shares(detached, leaf) and leaf.requires_grad and leaf.grad_fn is None


class Affine(tf.Module):
    """The float64 variables of ``scale * tanh(x @ w + b)``; ``scale`` is frozen."""

    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(7)
        self.w = tf.Variable(tf.constant(rng.normal(size=(4, 3))))
        self.b = tf.Variable(tf.constant(rng.normal(size=(3,))))
        self.scale = tf.Variable(tf.constant(1.5, tf.float64), trainable=False)


def test_backward_gives_exact_gradients_for_mixed_inputs_and_variables():
    affine = Affine()

    def fn(x, idx, unused):
        return affine.scale * tf.tanh(tf.matmul(tf.gather(x, idx), affine.w) + affine.b)

    module = TFModule(fn, affine.trainable_variables)
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(5, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    idx = torch.tensor([4, 0, 0, 2])
    unused = torch.randn(2, dtype=torch.float64, generator=generator, requires_grad=True)
    weights = torch.randn(4, 3, dtype=torch.float64, generator=generator)

    out = module(x, idx, unused)
    grads = torch.autograd.grad(out, [x, unused, *module.tf_params], weights, retain_graph=True)
    x_tf = tf.constant(x.detach().numpy())  # the same maths in TensorFlow alone
    with tf.GradientTape() as tape:
        tape.watch(x_tf)
        expected_out = fn(x_tf, tf.constant(idx.numpy()), None)
        loss = tf.reduce_sum(expected_out * weights.numpy())
    # tf.gather's gradient is an IndexedSlices: the bridge must hand torch a dense tensor
    expected = [tf.convert_to_tensor(g) for g in tape.gradient(loss, [x_tf, affine.w, affine.b])]
    np.testing.assert_allclose(out.detach().numpy(), expected_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grads[0].numpy(), expected[0].numpy(), rtol=1e-12)
    # x rows 1 and 3 are never gathered: exactly zero; row 0 is gathered twice
    assert grads[0][[1, 3]].eq(0).all() and grads[0][0].ne(0).any()
    # an input the output does not depend on gets zeros, not None
    assert grads[1] is not None
    assert grads[1].shape == (2,) and grads[1].eq(0).all()
    by_shape = dict(zip([tuple(p.shape) for p in module.tf_params], grads[2:], strict=True))
    np.testing.assert_allclose(by_shape[(4, 3)].numpy(), expected[1].numpy(), rtol=1e-12)
    np.testing.assert_allclose(by_shape[(3,)].numpy(), expected[2].numpy(), rtol=1e-12)

    # backward again on the same graph (the tape is persistent) gives the same gradients
    again = torch.autograd.grad(out, [x, *module.tf_params], weights)
    for first, second in zip([grads[0], *grads[2:]], again, strict=True):
        torch.testing.assert_close(first, second, rtol=0, atol=0)

    # and torch's own check of every gradient, the integer input passed along untouched
    w, b = module.tf_params
    assert torch.autograd.gradcheck(lambda x, u, w, b: module(x, idx, u), (x, unused, w, b))


def test_backward_never_hands_back_the_callers_gradient_buffer():
    identity = torch_from_tf(tf.identity)
    x = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    grad_output = torch.arange(6.0, dtype=torch.float64)
    (grad,) = torch.autograd.grad(identity(x), [x], grad_output)
    assert grad.data_ptr() != grad_output.data_ptr()
    grad_output.zero_()
    assert grad.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    ints = torch_from_tf(lambda i, y: tf.cast(i, tf.float64) * y)
    y = torch.ones(3, dtype=torch.float64, requires_grad=True)
    ints(torch.tensor([1, 2, 3]), y).sum().backward()
    assert y.grad is not None
    assert y.grad.tolist() == [1.0, 2.0, 3.0]
