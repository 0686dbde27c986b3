"""Build the course as a book, offline: a searchable website, a PDF of the whole course and a
two-page cheat sheet, from the stored notebooks (read only; nothing is executed).

    python tools/build_book.py              # -> build/book/html/, build/book/course.pdf, build/book/cheatsheet.pdf
    python tools/build_book.py --no-pdf     # the website only
    python tools/build_book.py --alt-gaps   # list the figures that have no alt text, and stop

Needs the packages of requirements-book.txt (Jupyter Book 1), npm once (MathJax 3 is taken from
the npm registry's `mathjax` package, checked against its sha512 and kept in build/cache/), and
for the PDFs Debian's Chromium, driven by Playwright as the browser tests do. Steps:

1. copy notebooks/NN_*.ipynb into build/book/src/ and, in the copy only: put in place of each
   widget output (no widget state is stored) a note saying what the widget does and where to
   run it (the static figure above it stays); draw the plotly figures with the book's own
   plotly.min.js (no CDN); give each figure its alt text (see `alt_text`); take the "NN · "
   prefix off the chapter headings (the table of contents numbers the chapters); turn the Colab
   badge (an image fetched from Colab) into plain "Open in Colab" / "Run in JupyterLab" links;
2. write the table of contents (chapter 00, the course map, is the landing page), vendor
   MathJax 3 and plotly.min.js, and run `jupyter-book build` (HTML; single-page HTML for the PDF);
3. print the single page and tools/book/cheatsheet.html to PDF with headless Chromium.
"""
import argparse
import ast
import base64
import copy
import hashlib
import html
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "tools" / "book"
NOTEBOOKS = ROOT / "notebooks"
COURSE_CODE = ROOT / "lstm_lib" / "course"
CACHE = ROOT / "build" / "cache"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
IMAGES = ("image/png", "image/svg+xml", "image/jpeg")
TITLE_PREFIX = re.compile(r"^(#\s+)\d\d\s*·\s*")
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)")
MATHJAX = ("3.2.2", "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==")
# the parts of MathJax's es5/ folder the pages load (tex-chtml.js, the fonts, the lazily loaded
# menu and accessibility parts, TeX extensions); not the speech rules, the SVG output or the
# -full bundles
MATHJAX_PARTS = re.compile(r"^package/(LICENSE|es5/(tex-chtml\.js|a11y/|ui/|adaptors/|input/|output/chtml))")


# ------------------------------------------------------------------ notebook -> book page

def control_labels(func):
    """The labels of a widget's controls, read from its code: slider("label", ...) and
    description="label" of the ipywidgets it builds."""
    labels = []
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name == "slider" and node.args and isinstance(node.args[0], ast.Constant):
            labels.append(str(node.args[0].value))
        labels += [str(k.value.value) for k in node.keywords
                   if k.arg == "description" and isinstance(k.value, ast.Constant) and k.value.value]
    return list(dict.fromkeys(labels))


def widget_docs():
    """{(module, name): what it does} for each widget function (a name ending in `_widget`) in
    lstm_lib/course: the first paragraph of its docstring, else the labels of its controls."""
    docs = {}
    for path in sorted(COURSE_CODE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name.endswith("_widget")):
                continue
            doc = ast.get_docstring(node)
            if doc:
                what = " ".join(doc.split("\n\n")[0].split()).replace(" -> ", " → ")
            elif control_labels(node):
                what = f"Controls: {', '.join(control_labels(node))}; moving them redraws the figure above."
            else:
                continue
            docs[(module, node.name)] = what
    return docs


def notebook_names(nb):
    """{name in the notebook: (module, attribute or None)} from its imports."""
    names = {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.update({a.asname or a.name: (node.module, a.name) for a in node.names})
            elif isinstance(node, ast.Import):
                names.update({a.asname or a.name: (a.name, None) for a in node.names})
    return names


def widget_what(source, docs, names):
    """What the widget a cell makes does, from the function the cell calls."""
    for prefix, func in reversed(re.findall(r"(?:([A-Za-z_]\w*)\.)?([A-Za-z_]\w*_widget)\s*\(", source)):
        module, attr = names.get(prefix or func, (None, None))
        keys = [(f"{module}.{attr}", func), (module, func)] if prefix else [(module, attr)]
        for key in keys:
            if key in docs:
                return docs[key]
        same = [what for (_, name), what in docs.items() if name == func]
        if len(same) == 1:
            return same[0]
    return None


def run_here(notebook):
    """Where to run a chapter: Colab (the badge's address) and JupyterLab (the command)."""
    from lstm_lib.course import colab_url

    from_colab = colab_url(notebook.removesuffix(".ipynb"))
    return from_colab, f"jupyter lab notebooks/{notebook}"


def widget_note(source, docs, notebook, colab, names=None):
    """The note that stands where a widget was: what it does, and where to run it."""
    what = widget_what(source, docs, names or {})
    if what is None:
        what = "An interactive figure: its controls redraw the figure above with new values."
    _, lab = run_here(notebook)
    return (f'<div class="widget-note"><p><strong>Interactive widget.</strong> {html.escape(what)}</p>'
            f'<p>The book shows the figure above at the widget\'s starting values. To move the '
            f'controls, run this chapter in <a href="{html.escape(colab)}">Colab</a> or in JupyterLab '
            f'(<code>{lab}</code>).</p></div>')


def run_links(colab, notebook):
    _, lab = run_here(notebook)
    return (f'<p class="run-links"><a class="colab-link" href="{html.escape(colab)}">Open in Colab</a>'
            f' · Run in JupyterLab: <code>{lab}</code></p>')


def plotly_html(figure, div_id, first):
    """A plotly figure drawn by the book's plotly.min.js (the stored HTML loads it from a CDN)."""
    data, layout = json.dumps(figure.get("data", [])), json.dumps(figure.get("layout", {}))
    height = int(figure.get("layout", {}).get("height") or 450)
    script = '<script src="_static/plotly.min.js"></script>' if first else ""
    return (f'{script}<div id="{div_id}" class="plotly-graph-div book-plotly" style="height:{height}px; width:100%;">'
            f'</div><script>Plotly.newPlot("{div_id}", {data}, {layout}, {{"responsive": true}});</script>')


REMOTE_SCRIPT = re.compile(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>|<script type="module">\s*import\s+"https?://[^"]*"\s*;?\s*</script>')


def local_html(text, first_plot):
    """An HTML output with its remote scripts taken out. Plotly's 'connected' HTML loads
    plotly.js (and MathJax 2) from CDNs: its figure is drawn by the book's plotly.min.js, and its
    set-up output (no figure in it) is dropped. None means: drop the output."""
    plotly = "cdn.plot.ly" in text or "PlotlyConfig" in text
    text = REMOTE_SCRIPT.sub("", text)
    if plotly and "Plotly.newPlot" not in text:
        return None
    if plotly and first_plot:
        text = '<script src="_static/plotly.min.js"></script>' + text
    return text


def alt_text(cell):
    """A figure's alt text, written where the figure is made: the output's own metadata
    (`display(fig, metadata={"image/png": {"alt": "..."}})`, which a figure helper can write), or
    the cell's (`"mystnb": {"image": {"alt": "..."}}`, MyST-NB's key). '' when there is none."""
    for out in cell.get("outputs", []):
        for mime in IMAGES:
            alt = (out.get("metadata", {}).get(mime) or {}).get("alt") if mime in out.get("data", {}) else None
            if alt and alt.strip():
                return alt.strip()
    return ((cell.get("metadata", {}).get("mystnb", {}).get("image") or {}).get("alt") or "").strip()


def has_image(cell):
    return cell["cell_type"] == "code" and any(
        m in o.get("data", {}) for o in cell.get("outputs", []) for m in IMAGES)


def first_line(cell):
    lines = [line for line in "".join(cell["source"]).splitlines() if line.strip() and not line.startswith("#")]
    return lines[-1].strip() if lines else ""


def missing_alt(notebooks=NOTEBOOKS):
    """{notebook: [(cell number, the cell's last line of code)]} for each figure without alt text."""
    found = {}
    for path in sorted(pathlib.Path(notebooks).glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        gaps = [(i, first_line(c)) for i, c in enumerate(nb["cells"]) if has_image(c) and not alt_text(c)]
        if gaps:
            found[path.name] = gaps
    return found


def headings(notebooks=NOTEBOOKS):
    """{notebook: its first '# ' heading as stored}."""
    found = {}
    for path in sorted(pathlib.Path(notebooks).glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            line = next((x for x in "".join(cell["source"]).splitlines() if x.startswith("# ")), None)
            if cell["cell_type"] == "markdown" and line:
                found[path.name] = line[2:].strip()
                break
    return found


def convert(nb, name, docs):
    """The book's copy of one notebook (the stored one is left as it is)."""
    nb = copy.deepcopy(nb)
    nb.setdefault("metadata", {}).pop("widgets", None)
    colab, _ = run_here(name)
    plots, linked = 0, False
    names = notebook_names(nb)
    for cell in nb["cells"]:
        cell.setdefault("metadata", {})
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            found = BADGE.search(text)
            if found:
                colab = found.group(1)
                text = BADGE.sub(lambda m: run_links(m.group(1), name), text)
                linked = True
            cell["source"] = "\n".join(TITLE_PREFIX.sub(r"\1", line) for line in text.split("\n"))
            continue
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                outputs.append({"output_type": "display_data", "metadata": {},
                                "data": {"text/html": widget_note(source, docs, name, colab, names)}})
            elif PLOTLY in data:
                plots += 1
                outputs.append({"output_type": "display_data", "metadata": {}, "data": {
                    "text/html": plotly_html(data[PLOTLY], f"plotly-{name[:2]}-{plots}", plots == 1)}})
            elif "text/html" in data and REMOTE_SCRIPT.search("".join(data["text/html"])):
                plotly = "Plotly.newPlot" in "".join(data["text/html"])
                text = local_html("".join(data["text/html"]), plotly and plots == 0)
                plots += plotly
                if text is not None:
                    outputs.append({**out, "data": {**data, "text/html": text}})
            else:
                outputs.append(out)
        cell["outputs"] = outputs
        if has_image(cell):
            image = cell["metadata"].setdefault("mystnb", {}).setdefault("image", {})
            alt = alt_text(cell)
            if alt:
                image["alt"] = alt
            else:  # counted by the build and by the browser test: a known gap, not a silent one
                image["classes"] = "alt-text-gap"
    if not linked:
        first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
        first["source"] = run_links(colab, name) + "\n\n" + "".join(first["source"])
    return nb


TOC = ("# written by tools/build_book.py\nformat: jb-book\nroot: {root}\n"
       "parts:\n- caption: Chapters\n  numbered: 1\n  chapters:\n{chapters}")


def write_source(src, notebooks=NOTEBOOKS):
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    docs = widget_docs()
    names = []
    for path in sorted(pathlib.Path(notebooks).glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        (src / path.name).write_text(json.dumps(convert(nb, path.name, docs), ensure_ascii=False), encoding="utf-8")
        names.append(path.stem)
    chapters = "".join(f"  - file: {n}\n" for n in names[1:])
    (src / "_toc.yml").write_text(TOC.format(root=names[0], chapters=chapters), encoding="utf-8")
    shutil.copy(BOOK / "_config.yml", src / "_config.yml")
    static = src / "_static"
    static.mkdir()
    for part in ("book.css", "book.js"):
        shutil.copy(BOOK / part, static / part)
    return names


# ------------------------------------------------------------------ vendored assets

def mathjax_tarball():
    """npm's mathjax package (kept in build/cache/), checked against the registry's sha512."""
    version, integrity = MATHJAX
    tgz = CACHE / f"mathjax-{version}.tgz"
    if not tgz.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("the book needs npm once, to fetch MathJax 3 (apt-get install -y npm)")
        subprocess.run([npm, "pack", f"mathjax@{version}", "--pack-destination", str(CACHE), "--silent"],
                       check=True, capture_output=True)
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    if digest != integrity:
        tgz.unlink()
        sys.exit(f"{tgz.name}: sha512 does not match the pinned one; removed it, run again")
    return tgz


def vendor(static):
    """MathJax 3 and plotly.min.js (from the plotly wheel) into a built site's _static/, after
    the build: Jupyter Book would add every script of its static folders to every page."""
    import plotly
    static.mkdir(parents=True, exist_ok=True)
    with tarfile.open(mathjax_tarball()) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and MATHJAX_PARTS.match(m.name)]
        for m in members:
            m.name = "mathjax/" + m.name.removeprefix("package/")
        tar.extractall(static, members=members, filter="data")
    shutil.copy(pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js", static / "plotly.min.js")


THEBE = re.compile(r'\s*<script>const THEBE_JS_URL = [^<]*</script>|\s*<script async="async" src="_static/sphinx-thebe\.js[^"]*"></script>'
                   r'|\s*<link rel="stylesheet" type="text/css" href="_static/sphinx-thebe\.css[^"]*" />')


def tidy(site):
    """Take sphinx-thebe out of the built pages: Jupyter Book 1 writes its set-up script twice
    (a script error on every page), and it would fetch thebe from a CDN; the book runs nothing."""
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        page.write_text(THEBE.sub("", text), encoding="utf-8")


def jupyter_book(src, out, builder):
    exe = pathlib.Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(src), "--path-output", str(out),
           "--builder", builder, "--quiet"]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"jupyter-book build ({builder}) failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stderr


# ------------------------------------------------------------------ PDFs

# A4 less the margins below, in CSS pixels (96 per inch): the width a printed page lays out at
PRINT_WIDTH = {False: round((210 - 24) / 25.4 * 96), True: round((297 - 24) / 25.4 * 96)}


def print_pdf(browser, url, pdf, landscape=False):
    """Print a page to A4 with Chromium, its wide equations drawn smaller to fit the paper."""
    page = browser.new_page(viewport={"width": PRINT_WIDTH[landscape], "height": 1000})
    page.goto(url, wait_until="load")
    page.wait_for_function("document.documentElement.dataset.mathReady === 'yes'", timeout=300_000)
    page.emulate_media(media="print")
    page.evaluate("window.bookFitMath(true)")
    numbers = not landscape  # the course's pages are numbered; the one-page cheat sheet is not
    page.pdf(path=str(pdf), format="A4", landscape=landscape, print_background=True,
             display_header_footer=numbers, header_template="<span></span>",
             footer_template=('<div style="width:100%; font-size:8px; text-align:center; color:#666">'
                              'LSTM from Scratch · <span class="pageNumber"></span></div>'),
             margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
    page.close()


def pdf_pages(pdf):
    return len(re.findall(rb"/Type\s*/Page[^s]", pathlib.Path(pdf).read_bytes()))


def browser_helpers():
    """tests/browser/lab.py: the browser tests' way of finding and starting Chromium."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("book_lab", ROOT / "tests" / "browser" / "lab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_pdfs(out, html_dir, single, browser=None):
    """course.pdf from the single-page site, cheatsheet.pdf from tools/book/cheatsheet.html
    (with `browser`, a Playwright Chromium already running; else one of its own)."""
    cheat = out / "cheatsheet"
    if cheat.exists():
        shutil.rmtree(cheat)
    cheat.mkdir()
    shutil.copy(BOOK / "cheatsheet.html", cheat / "index.html")
    shutil.copytree(html_dir / "_static" / "mathjax", cheat / "mathjax")
    shutil.copy(BOOK / "book.js", cheat / "book.js")
    if browser is not None:
        print_pdf(browser, (single / "index.html").as_uri(), out / "course.pdf")
        print_pdf(browser, (cheat / "index.html").as_uri(), out / "cheatsheet.pdf", landscape=True)
        return
    from playwright.sync_api import sync_playwright
    lab = browser_helpers()
    chromium = lab.find_chromium()
    if chromium is None:
        sys.exit("no Chromium for the PDFs: `apt-get install -y chromium` (or --no-pdf)")
    with sync_playwright() as pw:
        own = lab.launch_chromium(pw, chromium)
        try:
            build_pdfs(out, html_dir, single, own)
        finally:
            own.close()


def site(src, out, builder, name):
    """Run one Jupyter Book builder into out/name, with the vendored assets, tidied."""
    jupyter_book(src, out / "jb", builder)
    folder = out / name
    if folder.exists():
        shutil.rmtree(folder)
    shutil.move(out / "jb" / "_build" / builder, folder)
    vendor(folder / "_static")
    tidy(folder)
    return folder


def build(out, pdf=True, notebooks=NOTEBOOKS, quiet=False, browser=None):
    """Build the book into `out`; returns {step: seconds}."""
    out = pathlib.Path(out).resolve()  # absolute: the PDFs are printed from file:// addresses
    times, start = {}, time.time()
    src = out / "src"
    names = write_source(src, notebooks)
    times["sources"] = time.time() - start
    html_dir = site(src, out, "html", "html")
    times["html"] = time.time() - start - sum(times.values())
    if pdf:
        single = site(src, out, "singlehtml", "single")
        build_pdfs(out, html_dir, single, browser)
        times["pdf"] = time.time() - start - sum(times.values())
    shutil.rmtree(out / "jb", ignore_errors=True)
    gaps = sum(len(v) for v in missing_alt(notebooks).values())
    if not quiet:
        line = (f"book built in {time.time() - start:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in times.items())}):"
                f" {len(names)} chapters, {html_dir / 'index.html'}")
        if pdf:
            line += (f"; {out / 'course.pdf'} ({pdf_pages(out / 'course.pdf')} pages),"
                     f" {out / 'cheatsheet.pdf'} ({pdf_pages(out / 'cheatsheet.pdf')} pages)")
        print(line + f"; {gaps} figures have no alt text yet (--alt-gaps lists them)")
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "book"), help="output folder (default build/book)")
    parser.add_argument("--no-pdf", action="store_true", help="build the website only")
    parser.add_argument("--alt-gaps", action="store_true", help="list the figures without alt text and stop")
    args = parser.parse_args(argv)
    if args.alt_gaps:
        gaps = missing_alt()
        for name, cells in gaps.items():
            print(f"{name}: {len(cells)}: " + "; ".join(f"cell {i} `{line}`" for i, line in cells))
        print(f"{sum(len(v) for v in gaps.values())} figures without alt text in {len(gaps)} chapters")
        return
    build(args.out, pdf=not args.no_pdf)


if __name__ == "__main__":
    main()
