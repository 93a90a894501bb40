# points: 30

from collections.abc import Callable

import numpy as np
import pytest
import tensorflow as tf
import torch

from {{ cookiecutter.package_name }}.bridge import (
    TF_ALIGNMENT,
    TFModule,
    set_threads,
    tf_to_torch,
    torch_from_tf,
    torch_to_tf,
)

# --- zero copy ------------------------------------------------------------------------------


def test_torch_to_tf_shares_memory():
    source = torch.zeros(8)
    view = torch_to_tf(source)
    source[3] = 7.0  # written through torch ...
    assert float(tf.reduce_sum(view)) == 7.0  # ... seen by a TensorFlow op


def test_tf_to_torch_shares_memory():
    source = tf.range(6, dtype=tf.float32)
    view = tf_to_torch(source)
    view[0] = 100.0  # written through torch ...
    assert float(tf.reduce_sum(source)) == 115.0  # ... seen by TensorFlow (0+1+...+5 = 15)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool])
def test_round_trip_keeps_values_and_dtype(dtype):
    source = (torch.arange(12).reshape(3, 4) % 3).to(dtype)
    back = tf_to_torch(torch_to_tf(source))
    assert back.dtype == dtype and back.shape == source.shape
    assert torch.equal(back, source)


def test_non_contiguous_tensor_is_copied_correctly():
    source = torch.arange(12.0).reshape(3, 4).t()  # a transpose: no DLPack layout TF accepts
    assert np.array_equal(torch_to_tf(source).numpy(), source.numpy())
    expanded = torch.ones(1).expand(5)  # stride 0
    assert torch_to_tf(expanded).numpy().tolist() == [1.0] * 5


def test_unaligned_tensor_is_copied_so_tensorflow_kernels_can_use_it():
    base = torch.arange(65.0)
    unaligned = base[1:].reshape(8, 8)  # starts 4 bytes after an aligned address
    assert unaligned.data_ptr() % TF_ALIGNMENT != 0
    # Without the copy, TensorFlow's matmul kernel aborts the whole process on this input.
    product = tf.matmul(torch_to_tf(unaligned), torch_to_tf(unaligned))
    np.testing.assert_allclose(product.numpy(), (unaligned @ unaligned).numpy())


def test_tensor_that_requires_grad_is_detached():
    source = torch.ones(3, requires_grad=True)
    assert torch_to_tf(source).numpy().tolist() == [1.0, 1.0, 1.0]


def test_variables_are_read():
    variable = tf.Variable(tf.constant([1.0, 2.0]))
    assert tf_to_torch(variable).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("bad", [[1.0, 2.0], np.zeros(3), "tensor"])
def test_bad_inputs_raise_type_error(bad):
    with pytest.raises(TypeError, match="torch.Tensor"):
        torch_to_tf(bad)
    with pytest.raises(TypeError, match="tf.Tensor"):
        tf_to_torch(bad)


def test_set_threads_rejects_negative():
    with pytest.raises(ValueError, match="threads"):
        set_threads(-1)


# --- gradients ------------------------------------------------------------------------------

FUNCTIONS: dict[str, tuple[Callable[..., tf.Tensor], list[tuple[int, ...]]]] = {
    "sin_times": (lambda x, y: tf.sin(x) * y, [(3, 4), (3, 4)]),
    "matmul": (lambda a, b: tf.matmul(a, b), [(3, 4), (4, 2)]),
    "softmax": (lambda x: tf.nn.softmax(x, axis=-1), [(2, 5)]),
    "logsumexp": (lambda x: tf.reduce_logsumexp(x, axis=1), [(3, 5)]),
    "broadcast": (lambda x, y: tf.tanh(x) / (1.0 + y**2), [(3, 4), (4,)]),
    "identity": (lambda x: tf.identity(x), [(2, 3)]),
    "reshape": (lambda x: tf.reshape(x, [-1]), [(2, 3)]),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradcheck_float64(name):
    fn, shapes = FUNCTIONS[name]
    generator = torch.Generator().manual_seed(0)
    inputs = tuple(
        torch.randn(shape, dtype=torch.float64, generator=generator, requires_grad=True)
        for shape in shapes
    )
    assert torch.autograd.gradcheck(torch_from_tf(fn), inputs)


class Affine(tf.Module):
    """``tanh(x @ w + b)`` with trainable float64 variables."""

    def __init__(self, trainable: bool = True) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.w = tf.Variable(tf.constant(rng.normal(size=(4, 3))), trainable=trainable)
        self.b = tf.Variable(tf.constant(rng.normal(size=(3,))), trainable=trainable)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.tanh(tf.matmul(x, self.w) + self.b)


def test_gradcheck_through_tf_variables():
    module = TFModule.from_tf_module(Affine())
    w, b = module.tf_params
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    # gradcheck perturbs w and b in place; forward copies them into the TF variables each call
    assert torch.autograd.gradcheck(lambda x, w, b: module(x), (x, w, b))


def test_gradients_reach_trainable_tf_variables():
    affine = Affine()
    module = TFModule.from_tf_module(affine)
    x = torch.randn(5, 4, dtype=torch.float64)
    weights = torch.linspace(-1, 1, 15, dtype=torch.float64).reshape(5, 3)
    (module(x) * weights).sum().backward()
    # The same loss, differentiated by TensorFlow alone:
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(affine(tf.constant(x.numpy())) * weights.numpy())
    expected = tape.gradient(loss, affine.trainable_variables)
    assert len(list(module.parameters())) == 2
    assert module.variables == affine.trainable_variables  # tf.Module's order (by name: b, w)
    for param, grad in zip(module.tf_params, expected, strict=True):
        np.testing.assert_allclose(
            param.grad.numpy(), tf.convert_to_tensor(grad).numpy(), rtol=1e-10
        )


def test_frozen_variables_stay_in_tensorflow_but_inputs_get_gradients():
    module = TFModule.from_tf_module(Affine(trainable=False))
    assert list(module.parameters()) == []
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    module(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_optimizer_step_trains_the_tf_variables():
    affine = Affine()
    module = TFModule.from_tf_module(affine)
    before = affine.w.numpy().copy()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    module(torch.randn(5, 4, dtype=torch.float64)).pow(2).sum().backward()
    optimizer.step()
    module.sync_to_tf()
    assert not np.allclose(affine.w.numpy(), before)
    for variable, param in zip(module.variables, module.tf_params, strict=True):
        np.testing.assert_array_equal(variable.numpy(), param.detach().numpy())


def test_no_grad_forward_matches_and_backward_twice_works():
    module = TFModule.from_tf_module(Affine())
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        plain = module(x)
    out = module(x)
    torch.testing.assert_close(plain, out.detach())
    out.sum().backward(retain_graph=True)
    assert x.grad is not None
    first = x.grad.clone()
    out.sum().backward()  # the tape is persistent: a second backward gives the same gradient
    torch.testing.assert_close(x.grad, 2 * first)


def test_integer_inputs_pass_through_without_gradient():
    fn = torch_from_tf(lambda x, idx: tf.gather(x, idx))
    x = torch.randn(4, 2, requires_grad=True)
    out = fn(x, torch.tensor([3, 0]))
    out.sum().backward()
    assert x.grad is not None
    assert x.grad[[0, 3]].eq(1).all() and x.grad[[1, 2]].eq(0).all()


def test_function_must_return_a_tensor():
    with pytest.raises(TypeError, match="one tf.Tensor"):
        torch_from_tf(lambda x: (x, x))(torch.ones(2, requires_grad=True))  # type: ignore[arg-type, return-value]  # the wrong return type is what is tested


def test_variables_must_be_tf_variables():
    with pytest.raises(TypeError, match="tf.Variable"):
        TFModule(lambda x: x, [torch.ones(2)])  # type: ignore[list-item]  # the wrong type is what is tested


def test_a_keras_model_trains_through_the_bridge():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh")])
    module = TFModule.from_tf_module(model)
    assert [tuple(p.shape) for p in module.tf_params] == [(6, 5), (5,)]
    x = torch.randn(4, 6)
    module(x).square().sum().backward()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(model(x.numpy())))
    expected = tape.gradient(loss, model.trainable_variables)
    for param, grad in zip(module.tf_params, expected, strict=True):
        np.testing.assert_allclose(param.grad.numpy(), grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_zero_copy_on_gpu():
    source = torch.zeros(4, device="cuda")
    view = torch_to_tf(source)
    source[1] = 5.0
    assert "GPU" in view.device and float(tf.reduce_sum(view)) == 5.0
