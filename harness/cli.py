"""The `voxeval` command line: a thin layer over the library (heavy imports stay inside)."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

from voxeval import __version__
from voxeval.errors import VoxevalError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_TOO_MANY_SAMPLE_ERRORS = 0, 1, 2, 3


_KEY = re.compile(r"[\w.\-]+")


def parse_kv(text: str, flag: str) -> dict[str, str]:
    """Parse "k=v,k=v" into a dict; a bad or repeated piece is an error naming the flag.

    A value may hold commas: a piece without "k=" continues the previous value
    ("system_prompt=Be kind, brief"), and k="a, b=c" keeps everything between the quotes.
    """
    out: dict[str, str] = {}
    last: str | None = None
    for piece in filter(str.strip, _pieces(text, flag)):
        key, sep, value = piece.partition("=")
        if sep and _KEY.fullmatch(key.strip()):
            key = key.strip()
            if key in out:
                raise VoxevalError(f"Bad {flag}: {key!r} is given twice.")
            out[key], last = value, key
        elif last is not None and not out[last].strip().startswith('"'):
            out[last] += "," + piece
        else:
            raise VoxevalError(f"Bad {flag} piece {piece.strip()!r}: write key=value,key=value.")
    return {key: _unquoted(value) for key, value in out.items()}


def _pieces(text: str, flag: str) -> list[str]:
    """Split on the commas outside double quotes."""
    pieces, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            pieces.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise VoxevalError(f'Bad {flag}: a double quote (") is not closed.')
    return [*pieces, current]


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def count_arg(low: int = 1, high: int = 10**9) -> Callable[[str], int]:
    """argparse type: a whole number in [low, high] (so "1e23" or "0" get a clear message)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, got {text!r}"
            )
        return value

    return parse


def fraction_arg(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with sub-commands from built-ins and plugins."""
    parser = argparse.ArgumentParser(
        prog="voxeval", description="Evaluate speech and audio models on benchmarks."
    )
    parser.add_argument("--version", action="version", version=f"voxeval {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from voxeval import commands

    commands.add_builtin_commands(sub)
    from voxeval.plugins import get_plugin_manager

    get_plugin_manager().hook.register_commands(subparsers=sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `voxeval` script; returns the exit code."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return EXIT_USAGE
        return handler(args)
    except VoxevalError as exc:
        from voxeval.secrets import scrub

        print(f"voxeval: error: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `voxeval show … | head`: the reader left, nothing is wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(
            "voxeval: interrupted; finished samples are saved, run again to resume.",
            file=sys.stderr,
        )
        return 130


def say(text: str) -> None:
    """Tell the person at the terminal (stderr, so stdout stays the command's output)."""
    print(text, file=sys.stderr, flush=True)


def path_arg(text: str) -> Path:
    """argparse type for paths (expands ~)."""
    return Path(text).expanduser()


if __name__ == "__main__":
    sys.exit(main())
