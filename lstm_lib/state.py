"""The state protocol: how a recurrent layer carries its state from one forward call to the next.

Every recurrent layer of the package follows it (the fast RNN, LSTM and GRU, the readable
ReferenceLSTM and every layer built on it, minGRU and minLSTM):

    stateful        a settable bool: when True, a forward call given no initial state starts
                    from the state the previous call ended in (the gradient stops there:
                    truncated BPTT); when False, every call starts from zeros
    state           the final state of the last forward, a tuple such as (h,) or (h, c)
    reset_state()   forget the carried state: the next call starts from zeros again

`stateful_layers(model)` finds the layers that follow it by that protocol (an attribute
`stateful`), not by their class; `training.fit(..., bptt=k)` switches them on for its windows.
`CarriedState` is the protocol written once, for a layer class to inherit.
"""
import numpy as np


class CarriedState:
    """The protocol for a layer class: `stateful`, `reset_state()`, and `_start_state` /
    `_end_state`, which a forward calls at its start and at its end."""

    stateful = False
    _carry = None  # the state the next call starts from (stateful layers only)

    def reset_state(self):
        """Forget the state carried from the previous call (stateful layers)."""
        self._carry = None

    def _start_state(self, given, batch):
        """The initial state, one entry per entry of `given` (None where not given): a given
        array, else the state carried from the previous call, else None (the caller uses zeros)."""
        carried = self._carry
        if carried is None or all(s is not None for s in given):
            return list(given)
        if carried[0].shape[0] != batch:
            raise ValueError(f"batch mismatch: the carried state has batch {carried[0].shape[0]}, "
                             f"x has batch {batch}; call reset_state() before changing the batch "
                             f"size")
        return [c if s is None else s for s, c in zip(given, carried)]

    def _end_state(self, *final):
        """Keep a copy of the final state as `state` and, if stateful, carry it to the next call."""
        self.state = tuple(np.array(s, copy=True) for s in final)
        if self.stateful:
            self._carry = self.state
        return self.state


def stateful_layers(model):
    """The layers inside `model` that follow the state protocol (have a `stateful` attribute):
    the model itself, or, for a container (anything with `.layers`), those inside its layers."""
    inner = getattr(model, "layers", None)
    if inner is not None:
        return [r for layer in inner for r in stateful_layers(layer)]
    return [model] if hasattr(model, "stateful") else []
