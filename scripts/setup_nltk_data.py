#!/usr/bin/env python3
"""Build nltk's WordNet corpus (for METEOR) offline from Debian's WordNet 3.0 packages.

nltk's downloader needs the network; Debian's `wordnet-base` and `wordnet-sense-index` ship the
same WordNet 3.0 database under /usr/share/wordnet. This script copies those files (copies, not
symlinks, so the folder survives the packages being removed and can be carried to another machine)
into `<nltk data>/corpora/wordnet/` and writes the `lexnames` file that Debian does not ship,
generated from the table in the lexnames(5WN) man page. It is idempotent: files already up to date
are left alone. The default destination is `<repo>/.cache/nltk_data`, or the first folder of
$VOXEVAL_NLTK_DATA when that is set (the folders `voxeval.metrics.text` looks in).
Standard library only, so it also runs before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV_VAR = "VOXEVAL_NLTK_DATA"
DEBIAN_PACKAGES = ("wordnet-base", "wordnet-sense-index")
SOURCE = Path("/usr/share/wordnet")
LEXNAMES_MAN = Path("/usr/share/man/man5/lexnames.5WN.gz")
# The files nltk's WordNetCorpusReader opens, besides `lexnames` (generated here).
WORDNET_FILES = (
    "cntlist.rev",
    "index.sense",
    "index.adj",
    "index.adv",
    "index.noun",
    "index.verb",
    "data.adj",
    "data.adv",
    "data.noun",
    "data.verb",
    "adj.exc",
    "adv.exc",
    "noun.exc",
    "verb.exc",
)
# Syntactic category numbers of the lexnames file, by the prefix of the lexicographer file name.
CATEGORIES = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
EXPECTED_LEXNAMES = 45


class SetupError(Exception):
    """A missing or unreadable source file, with what to install."""


def default_nltk_data() -> Path:
    """The nltk data folder to fill: first of $VOXEVAL_NLTK_DATA, else <repo>/.cache/nltk_data."""
    configured = [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return Path(configured[0]) if configured else REPO / ".cache" / "nltk_data"


def _missing_packages_message(what: str) -> str:
    packages = " ".join(DEBIAN_PACKAGES)
    return (
        f"{what}. Install the Debian packages {packages} "
        f"(`sudo apt-get install -y {packages}`, or run scripts/setup.sh), then rerun "
        "`python scripts/setup_nltk_data.py`."
    )


def lexnames_table(man_page: Path = LEXNAMES_MAN) -> str:
    """The `lexnames` file ("NN<TAB>name<TAB>category" lines) parsed from the man page's table."""
    try:
        with gzip.open(man_page, "rt", encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as exc:
        raise SetupError(_missing_packages_message(f"Cannot read {man_page} ({exc})")) from None
    rows = re.findall(r"^(\d{2})\t([a-z]+\.[A-Za-z]+)\s", text, flags=re.MULTILINE)
    lines = []
    for expected, (number, name) in enumerate(rows):
        category = CATEGORIES.get(name.split(".")[0])
        if int(number) != expected or category is None:
            raise SetupError(f"Unexpected lexnames table row {number} {name!r} in {man_page}")
        lines.append(f"{number}\t{name}\t{category}\n")
    if len(lines) != EXPECTED_LEXNAMES:
        raise SetupError(
            f"Found {len(lines)} lexicographer files in {man_page}, expected {EXPECTED_LEXNAMES}"
        )
    return "".join(lines)


def _up_to_date(source: Path, target: Path) -> bool:
    if not target.is_file() or target.is_symlink():
        return False
    src, dst = source.stat(), target.stat()
    return src.st_size == dst.st_size and int(src.st_mtime) == int(dst.st_mtime)


def _atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename (safe with parallel runs)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def setup_wordnet(
    nltk_data: Path | None = None, source: Path = SOURCE, man_page: Path = LEXNAMES_MAN
) -> Path:
    """Make `<nltk_data>/corpora/wordnet/` from Debian's files; return that folder."""
    nltk_data = nltk_data or default_nltk_data()
    missing = [name for name in WORDNET_FILES if not (source / name).is_file()]
    if missing:
        raise SetupError(
            _missing_packages_message(f"WordNet files {', '.join(missing)} are missing in {source}")
        )
    lexnames = lexnames_table(man_page)
    target = nltk_data / "corpora" / "wordnet"
    target.mkdir(parents=True, exist_ok=True)
    for name in WORDNET_FILES:
        src, dst = source / name, target / name
        if not _up_to_date(src, dst):
            _atomic_write(dst, lambda tmp, src=src: shutil.copy2(src, tmp))  # follows symlinks
    lex = target / "lexnames"
    if not lex.is_file() or lex.read_text(encoding="utf-8") != lexnames:
        _atomic_write(
            lex, lambda tmp: (tmp.write_text(lexnames, encoding="utf-8"), tmp.chmod(0o644))
        )
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: build the WordNet folder, print where it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--nltk-data",
        type=Path,
        default=None,
        help=f"nltk data folder (default: first of ${ENV_VAR}, else <repo>/.cache/nltk_data)",
    )
    parser.add_argument("--source", type=Path, default=SOURCE, help="Debian's WordNet folder")
    args = parser.parse_args(argv)
    try:
        target = setup_wordnet(args.nltk_data, args.source)
    except SetupError as exc:
        print(f"setup_nltk_data: error: {exc}", file=sys.stderr)
        return 1
    print(f"setup_nltk_data: WordNet ready in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
