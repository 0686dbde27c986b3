"""A real series to forecast: one of the bundled ones or a column of a CSV file, with its gaps.

`read_series` is the one entry point (`python -m lstm_lib compare` and chapter 12 use it):
a bundled series by name, or a column of a CSV file read by `read_csv` (the one CSV reader
of the package), then missing values reported, or filled with `interpolate=True`.

Every problem with the input raises InputError (a ValueError) whose message says what is wrong
and what to do; the command prints it and exits with status 2, never with a traceback.
Nothing here downloads anything: the bundled series are CSV files installed with the package
(from the repository's data/ folder, sources in data/README.md).
"""
import csv
import math
import pathlib
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

BUNDLED = {  # name -> (file in lstm_lib.data, value column, unit)
    "co2_monthly": ("co2_monthly.csv", "co2_ppm", "ppm"),
    "co2_weekly": ("co2_weekly.csv", "co2_ppm", "ppm"),
    "sunspots": ("sunspots_yearly.csv", "sunspots", "sunspot number"),
}
MISSING = {"", "nan", "na", "n/a", "null", "none", "-", "?"}  # cells read as a missing value


class InputError(ValueError):
    """A problem with the user's input: the message says what is wrong and what to do."""


@dataclass
class Series:
    """A named 1-D series: labels (dates, years or row numbers, as strings) and float64 values
    (NaN where a value is missing)."""

    name: str
    labels: list
    values: np.ndarray
    unit: str
    notes: list = field(default_factory=list)  # what was done to it (interpolated, dropped)


def read_series(name="co2_monthly", csv_path=None, column=None, date_column=None, interpolate=False):
    """A gap-free Series: the bundled series `name`, or (with `csv_path`) column `column` of a
    CSV file; missing values are an InputError describing them, or filled (`interpolate=True`,
    see fill_gaps)."""
    if csv_path is None and (column or date_column):
        raise InputError("--column and --date-column need --csv FILE")
    if csv_path is None:
        series = load_bundled(name)
    elif not column:
        raise InputError("--csv needs --column NAME: the numeric column to forecast")
    else:
        series = read_csv(csv_path, column, date_column)
    return fill_gaps(series, interpolate)


def load_bundled(name):
    """A series shipped with lstm_lib: 'co2_monthly', 'co2_weekly' (has gaps) or 'sunspots'."""
    if name not in BUNDLED:
        raise InputError(f"unknown series {name!r}; choose one of {', '.join(sorted(BUNDLED))}")
    filename, column, unit = BUNDLED[name]
    with resources.as_file(resources.files("lstm_lib.data") / filename) as path:
        series = read_csv(path, column)
    series.name, series.unit = name, unit
    return series


def _rows(path):
    """The non-blank rows of a CSV file: (header, data rows)."""
    p = pathlib.Path(path)
    if not p.exists():
        raise InputError(f"file not found: {path}")
    if p.is_dir():
        raise InputError(f"{path} is a folder, not a CSV file")
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a text (UTF-8) CSV file") from None
    except csv.Error as exc:
        raise InputError(f"{path} is not a readable CSV file: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"{path} is empty")
    if len(rows) == 1:
        raise InputError(f"{path} has a header row but no data rows")
    return [h.strip() for h in rows[0]], rows[1:]


def _numbers(cells, column, path):
    """Cells -> float64 values, NaN for a missing value; InputError naming non-numbers."""
    values, bad = [], []
    for i, cell in enumerate(cells):
        if cell.lower() in MISSING:
            values.append(np.nan)
            continue
        try:
            v = float(cell)
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            bad.append((i + 2, cell))  # line number in the file (header is line 1)
        values.append(v)
    if bad:
        examples = ", ".join(f"line {line}: {cell!r}" for line, cell in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise InputError(f"column {column!r} of {path} is not numeric: {len(bad)} of {len(cells)} "
                         f"values are not numbers ({examples}{more})")
    return np.array(values, np.float64)


def read_csv(path, column, date_column=None):
    """One numeric column of a CSV file with a header row, as a Series named after the file.

    Empty cells and NaN/NA/null are missing values (NaN, reported later as gaps); any other
    text that is not a number is an error naming the rows. Labels come from `date_column`,
    else from the first column when that is not the value column, else they are row numbers.
    """
    header, data = _rows(path)
    if column is None:
        raise InputError(f"name the column to forecast with --column; {path} has the columns: "
                         f"{', '.join(header)}")
    for name, what in ((column, "column"), (date_column, "date column")):
        if name is not None and name not in header:
            raise InputError(f"{path} has no {what} {name!r}; its columns are: {', '.join(header)}")

    def cells(col):
        return [row[col].strip() if col < len(row) else "" for row in data]

    values = _numbers(cells(header.index(column)), column, path)
    if date_column is not None:
        labels = cells(header.index(date_column))
    elif header[0] != column:
        labels = cells(0)
    else:
        labels = [f"row {i + 1}" for i in range(len(data))]
    return Series(pathlib.Path(path).name, labels, values, column)


def find_gaps(values):
    """Runs of NaN as (start, stop) index pairs (stop exclusive)."""
    missing = np.isnan(np.asarray(values, np.float64))
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def describe_gaps(series, limit=5):
    """'7 missing values in 3 gaps: rows 12-14 (1958-06 to 1958-08), ...' (rows count from 1)."""
    gaps = find_gaps(series.values)
    count = sum(b - a for a, b in gaps)
    parts = []
    for a, b in gaps[:limit]:
        if b - a == 1:
            parts.append(f"row {a + 1} ({series.labels[a]})")
        else:
            parts.append(f"rows {a + 1}-{b} ({series.labels[a]} to {series.labels[b - 1]})")
    more = f", and {len(gaps) - limit} more gaps" if len(gaps) > limit else ""
    return (f"{count} missing value{'s' * (count != 1)} in {len(gaps)} gap{'s' * (len(gaps) != 1)}: "
            + ", ".join(parts) + more)


def fill_gaps(series, interpolate=False):
    """The series without NaN: an InputError describing the gaps, or (interpolate=True) the
    gaps filled by linear interpolation between their neighbours; missing values at the very
    start or end cannot be interpolated and are dropped (noted in series.notes)."""
    v = series.values
    if not np.isnan(v).any():
        return series
    if np.isnan(v).all():
        raise InputError(f"{series.name}: every value is missing")
    report = describe_gaps(series)
    if not interpolate:
        raise InputError(f"{series.name} has {report}. Fill them by linear interpolation with "
                         f"--interpolate, or fix the data.")
    ok = np.flatnonzero(~np.isnan(v))
    first, last = ok[0], ok[-1]
    labels = series.labels[first:last + 1]
    v = v[first:last + 1]
    idx = np.arange(len(v))
    filled = np.interp(idx, idx[~np.isnan(v)], v[~np.isnan(v)])
    notes = series.notes + [f"interpolated {report}"]
    if first > 0 or last < len(series.values) - 1:
        notes.append(f"dropped {first} missing value(s) at the start and "
                     f"{len(series.values) - 1 - last} at the end (nothing to interpolate from)")
    return Series(series.name, labels, filled, series.unit, notes)


def x_axis(labels):
    """Labels for a plot's x axis: as dates if they all are ISO dates or four-digit years
    ('1958-03-01', '1700'), else as numbers ('0', '2.5'), else positions."""
    if all(len(x) >= 4 and x[:4].isdigit() for x in labels):
        try:
            return np.array(labels, dtype="datetime64[D]")
        except ValueError:
            pass
    try:
        return np.array([float(x) for x in labels])
    except ValueError:
        return np.arange(len(labels))
