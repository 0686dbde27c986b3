"""How a chapter reads (COURSE.md rule 3): visible prose words on the main path, sentences over
40 words, the longest sentence, and how many check cells show their source.

    python tools/prose_stats.py notebooks/05_lstm_forward.ipynb [more.ipynb ...]
    python tools/prose_stats.py --all [--json FILE]

Counted: the markdown cells before the optional part (a heading that says "Going deeper").
Not counted: folded text (<details>...</details>), display math ($$...$$), code blocks, table
rows, HTML tags, link targets. A sentence ends at . ! or ? followed by a space or the end.
"""
import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIMIT = 40
DEEPER = re.compile(r"^#+\s.*going deeper", re.IGNORECASE | re.MULTILINE)
HIDDEN = [re.compile(p, re.DOTALL) for p in (r"<details>.*?</details>", r"\$\$.*?\$\$", r"```.*?```")]


def visible_text(markdown):
    """The words a reader sees in one markdown cell, folds and tables removed."""
    for pattern in HIDDEN:
        markdown = pattern.sub(" ", markdown)
    markdown = re.sub(r"^\s*\|.*$", " ", markdown, flags=re.MULTILINE)    # table rows
    markdown = re.sub(r"\]\([^)]*\)", "]", markdown)                       # link targets
    markdown = re.sub(r"<[^>]+>", " ", markdown)                           # HTML tags
    markdown = re.sub(r"^\s*#+\s*(.*)$", r"\1.", markdown, flags=re.MULTILINE)  # a heading ends a sentence
    return markdown


def sentences(text):
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return [p for p in parts if len(p.split()) > 2]


def stats(path):
    cells = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))["cells"]
    main, checks, shown = [], 0, 0
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if DEEPER.search(source):
                break
            main.append(visible_text(source))
        elif "check" in cell.get("metadata", {}).get("tags", []):
            checks += 1
            shown += not cell["metadata"].get("jupyter", {}).get("source_hidden", False)
    text = "\n".join(main)
    lengths = [len(s.split()) for s in sentences(text)] or [0]
    return {"notebook": pathlib.Path(path).name, "words": len(text.split()),
            "over_40": sum(n > LIMIT for n in lengths), "longest": max(lengths),
            "mean_sentence": round(sum(lengths) / len(lengths), 1), "check_cells": checks,
            "checks_shown": shown}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", type=pathlib.Path)
    ap.add_argument("--all", action="store_true", help="every notebook in notebooks/")
    ap.add_argument("--json", type=pathlib.Path, help="also write the rows as JSON")
    args = ap.parse_args(argv)
    paths = sorted((ROOT / "notebooks").glob("*.ipynb")) if args.all else args.notebooks
    if not paths:
        ap.error("name notebooks, or --all")
    rows = [stats(p) for p in paths]
    print("| notebook | words on the main path | sentences over 40 | longest | mean | check cells (shown) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['notebook']} | {r['words']:,} | {r['over_40']} | {r['longest']} | {r['mean_sentence']} "
              f"| {r['check_cells']} ({r['checks_shown']}) |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
