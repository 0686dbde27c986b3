"""Self-checks for chapter 08 (debugging)."""
import numpy as np

from ..selfcheck import Mistake, self_check

TOOLS = ("gradient_check", "overfit_test", "update_ratio", "shape_check")
BUGS = ("random_init_grads", "optimiser_never_steps", "missing_sigmoid_grad", "dc_not_carried",
        "transposed_weight")

# The tool that flags each bug in chapter 08 (a second tool that also flags it is accepted).
CATCHES = {
    "random_init_grads": {"gradient_check", "overfit_test"},
    "optimiser_never_steps": {"update_ratio", "overfit_test"},
    "missing_sigmoid_grad": {"gradient_check"},
    "dc_not_carried": {"gradient_check"},
    "transposed_weight": {"shape_check", "gradient_check"},
}

WHY_NOT = {
    ("optimiser_never_steps", "gradient_check"): "the gradient check tests the layer's backward "
    "pass, which is correct here; the bug is in the optimiser, so look at what a step changes",
    ("optimiser_never_steps", "shape_check"): "every shape is right; the weights simply never "
    "change, which is what the update ratio measures",
    ("missing_sigmoid_grad", "overfit_test"): "in chapter 08 the layer with the missing sigmoid "
    "derivative still memorised the sine wave: wrong gradients can still go downhill",
    ("missing_sigmoid_grad", "update_ratio"): "the weights do move (in a slightly wrong "
    "direction), so the update ratios look normal",
    ("missing_sigmoid_grad", "shape_check"): "a missing factor does not change any shape",
    ("dc_not_carried", "overfit_test"): "the layer without the carry still memorised the short "
    "sine wave; only long dependencies suffer",
    ("dc_not_carried", "shape_check"): "the shapes are all right; a gradient is just missing",
    ("dc_not_carried", "update_ratio"): "the weights move normally; they just do not learn "
    "long dependencies",
    ("random_init_grads", "shape_check"): "random noise of the right shape passes every shape check",
    ("random_init_grads", "update_ratio"): "the weights do move, noise included, so the ratios "
    "look normal",
    ("transposed_weight", "overfit_test"): "with input size 1 the overfitting test crashes "
    "before it starts; with square sizes it passes, because dx is not used in a one-layer model",
    ("transposed_weight", "update_ratio"): "the weights move normally; only dx is wrong",
}


@self_check("each bug is matched with a tool that catches it.")
def check_tool_match(answer):
    """`answer`: dict bug name -> tool name, bugs from BUGS, tools from TOOLS."""
    if not isinstance(answer, dict):
        raise Mistake(f"answer should be a dict like {{'random_init_grads': 'gradient_check', ...}}, "
                      f"got {type(answer).__name__}")
    missing = [b for b in BUGS if b not in answer]
    if missing:
        raise Mistake(f"no tool given for {', '.join(missing)}")
    for bug in BUGS:
        tool = answer[bug]
        if tool is None:
            raise Mistake(f"no tool chosen yet for {bug}: replace its None with a tool name")
        if tool not in TOOLS:
            raise Mistake(f"{tool!r} (for {bug}) is not one of the tools {', '.join(TOOLS)}")
        if tool not in CATCHES[bug]:
            why = WHY_NOT.get((bug, tool), f"the {tool} does not flag {bug}")
            raise Mistake(f"{bug}: {why}")


@self_check("||after - before|| / ||before||: one number per parameter array.")
def check_change_ratio(fn):
    """`fn(before, after)` returns the parameter-change ratio of one array as a float."""
    rng = np.random.default_rng(9)
    before = rng.standard_normal((4, 6))
    after = before + 1e-3 * rng.standard_normal((4, 6))
    try:
        got = fn(before.copy(), after.copy())
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
        raise Mistake(f"your function raised {type(exc).__name__}: {exc}")
    if np.ndim(got) != 0:
        raise Mistake(f"return one number, got an array of shape {np.shape(got)}: take the norm "
                      f"(np.linalg.norm) of the whole change")
    got = float(got)
    right = np.linalg.norm(after - before) / np.linalg.norm(before)
    if np.isclose(got, right, rtol=1e-6):
        if fn(before.copy(), before.copy()) != 0:
            raise Mistake("an unchanged array must give exactly 0")
        return
    if np.isclose(got, np.linalg.norm(after - before)):
        raise Mistake("that is the size of the change alone; divide by the size of the "
                      "parameter, ||before||, so layers of different scale compare")
    if np.isclose(got, np.linalg.norm(after - before) / np.linalg.norm(after), rtol=1e-9):
        raise Mistake("divide by the norm of the parameter before the step, ||before||")
    if np.isclose(got, np.mean(np.abs(after - before) / np.abs(before))):
        raise Mistake("an average of elementwise ratios blows up where an entry is near 0; use "
                      "norms of whole arrays: ||after - before|| / ||before||")
    raise Mistake(f"{got:.3g} is not it: ||after - before|| / ||before|| is {right:.3g} here")
