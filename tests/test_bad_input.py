"""Bad input raises ValueError/TypeError naming the expected and the actual value."""
import numpy as np
import pytest

import lstm_lib as L


@pytest.fixture
def layer(recurrent_class):
    return recurrent_class(3, 4)


def test_wrong_rank(layer):
    with pytest.raises(ValueError, match=r"3-D \(batch, time, features\), got shape \(5, 3\)"):
        layer.forward(np.zeros((5, 3)))


def test_wrong_feature_size(layer):
    with pytest.raises(ValueError, match=r"\(batch, time, 3\), got \(2, 5, 7\)"):
        layer.forward(np.zeros((2, 5, 7)))


def test_empty_time(layer):
    with pytest.raises(ValueError, match=r"at least one .* got shape \(2, 0, 3\)"):
        layer.forward(np.zeros((2, 0, 3)))


def test_nan_and_inf(layer):
    x = np.zeros((2, 5, 3))
    x[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf \(1 values, first at index \(1, 2, 0\)\)"):
        layer.forward(x)
    x[1, 2, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        layer.forward(x)


def test_integer_dtype(layer):
    with pytest.raises(TypeError, match="float array, got dtype int64"):
        layer.forward(np.zeros((2, 5, 3), dtype=np.int64))


def test_batch_mismatch_with_given_state(layer):
    with pytest.raises(ValueError, match="batch mismatch: h0 has batch 3, x has batch 2"):
        layer.forward(np.zeros((2, 5, 3)), np.zeros((3, 4)))


def test_wrong_state_shape(layer):
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 4\), got \(2, 5\)"):
        layer.forward(np.zeros((2, 5, 3)), np.zeros((2, 5)))


def test_batch_mismatch_with_carried_state():
    lay = L.LSTM(3, 4, stateful=True)
    lay.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="carried state has batch 2, x has batch 3; call reset_state"):
        lay.forward(np.zeros((3, 5, 3)))
    lay.reset_state()
    assert lay.forward(np.zeros((3, 5, 3))).shape == (3, 5, 4)


def test_backward_before_forward(layer):
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(np.zeros((2, 5, 4)))


def test_backward_wrong_shape(layer):
    layer.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"dh must have shape \(2, 5, 4\), got \(2, 5, 3\)"):
        layer.backward(np.zeros((2, 5, 3)))


def test_targets_out_of_range_and_dtype():
    loss = L.SoftmaxCrossEntropy()
    logits = np.zeros((2, 3, 5))
    with pytest.raises(ValueError, match=r"targets must be in \[0, 4\], got values from 0 to 5"):
        loss.forward(logits, np.array([[0, 1, 5], [0, 0, 0]]))
    with pytest.raises(ValueError, match=r"from -2 to 1"):
        loss.forward(logits, np.array([[0, 1, -2], [0, 0, 0]]))
    with pytest.raises(TypeError, match="integer class indices, got dtype float64"):
        loss.forward(logits, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"targets must have shape \(2, 3\), got \(3, 2\)"):
        loss.forward(logits, np.zeros((3, 2), int))
    with pytest.raises(ValueError, match=r"ids must be in \[0, 9\], got values from 0 to 10"):
        L.Embedding(10, 3).forward(np.array([[0, 10]]))


def test_loss_shape_mismatch_and_order():
    with pytest.raises(ValueError, match=r"target must have the shape of pred \(4, 1\), got \(4,\)"):
        L.MSELoss().forward(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="before forward"):
        L.MSELoss().backward()
    with pytest.raises(ValueError, match=r"Linear expects x of shape \(\.\.\., 3\), got \(2, 4\)"):
        L.Linear(3, 2).forward(np.zeros((2, 4)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="got 0 and 4"):
        L.LSTM(0, 4)
    with pytest.raises(ValueError, match="dropout probability must be in"):
        L.Dropout(1.0)
    with pytest.raises(ValueError, match="learning rate must be positive, got -0.1"):
        L.SGD(L.Linear(2, 2), lr=-0.1)
