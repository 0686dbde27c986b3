"""The LSTM cell diagram: it draws, its highlights name real paths, its labels are the code's names."""
import inspect
import itertools

import matplotlib
import pytest

from lstm_lib import cells
from lstm_lib.course import diagram
from lstm_lib.course.diagram import COLORS, FADED, GRAD, PATHS, draw_cell

matplotlib.use("Agg")

MODES = ([{}, {"backward": True}, {"chapters": True}] + [{"highlight": p} for p in PATHS]
         + [{"highlight": p, "backward": True} for p in PATHS])


@pytest.fixture
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def by_gid(fig):
    """gid -> artists drawn with that gid (patches, texts, lines)."""
    found = {}
    for artist in fig.findobj():
        if artist.get_gid():
            found.setdefault(artist.get_gid(), []).append(artist)
    return found


def edge_color(artist):
    return matplotlib.colors.to_hex(artist.get_edgecolor())


def texts(fig):
    return [t for t in fig.axes[0].texts if t.get_text().strip()]


@pytest.mark.parametrize("kwargs", MODES, ids=str)
def test_draws_without_overlapping_text(kwargs, close_figures):
    fig = draw_cell(**kwargs)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts(fig)]
    assert len(boxes) >= 10
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    for text, box in boxes:  # nothing cut off at the figure's edge
        assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1), text
    shapes = [(gid, a.get_window_extent(renderer)) for gid, arts in by_gid(fig).items()
              if gid.startswith(("box:", "node:")) for a in arts if not hasattr(a, "get_text")]
    for t in texts(fig):  # no name is written over a gate box or an operator
        if t.get_gid() and t.get_gid().startswith(("label:", "chapter:", "marker:")):
            box = t.get_window_extent(renderer)
            hit = [gid for gid, shape in shapes if box.overlaps(shape)]
            assert not hit, f"{t.get_text()!r} overlaps {hit}"


def test_draws_into_a_given_axes(close_figures):
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3))
    assert draw_cell(ax=left) is fig
    assert draw_cell(highlight="highway", backward=True, ax=right) is fig
    assert left.texts and right.texts


def test_labels_are_the_code_names(close_figures):
    names = set(cells.LSTMStepCache._fields) | {"h", "c"}  # lstm_step returns h, c, cache
    assert set(diagram.LABELS) <= names, set(diagram.LABELS) - names
    assert {"x", "h_prev", "c_prev", "h", "c", "i", "f", "g", "o"} <= set(diagram.LABELS)
    shown = {t.get_gid(): t.get_text() for t in texts(draw_cell())}
    for name, label in diagram.LABELS.items():
        assert shown.get(f"label:{name}") == label, name
    assert r"\tilde{c}" in shown["label:g"]  # the candidate is named both g (code) and c~ (math)


def test_gradient_labels_are_the_backward_code_names(close_figures):
    source = inspect.getsource(cells.lstm_gates_backward) + inspect.getsource(cells.lstm_step_backward)
    for name in diagram.GRAD_LABELS:
        assert name in source, name
    shown = {t.get_gid(): t.get_text() for t in texts(draw_cell(backward=True))}
    for name in diagram.GRAD_LABELS:
        assert shown[f"label:{name}"] == name  # written as in the code
    assert {f"marker:{k}" for k in (1, 2, 3, 4)} | {f"rule:{k}" for k in (1, 2, 3, 4)} <= set(shown)


GATE_BOX = {"forget": "box:f", "input": "box:i", "candidate": "box:g", "output": "box:o"}


@pytest.mark.parametrize("path", list(PATHS))
def test_each_highlight_colours_its_path_and_greys_the_rest(path, close_figures):
    gids = by_gid(draw_cell(highlight=path))
    coloured = {gid for gid, arts in gids.items() for a in arts
                if hasattr(a, "get_edgecolor") and edge_color(a) == COLORS[path]}
    assert len(coloured) >= 2, coloured  # every path has at least two drawn parts
    for other, box in GATE_BOX.items():
        want = COLORS[path] if other == path else FADED
        assert edge_color(gids[box][0]) == want, (other, box)
    highway_line = edge_color(gids["edge:c_kept"][0])
    assert highway_line == (COLORS["highway"] if path in ("highway",) else FADED)
    plain = by_gid(draw_cell())
    assert edge_color(plain["box:f"][0]) != FADED  # without a highlight nothing is greyed


def test_highlight_lists_and_unknown_paths(close_figures):
    gids = by_gid(draw_cell(highlight=["input", "candidate"]))
    assert edge_color(gids["box:i"][0]) == COLORS["input"]
    assert edge_color(gids["box:g"][0]) == COLORS["candidate"]
    assert edge_color(gids["box:f"][0]) == FADED
    for wrong in ("forgot", ["input", "cell"], ("highway", "Forget")):
        with pytest.raises(ValueError) as err:
            draw_cell(highlight=wrong)
        assert all(name in str(err.value) for name in PATHS), str(err.value)


def test_backward_highlight_draws_only_that_gradient(close_figures):
    highway = by_gid(draw_cell(highlight="highway", backward=True))
    assert "edge:grad:dc" in highway and "label:dc_prev" in highway
    assert "edge:grad:dh" not in highway and "edge:grad:dh_prev" not in highway
    assert edge_color(highway["edge:grad:dc"][0]) == GRAD
    assert {"marker:2", "marker:3"} <= set(highway) and "marker:1" not in highway
    inputs = by_gid(draw_cell(highlight="inputs", backward=True))
    assert {"edge:grad:dh_prev", "edge:grad:dx", "marker:4"} <= set(inputs)
    assert "edge:grad:dc" not in inputs
    full = by_gid(draw_cell(backward=True))
    grads = {g for g in full if g.startswith("edge:grad:")}
    assert grads > {g for g in highway if g.startswith("edge:grad:")}


def test_course_map_tags_chapters_01_to_05(close_figures):
    """Each badge sits on a part its chapter builds; 06 builds no part of the forward step
    (it runs it backward), so the forward cell has no 06 badge, only its legend line."""
    gids = by_gid(draw_cell(chapters=True))
    badges = {g for g in gids if g.startswith("chapter:")}
    assert badges == {f"chapter:0{k}" for k in range(1, 6)}, badges
    assert any("06  backward through time" in t.get_text() for t in texts(draw_cell(chapters=True)))
    assert "chapter:02" not in by_gid(draw_cell())


def centre_x(artist):
    return artist.get_x() + artist.get_width() / 2


def span(arrow):
    """(x min, x max, y min, y max) of a drawn arrow, in data units."""
    arrow.figure.canvas.draw()
    box = arrow.get_window_extent(arrow.figure.canvas.get_renderer())
    (x0, y0), (x1, y1) = arrow.axes.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
    return x0, x1, y0, y1


def test_gate_boxes_stand_in_the_code_order(close_figures):
    """Left to right i, f, g, o: the order of cells.lstm_step's blocks and of the caption."""
    assert diagram.GATE_ORDER == ("i", "f", "g", "o")
    import numpy as np

    H = 2
    for k, gate in enumerate(diagram.GATE_ORDER):  # block k of b drives the gate drawn k-th
        b = np.zeros(4 * H)
        b[k * H:(k + 1) * H] = 30.0
        _, _, cache = cells.lstm_step(np.zeros((1, 1)), np.zeros((1, H)), np.zeros((1, H)),
                                      np.zeros((1, 4 * H)), np.zeros((H, 4 * H)), b)
        assert np.allclose(getattr(cache, gate), 1.0), gate
    gids = by_gid(draw_cell())
    xs = [centre_x(gids[f"box:{gate}"][0]) for gate in "ifgo"]
    assert xs == sorted(xs) and len(set(xs)) == 4, xs
    caption = [t.get_text() for t in texts(draw_cell()) if "four blocks" in t.get_text()]
    assert caption and "i, f, g, o" in caption[0]
    # f's line reaches the highway's multiply, i's reaches the i*g multiply
    f_x0, f_x1, _, f_top = span(gids["edge:f"][0])
    assert f_x0 < centre_x(gids["box:f"][0]) < f_x1 and f_top > diagram.HWY - 0.3  # f up to the highway
    i_x0, i_x1, _, i_top = span(gids["edge:i"][0])
    assert i_x0 <= centre_x(gids["box:i"][0]) + 0.05 and i_x1 > centre_x(gids["box:g"][0]) - 0.3  # i over to g
    assert i_top < diagram.HWY - 1


UNROLLED_MODES = ([{}, {"backward": True}, {"steps": 2}] + [{"highlight": p} for p in diagram.UNROLLED_PATHS]
                  + [{"highlight": "highway", "backward": True}])


@pytest.mark.parametrize("kwargs", UNROLLED_MODES, ids=str)
def test_unrolled_draws_without_overlapping_text(kwargs, close_figures):
    fig = diagram.draw_unrolled(**kwargs)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts(fig)]
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    for text, box in boxes:
        assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1), text


def test_unrolled_hands_h_and_c_from_step_to_step(close_figures):
    gids = by_gid(diagram.draw_unrolled())
    assert {f"step:{t}" for t in (1, 2, 3)} <= set(gids) and "step:4" not in gids
    for t in range(4):  # c_0 .. c_3 and h_0 .. h_3 labelled, each carried by an edge
        assert f"label:c_{t}" in gids and f"label:h_{t}" in gids and f"edge:c_{t}" in gids
    for t in (1, 2, 3):
        assert f"label:x_{t}" in gids and f"edge:h_{t}_out" in gids
        xs = [centre_x(gids[f"box:{t}:{gate}"][0]) for gate in "ifgo"]
        assert xs == sorted(xs)  # every step shows the code's order
        assert gids[f"gate:{t}:i"][0].get_text() == "i"
    # the c handed from step 1 ends at step 2's multiply by f_2
    step2 = gids["step:2"][0]
    c1_start, c1_end, _, _ = span(gids["edge:c_1"][0])
    step1 = gids["step:1"][0]
    assert step1.get_x() < c1_start < step1.get_x() + step1.get_width()  # from step 1's +
    assert step2.get_x() < c1_end < step2.get_x() + step2.get_width()  # into step 2
    assert edge_color(gids["edge:c_1"][0]) == COLORS["highway"]


def test_unrolled_highlight_backward_and_bad_arguments(close_figures):
    gids = by_gid(diagram.draw_unrolled(highlight="hidden"))
    assert edge_color(gids["edge:c_1"][0]) == FADED and edge_color(gids["edge:h_1"][0]) != FADED
    back = by_gid(diagram.draw_unrolled(backward=True))
    for t in (1, 2, 3):
        assert {f"edge:grad:dc_{t}", f"edge:grad:dh_{t}", f"edge:grad:switch_{t}"} <= set(back)
        assert edge_color(back[f"edge:grad:dc_{t}"][0]) == GRAD
    assert not any(g.startswith("edge:grad") for g in gids)
    with pytest.raises(ValueError) as err:
        diagram.draw_unrolled(highlight="forget")
    assert all(name in str(err.value) for name in diagram.UNROLLED_PATHS)
    for bad in (0, 7, 2.5):
        with pytest.raises(ValueError):
            diagram.draw_unrolled(steps=bad)
