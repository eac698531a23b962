"""`voxeval leaderboard --static OUT`: the leaderboard as a self-contained static site.

OUT/index.html ranks the chosen layer (by default the first that holds results); the other
layers get their own labelled pages (unofficial.html, demo.html), never mixed into its
boards.
Each layer has a page per task and per model and CSV/JSON downloads of every board; pages
are plain HTML with inline CSS, so any static host serves them and a browser fetches
nothing else. Names in results are hostile input: file names are slugs, text is escaped,
and files are written only inside OUT, which must be new, empty, or a previous export.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from voxeval.errors import VoxevalError
from voxeval.leaderboard import boards, data
from voxeval.leaderboard.pairs import PairedVerdicts
from voxeval.leaderboard.static_detail import model_page, task_page
from voxeval.leaderboard.static_pages import Site, landing_page

MARKER = ".voxeval-static-site.json"
GENERATOR = "voxeval leaderboard --static"
# What our own exports contain: slug paths only, so a tampered marker cannot name others.
OUR_PATH = re.compile(r"(?:[a-z0-9][a-z0-9-]*/)*[a-z0-9][a-z0-9.-]*")


class StaticExportError(VoxevalError):
    """The export folder cannot be used (a link, a file, or someone else's folder)."""


def write_site(
    results_dir: Path,
    out: Path,
    layer: str | None = None,
    declared: dict[str, str] | None = None,
) -> Path:
    """Export the leaderboard over `results_dir` as static pages in `out`; return index.html.

    `layer` is the one ranked on index.html (default: the first of official, unofficial,
    demo that holds results, as in the app); the others get their own pages. `declared`
    maps task → board (default: what the installed tasks declare).
    """
    if layer is not None and layer not in data.LAYERS:
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(data.LAYERS)}")
    results_dir, out = Path(results_dir), Path(out)
    if not results_dir.is_dir():  # a mistyped path would otherwise export an empty board
        raise StaticExportError(f"{results_dir}: no such results folder")
    previous = prepare_out(out, results_dir)
    rows = data.load_results(results_dir)
    files: dict[str, bytes] = {}
    for site in layer_sites(results_dir, rows, layer or first_layer(rows), declared):
        files.update(site_files(site))
    write_files(out, scrub_root(files, results_dir), previous)
    return out / "index.html"


def first_layer(rows: pd.DataFrame) -> str:
    """The first layer with results (a fresh clone holds only DEMO runs), else official."""
    done = rows[rows["status"] == "success"] if "status" in rows else rows.iloc[:0]
    present = set(data.row_layers(done)) if not done.empty else set()
    return next((name for name in data.LAYERS if name in present), "official")


def layer_sites(
    results_dir: Path, rows: pd.DataFrame, home: str, declared: dict[str, str] | None
) -> list[Site]:
    """One Site per layer, each with its own boards; `home` is the one on index.html."""
    tidies = layer_tidies(rows)
    counts = {name: int(t["model"].nunique()) if not t.empty else 0 for name, t in tidies.items()}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        Site(
            layer=name,
            home=home,
            tidy=tidy,
            boards=layer_boards(results_dir, tidy, declared),
            generated=stamp,
            version=voxeval_version(),
            counts=counts,
            problems=scrubbed_problems(rows, results_dir) if name == home else None,
        )
        for name, tidy in tidies.items()
    ]


def layer_tidies(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each layer's latest results (an absent layer is not selected: it costs a merge)."""
    present = set(data.row_layers(rows)) if "status" in rows else set()
    return {
        name: data.select_latest(rows if name in present else pd.DataFrame(), name)
        for name in data.LAYERS
    }


def voxeval_version() -> str:
    """The installed voxeval's version."""
    from voxeval import __version__

    return __version__


def layer_boards(
    results_dir: Path, tidy: pd.DataFrame, declared: dict[str, str] | None
) -> list[boards.Board]:
    """The layer's boards, significance from the paired bootstrap where runs share samples."""
    if tidy.empty:
        return []
    return boards.build_boards(tidy, declared, PairedVerdicts(results_dir, tidy))


def _root_forms(results_dir: Path) -> list[str]:
    """The results folder's absolute path as given and as resolved (longest first)."""
    forms = {str(results_dir.absolute()), str(results_dir.resolve())}
    # "/srv" alone is too short to cut everywhere ("/srvc" …); a server path has 2+ parts.
    deep = (f for f in forms if len(Path(f).parts) > 2)
    return sorted(deep, key=len, reverse=True)


def scrubbed_problems(rows: pd.DataFrame, results_dir: Path) -> pd.DataFrame:
    """Unreadable run folders with the results folder's absolute path cut from the reasons."""
    found = data.problems(rows).copy()
    for form in _root_forms(results_dir):
        found["problem"] = found["problem"].astype(str).str.replace(form, "results", regex=False)
    return found


def scrub_root(files: dict[str, bytes], results_dir: Path) -> dict[str, bytes]:
    """A last guard: no written file names the server's results path (e.g. in a card field)."""
    forms = [f.encode("utf-8") for f in _root_forms(results_dir)]
    for name, content in files.items():
        for form in forms:
            content = content.replace(form, b"results")
        files[name] = content
    return files


def site_files(site: Site) -> dict[str, bytes]:
    """Every file of one layer: landing page, task and model pages, board downloads."""
    files = {site.landing: landing_page(site).encode("utf-8")}
    for task in site.tasks():
        files[site.task_path(task)] = task_page(site, task).encode("utf-8")
    for model in site.models():
        files[site.model_path(model)] = model_page(site, model).encode("utf-8")
    for board in site.boards:
        files[site.board_file(board.name, "csv")] = data.to_csv(board.table)
        files[site.board_file(board.name, "json")] = inert_json(data.to_json(board.table))
    if not site.tidy.empty:
        long = data.long_table(site.tidy)
        files[site.all_metrics_file("csv")] = data.to_csv(long)
        files[site.all_metrics_file("json")] = inert_json(data.to_json(long))
    return files


def inert_json(raw: bytes) -> bytes:
    """JSON with <, > and & as \\u escapes: the same strings, but no markup if mis-served."""
    # Outside strings JSON has no <, > or &, so replacing them everywhere is lossless.
    for char, code in ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026")):
        raw = raw.replace(char, code)
    return raw


def prepare_out(out: Path, results_dir: Path) -> set[str]:
    """Check that `out` may be written; create it; return the files of a previous export."""
    if out.is_symlink():
        raise StaticExportError(f"{out} is a symbolic link; export into a real folder")
    if out.exists() and not out.is_dir():
        raise StaticExportError(f"{out} exists and is not a folder")
    target, results = out.resolve(), results_dir.resolve()
    if target == results or target.is_relative_to(results) or results.is_relative_to(target):
        raise StaticExportError(
            f"{out}: export outside the results folder (reading results writes nothing there)"
        )
    if out.exists() and any(out.iterdir()):
        marker = out / MARKER
        if marker.is_symlink() or not marker.is_file():
            raise StaticExportError(
                f"{out} is not empty and holds no previous static export ({MARKER} missing); "
                "choose a new or empty folder"
            )
        return previous_files(marker)
    out.mkdir(parents=True, exist_ok=True)
    return set()


def previous_files(marker: Path) -> set[str]:
    """Files the previous export wrote, as its marker lists them (only slug-like paths)."""
    try:
        listed = json.loads(marker.read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {p for p in listed if isinstance(p, str) and OUR_PATH.fullmatch(p)}


def write_marker(out: Path, files: set[str]) -> None:
    """Mark `out` as ours and list the files in it, for the next export's clean-up."""
    marker = {"generator": GENERATOR, "version": voxeval_version(), "files": sorted(files)}
    write_file(out, MARKER, json.dumps(marker, indent=1).encode("utf-8"))


def write_files(out: Path, files: dict[str, bytes], previous: set[str]) -> None:
    """Write the new export, then remove what only the previous one had."""
    # The marker lists old and new files first, so an interrupted export can be redone.
    write_marker(out, previous | set(files))
    for rel, content in files.items():
        write_file(out, rel, content)
    for rel in sorted(previous - set(files)):
        remove_file(out, rel)
    write_marker(out, set(files))


def _folder(out: Path, parts: list[str]) -> Path:
    """The folder out/parts…, created as needed; a symbolic link on the way is refused."""
    current = out
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise StaticExportError(f"{current} is a symbolic link; refusing to write through it")
        current.mkdir(exist_ok=True)
    return current


def write_file(out: Path, rel: str, content: bytes) -> None:
    """Write one file inside `out` without following a symbolic link planted there."""
    if not OUR_PATH.fullmatch(rel) and rel != MARKER:
        raise StaticExportError(f"refusing to write {rel!r}: not an export path")
    *parents, name = rel.split("/")
    target = _folder(out, parents) / name
    if target.is_symlink():
        target.unlink()  # removes the link only, never what it points to
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def remove_file(out: Path, rel: str) -> None:
    """Remove a stale file of the previous export, then its folders once they are empty."""
    parts = rel.split("/")
    folders = [out.joinpath(*parts[:i]) for i in range(len(parts) - 1, 0, -1)]
    if any(f.is_symlink() for f in folders):
        return  # a planted link: never delete through it
    target = out.joinpath(*parts)
    if target.is_symlink() or target.is_file():
        target.unlink()
    for folder in folders:  # deepest first; stops at the first non-empty one
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        else:
            break
