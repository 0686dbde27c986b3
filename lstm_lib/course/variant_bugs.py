"""Chapter 14's planted bugs: each LSTM variant with one typical mistake in its backward.

The usual way to get a variant's backward wrong is to change the forward and keep (part of)
the backward of the cell you started from, or the other way round. Each broken layer below
has its variant's forward and the backward of a cell that differs in one switch (or, for the
no-forget-gate cell, a highway that does not carry dc back; for the full-gate-recurrence cell,
no gradient back into the previous step's gates). The gradient check catches
every one of them (tests/test_variants.py, and the table in chapter 14).
"""
from dataclasses import replace
from typing import ClassVar

import numpy as np

from ..variants import (
    CIFGLSTM,
    FullGateRecurrenceLSTM,
    NoForgetGateLSTM,
    NoInputActivationLSTM,
    NoInputGateLSTM,
    NoOutputActivationLSTM,
    NoOutputGateLSTM,
    PeepholeLSTM,
    VariantLSTM,
    variant_gates_backward,
)


class _WrongBackward:
    """Mixin: the variant's forward, the backward of the cell with the switches in `wrong`."""

    wrong: ClassVar[dict] = {}

    def gates_backward(self, dh, dc, cache):
        spec = replace(self.spec, **self.wrong)
        return variant_gates_backward(dh, dc, cache, self.params, spec, self._peephole_grads)


class VanillaNoTanhGrad(_WrongBackward, VariantLSTM):
    bug = "the path from h into c skips the derivative of tanh(c)"
    wrong: ClassVar[dict] = {"output_activation": False}


class PeepholeIgnored(_WrongBackward, PeepholeLSTM):
    bug = "the backward ignores the peepholes: no path from the gates back into c, no gradient for p"
    wrong: ClassVar[dict] = {"peepholes": False}


class CIFGUncoupled(_WrongBackward, CIFGLSTM):
    bug = "i = 1 - f is treated as a separate gate: f's gradient misses the -di it gets through i"
    wrong: ClassVar[dict] = {"coupled": False}


class NoForgetNoCarry(NoForgetGateLSTM):
    bug = "dc is not passed back along the highway (with f = 1 it should pass unchanged)"

    def carry(self, dc_prev):
        return np.zeros_like(dc_prev)


class NoInputGateNoTanhGrad(_WrongBackward, NoInputGateLSTM):
    bug = "the candidate's gradient skips the derivative of tanh(z_g)"
    wrong: ClassVar[dict] = {"input_activation": False}


class NoOutputGateNoTanhGrad(_WrongBackward, NoOutputGateLSTM):
    bug = "the path from h = tanh(c) into c skips the derivative of tanh"
    wrong: ClassVar[dict] = {"output_activation": False}


class NoOutputActivationTanhGrad(_WrongBackward, NoOutputActivationLSTM):
    bug = "the backward still multiplies by 1 - a^2, the derivative of a tanh this cell no longer has"
    wrong: ClassVar[dict] = {"output_activation": True}


class NoInputActivationTanhGrad(_WrongBackward, NoInputActivationLSTM):
    bug = "the candidate's gradient still multiplies by 1 - g^2, though g = z_g is linear here"
    wrong: ClassVar[dict] = {"input_activation": True}


class FGRNoGateCarry(FullGateRecurrenceLSTM):
    bug = "no gradient goes back into the previous step's gates: the backward forgets that they feed R"

    def gate_carry(self, dz_ifo):
        return np.zeros_like(dz_ifo)


PLANTED = {cls.label: cls for cls in (VanillaNoTanhGrad, PeepholeIgnored, CIFGUncoupled,
                                      NoForgetNoCarry, NoInputGateNoTanhGrad,
                                      NoOutputGateNoTanhGrad, NoOutputActivationTanhGrad,
                                      NoInputActivationTanhGrad, FGRNoGateCarry)}
