"""The course as a book, checked as a reader sees it (issue 27).

`tools/build_book.py` builds the website (and the PDFs) from the stored notebooks. These tests
build the course's website once into a temporary folder and open every page in headless
Chromium (Debian's, through Playwright, as tests/test_browser_widgets.py does). A page passes
when no request fails or leaves the machine, no script fails, no raw TeX or widget repr is left
in its text, every plotly figure is drawn, every image has alt text (a figure without it is also caught
before any build: `build_book.py --alt-gaps` lists them), no display equation runs out of
its column on screen or in print, and the dark-mode button switches the theme. A two-page book
(tests/book_fixtures/) with planted faults shows that the checker names each one; the PDF path
is exercised on that small book too (the whole course's PDF takes a minute: the build command
makes it).

Skipped when the book's packages (requirements-book.txt) are not installed; without Chromium
or Playwright it is skipped too, except in CI (CI=true), where that is a failure
(tests/test_browser_widgets.py's rule).
"""
import functools
import http.server
import importlib.util
import os
import pathlib
import re
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = pathlib.Path(__file__).resolve().parent / "book_fixtures"
BOOK_DEPS = ("jupyter_book", "myst_nb", "sphinx_book_theme")
MISSING_DEPS = [m for m in BOOK_DEPS if importlib.util.find_spec(m) is None]
needs_book = pytest.mark.skipif(
    bool(MISSING_DEPS), reason=f"the book's packages are not installed ({', '.join(MISSING_DEPS)}): "
                               "pip install -r requirements-book.txt")

RAW_TEX = re.compile(r"\$[^$\s][^$\n]*\$|\\(frac|begin|sigma|odot|mathbf|tilde|partial|sum|alpha|theta)\b|\\\(|\\\[")
WIDGET_REPR = re.compile(r"\b(VBox|HBox|interactive|Output)\(children=|\b(Float|Int)(Log)?Slider\(")
LOCAL = ("data:", "blob:", "about:")


class Site:
    """A built site served on 127.0.0.1 (as a reader's server would; Sphinx's search fetches
    pages, which file:// forbids). `url(name)` is a page's address."""

    def __init__(self, folder):
        handler = functools.partial(Quiet, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name):
        return self.base + name

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def load_builder():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The page's prose (no code, cell outputs, typeset math or scripts), and everything a reader
# sees but the cells' code (where a widget's repr would be printed).
PAGE_TEXT = """() => {
  const article = document.querySelector('article') || document.body;
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, mjx-container, script, style, .highlight, .cell_output').forEach(e => e.remove());
  const shown = article.cloneNode(true);
  shown.querySelectorAll('.cell_input, script, style').forEach(e => e.remove());
  return [prose.innerText, shown.innerText];
}"""

# Images without alt text, plotly figures not drawn, MathJax errors, and the display equations
# that run out of their column: wider than it and not scrolling inside it (`print`: wider than
# the column once book.js has fitted them for print).
PAGE_FACTS = """(print) => {
  const article = document.querySelector('article') || document.body;
  const imgs = [...article.querySelectorAll('img')].filter(i => !(i.alt || '').trim())
      .map(i => (i.getAttribute('src') || '').slice(0, 60));
  const gaps = article.querySelectorAll('img.alt-text-gap').length;
  const plots = [...article.querySelectorAll('.plotly-graph-div')];
  const undrawn = plots.filter(p => !p.querySelector('svg.main-svg')).map(p => p.id);
  const wide = [...article.querySelectorAll('mjx-container[display="true"]')].filter(box => {
      const math = box.firstElementChild;
      const column = box.parentElement.getBoundingClientRect();
      const own = box.getBoundingClientRect();
      if (!math || column.width === 0) return false;
      const mathWidth = math.getBoundingClientRect().width;
      if (print) return mathWidth > column.width + 1;
      const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
      return own.right > column.right + 1 || (mathWidth > own.width + 1 && !scrolls);
  }).map(box => (box.getAttribute('aria-label') || box.textContent).slice(0, 50));
  return {imgs, gaps, plots: plots.length, undrawn, wide,
          errors: article.querySelectorAll('mjx-merror').length,
          maths: article.querySelectorAll('mjx-container').length};
}"""


# A4 portrait less the PDF's margins (tools/build_book.py), in CSS pixels; and, on a page that
# wide, what would be cut off: the innermost elements that reach past its right edge, and the
# boxes whose content is wider than they are (a printed page does not scroll).
PRINT_WIDTH = round((210 - 24) / 25.4 * 96)
CLIPPED = """() => {
  const W = document.documentElement.clientWidth;
  const inMath = e => e.closest('mjx-container, svg');
  const all = [...document.querySelectorAll('article *')].filter(e => !inMath(e) || e.matches('mjx-container'));
  const out = all.filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > W + 1; });
  const past = out.filter(e => !out.some(o => o !== e && e.contains(o)));
  const boxes = all.filter(e => !inMath(e) && /^(block|flow-root|flex|grid|table|list-item)$/.test(getComputedStyle(e).display));
  const over = boxes.filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 2
      && !past.some(o => e.contains(o)));
  return [...past, ...over].map(e => `<${e.tagName.toLowerCase()}> ${(e.textContent || '').trim().slice(0, 50)}`);
}"""


# plotly redraws a figure at a new width in its own time: now, and wait for it
RESIZE_PLOTS = """() => window.Plotly ? Promise.all([...document.querySelectorAll('.js-plotly-plot')]
    .map(d => window.Plotly.Plots.resize(d))) : null"""


def open_page(browser, url, log, wait=True):
    """A page opened with every request outside the machine refused, every failure logged
    (`wait=False`: return once it starts loading; `ready` waits for it)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    origin = url.split("/", 3)[:3]

    def route(r):
        if r.request.url.startswith(LOCAL) or r.request.url.split("/", 3)[:3] == origin:
            r.continue_()
        else:
            log.append(f"request left the machine: {r.request.url}")
            r.abort()
    page.route("**/*", route)
    page.on("requestfailed", lambda req: log.append(f"request failed: {req.url} ({req.failure})"))
    page.on("response", lambda res: res.status >= 400 and log.append(f"request failed: {res.url} ({res.status})"))
    page.on("pageerror", lambda exc: log.append(f"script error: {exc}"))
    page.goto(url, wait_until="commit")
    return ready(page) if wait else page


def ready(page):
    page.wait_for_load_state("load")
    page.wait_for_function("document.documentElement.dataset.mathReady === 'yes'", timeout=90_000)
    return page


def check_pages(browser, urls, at_once=3):
    """check_page for each address, `at_once` pages loading side by side (MathJax's typesetting
    is most of the time); returns (problems, [facts])."""
    problems, facts, todo = [], [], list(urls)
    loading = []
    while todo or loading:
        while todo and len(loading) < at_once:
            log = []
            url = todo.pop(0)
            loading.append((url, log, open_page(browser, url, log, wait=False)))
        url, log, page = loading.pop(0)
        found, fact = check_page(browser, url, page, log)
        problems += found
        facts.append(fact)
    return problems, facts


def check_page(browser, url, page=None, log=None):
    """Everything a reader would see wrong on one page, as plain sentences; and its counts
    (`page`, `log`: the page already opened by open_page, and its log)."""
    if page is None:
        log = []
        page = open_page(browser, url, log)
    else:
        ready(page)
    facts = page.evaluate(PAGE_FACTS, False)
    text, shown = page.evaluate(PAGE_TEXT)
    page.set_viewport_size({"width": PRINT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    page.evaluate(RESIZE_PLOTS)
    page.evaluate("window.bookFitMath && window.bookFitMath(true)")
    printed = page.evaluate(PAGE_FACTS, True)
    clipped = page.evaluate(CLIPPED)
    page.close()
    problems = sorted(set(log))
    problems += [f"raw TeX in the text: {m!r}" for m in sorted({m.group(0) for m in RAW_TEX.finditer(text)})]
    problems += [f"widget repr in the text: {m!r}" for m in sorted({m.group(0) for m in WIDGET_REPR.finditer(shown)})]
    problems += [f"image without alt text: {src}" for src in facts["imgs"]]
    problems += [f"plotly figure not drawn: {pid}" for pid in facts["undrawn"]]
    problems += [f"equation wider than its column: {label}" for label in facts["wide"]]
    problems += [f"equation wider than its column in print: {label}" for label in printed["wide"]]
    problems += [f"cut off at the right edge of the printed page: {what}" for what in clipped]
    if facts["errors"]:
        problems.append(f"{facts['errors']} MathJax errors")
    name = url.rsplit("/", 1)[-1]
    return [f"{name}: {p}" for p in problems], facts


def toggle_dark(browser, url, shots=None):
    """Click the theme button until the page is dark; return (light bg, dark bg, theme)."""
    log = []
    page = open_page(browser, url, log)
    page.emulate_media(color_scheme="light")
    page.evaluate("document.documentElement.dataset.theme = 'light'")
    background = "() => getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    if shots:
        page.screenshot(path=str(shots / f"{url.rsplit('/', 1)[-1][:-5]}_light.png"))
    for _ in range(3):
        if page.evaluate("document.documentElement.dataset.theme") == "dark":
            break
        page.locator(".theme-switch-button").first.click()
        time.sleep(0.3)
    theme = page.evaluate("document.documentElement.dataset.theme")
    dark = page.evaluate(background)
    if shots:
        page.screenshot(path=str(shots / f"{url.rsplit('/', 1)[-1][:-5]}_dark.png"))
    page.close()
    return light, dark, theme, log


@pytest.fixture(scope="module")
def browser():
    from browser import lab as B
    from test_browser_widgets import browser_or_skip
    chromium = browser_or_skip()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = B.launch_chromium(pw, chromium)
        yield b
        b.close()


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The course's website built from the stored notebooks (no PDF: the fixture book tests
    that path), served on 127.0.0.1. BOOK_DIR names a book that `tools/build_book.py --out`
    already built from these notebooks (CI builds it in a step of its own): it is checked as it is."""
    builder = load_builder()
    if os.environ.get("BOOK_DIR"):
        out, times = pathlib.Path(os.environ["BOOK_DIR"]), {}
    else:
        out = tmp_path_factory.mktemp("book")
        times = builder.build(out, pdf=False, quiet=True)
    site = Site(out / "html")
    yield out / "html", site, times
    site.close()


@pytest.fixture(scope="module")
def small_book(tmp_path_factory, browser):
    """The two-page book of tests/book_fixtures, with its PDFs, served on 127.0.0.1."""
    builder = load_builder()
    out = tmp_path_factory.mktemp("small_book")
    builder.build(out, pdf=True, notebooks=FIXTURES, quiet=True, browser=browser)
    site = Site(out / "html")
    yield builder, out, site
    site.close()


@needs_book
def test_every_page_reads_clean(book, browser):
    html, site, times = book
    pages = sorted(html.glob("[0-9][0-9]_*.html"))
    assert len(pages) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    problems, facts = check_pages(browser, [site.url(p.name) for p in [html / "index.html", html / "search.html", *pages]])
    maths = sum(f["maths"] for f in facts)
    assert not problems, "\n".join(problems)
    assert maths > 500, f"only {maths} typeset equations in the book"
    assert times.get("html", 0) < 300, f"the website took {times['html']:.0f} s to build"


@needs_book
def test_landing_page_chapter_pages_run_links_and_titles(book):
    html, _, _ = book
    target = re.search(r'url=([^"]+)"', (html / "index.html").read_text(encoding="utf-8")).group(1)
    assert target.startswith("00_start_here"), target
    titles = []
    for page in sorted(html.glob("[0-9][0-9]_*.html")):
        text = page.read_text(encoding="utf-8")
        assert "colab.research.google.com/github/" in text and "jupyter lab notebooks/" in text, page.name
        assert "widget-view+json" not in text and "cdn." not in text and "unpkg" not in text, page.name
        titles.append(re.search(r"<title>(.*?) &#8212;", text).group(1))
    assert not [t for t in titles if re.search(r"\d\d\s*·", t)], titles
    assert [t.split(".")[0] for t in titles[1:]] == [str(n) for n in range(1, len(titles))], titles


@needs_book
def test_widgets_become_notes_and_check_cells_stay_folded(book):
    html, _, _ = book
    notes = [n for page in sorted(html.glob("[0-9][0-9]_*.html")) for n in re.findall(
        r'<div class="widget-note"><p><strong>Interactive widget.</strong> (.*?)</p>', page.read_text(encoding="utf-8"))]
    generic = [n for n in notes if n.startswith("An interactive figure:")]
    assert len(notes) >= 10 and not generic, notes  # each note says what its widget does
    text = (html / "02_gates.html").read_text(encoding="utf-8")
    assert "Interactive widget." in text and "VBox(" not in text
    checks = re.findall(r'<div class="cell [^"]*tag_check[^"]*"', text)
    assert checks, "no check cell on chapter 02's page"
    assert all("tag_hide-input" in c for c in checks), checks


@needs_book
def test_search_finds_the_forget_gate(book, browser):
    _, site, _ = book
    log = []
    page = open_page(browser, site.url("search.html?q=forget+gate"), log)
    page.wait_for_selector("#search-results ul li", timeout=30_000)
    time.sleep(1.0)
    hits = page.locator("#search-results ul li").count()
    page.close()
    assert hits >= 5 and not log, (hits, log)


@needs_book
def test_dark_mode_toggles(book, browser):
    _, site, _ = book
    shots = os.environ.get("BOOK_SHOTS")
    if shots:
        shots = pathlib.Path(shots)
        shots.mkdir(parents=True, exist_ok=True)
    light, dark, theme, log = toggle_dark(browser, site.url("04_cell_highway.html"), shots)
    assert theme == "dark" and light != dark and not log, (light, dark, theme, log)


@needs_book
def test_the_checker_names_each_planted_fault(small_book, browser):
    _, out, site = small_book
    html = out / "html"
    good, facts = check_page(browser, site.url("00_good.html"))
    assert good == [], good
    assert facts["plots"] == 1 and facts["maths"] >= 3, facts
    page = (html / "00_good.html").read_text(encoding="utf-8")
    assert "Interactive widget." in page and "VBox(" not in page and "cdn.plot.ly" not in page
    assert 'alt="A straight line rising from 0 to 1."' in page  # alt text from the output's metadata
    assert 'alt="The same line, its alt text in the cell' in page  # ... and from the cell's
    bad, _ = check_page(browser, site.url("01_faults.html"))
    text = "\n".join(bad)
    assert "raw TeX in the text: '$\\\\sigma(a)$'" in text, text
    assert "request failed" in text and "missing_figure.png (404)" in text, text
    assert "image without alt text: data:image/png" in text, text
    assert "widget repr in the text: 'VBox(children='" in text, text
    assert "equation wider than its column: " in text, text
    assert "in print" not in text, text  # the print fit still shrinks the planted wide equation
    assert "cut off at the right edge of the printed page: <p> A line that never wraps" in text, text
    # missing vendored assets: MathJax and plotly.js gone, the clean page notices both
    (html / "_static" / "mathjax" / "es5" / "tex-chtml.js").unlink()
    (html / "_static" / "plotly.min.js").unlink()
    missing, _ = check_page(browser, site.url("00_good.html"))
    text = "\n".join(missing)
    assert "tex-chtml.js" in text and "raw TeX in the text" in text, text
    assert "plotly.min.js" in text and "plotly figure not drawn" in text, text


@needs_book
def test_pdfs_of_the_small_book(small_book):
    builder, out, _ = small_book
    assert builder.pdf_pages(out / "course.pdf") >= 2
    assert 1 <= builder.pdf_pages(out / "cheatsheet.pdf") <= 2


def test_alt_text_gaps_are_counted_where_the_figure_is_made():
    builder = load_builder()
    gaps = builder.missing_alt(FIXTURES)
    assert [name for name in gaps] == ["01_faults.ipynb"] and len(gaps["01_faults.ipynb"]) == 1, gaps


def test_every_figure_of_the_course_has_alt_text():
    """Written where the figure is made (show_figure(fig, alt=...)); a new figure without it fails."""
    gaps = load_builder().missing_alt()
    assert gaps == {}, f"figures without alt text (tools/build_book.py --alt-gaps): {gaps}"


def test_cheat_sheet_names_what_the_library_has():
    """Every `L.name` and `diagnostics.name` on the cheat sheet exists, and its parameter counts
    are the library's."""
    import lstm_lib as L
    from lstm_lib import diagnostics, interop
    sheet = (ROOT / "tools" / "book" / "cheatsheet.html").read_text(encoding="utf-8")
    names = set(re.findall(r"\bL\.([A-Za-z_]\w*)", sheet))
    assert len(names) >= 15 and not [n for n in names if not hasattr(L, n)], names
    checks = set(re.findall(r"diagnostics\.(\w+)", sheet))
    assert len(checks) == 4 and all(hasattr(diagnostics, n) for n in checks), checks
    assert hasattr(interop, "from_torch") and hasattr(interop, "to_torch")
    D, H = 3, 5
    count = {k: sum(p.size for p in layer.params.values()) for k, layer in
             (("lstm", L.LSTM(D, H)), ("gru", L.GRU(D, H)))}
    assert count == {"lstm": 4 * H * (D + H + 1), "gru": 3 * H * (D + H + 1) + H}, count
    assert "$4H(D + H + 1)$" in sheet and "$3H(D + H + 1) + H$" in sheet
