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


def test_course_map_tags_chapters_01_to_06(close_figures):
    gids = by_gid(draw_cell(chapters=True))
    for chapter in ("01", "02", "03", "04", "05", "06"):
        assert f"chapter:{chapter}" in gids
    assert "chapter:02" not in by_gid(draw_cell())
