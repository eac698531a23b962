"""Where each sample id's latest line starts, in hashed numpy arrays instead of a dict of ids.

A dict of 100k ids costs ~14 MB (the id strings, the dict, the int offsets); these arrays cost
24 bytes per id. Ids are keyed by a 64-bit hash, and a hash never decides alone which line is
an id's: the lines of every hash met more than once are read back and grouped by their real
id (`OffsetBuilder.build`), and a lookup is checked against the id of the line it lands on
(`RecordIndex.records`). So ids that share a hash are told apart exactly; the hash is
Python's own, seeded per process, so that is rare and cannot be aimed at by editing a file.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


def id_hash(sample_id: str) -> int:
    """The 64-bit key of an id (module-level so that tests can force collisions)."""
    return hash(sample_id)


def same_hash(found: str, wanted: str) -> bool:
    """True when `found` is `wanted` or shares its hash (then `wanted` has no line)."""
    return found == wanted or id_hash(found) == id_hash(wanted)


@dataclass
class OffsetTable:
    """Latest-line offsets: by id hash (sorted keys), and in order of each id's first line."""

    keys: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    latest: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    in_order: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    # Ids whose hash another id of the file shares: few, so a plain dict (id → latest offset).
    collided: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.in_order)

    def candidates(self, ids: list[str]) -> list[int | None]:
        """Per id, the offset of the latest line of the id or of one sharing its hash, or None.

        The caller reads the line and checks its id: a different id means this one is absent.
        """
        hashes = np.fromiter((id_hash(i) for i in ids), np.int64, len(ids))
        where = np.minimum(np.searchsorted(self.keys, hashes), max(0, len(self.keys) - 1))
        found = self.keys[where] == hashes if len(self.keys) else np.zeros(len(ids), bool)
        offsets = self.latest[where] if len(self.keys) else where
        return [
            self.collided.get(i, int(offset) if hit else None)
            for i, hit, offset in zip(ids, found.tolist(), offsets.tolist(), strict=True)
        ]


class OffsetBuilder:
    """Collects (id hash, offset) per valid line; `build` turns them into an OffsetTable."""

    def __init__(self) -> None:
        self.hashes = array("q")
        self.offsets = array("q")  # increasing: lines are added in file order

    def add(self, sample_id: str, offset: int) -> None:
        """Note a valid line of `sample_id` starting at byte `offset`."""
        self.hashes.append(id_hash(sample_id))
        self.offsets.append(offset)

    def build(self, read_id: Callable[[int], str]) -> OffsetTable:
        """The table; `read_id(offset)` gives the id of a line whose hash is met twice or more."""
        if not self.hashes:
            return OffsetTable()
        # Few full-length temporaries (8 bytes a line each): glibc keeps the heap pages of
        # freed ones, and a first version that made eight kept 8 MB of RSS at 100k lines.
        hashes, offsets = (
            np.frombuffer(self.hashes, np.int64),
            np.frombuffer(self.offsets, np.int64),
        )
        order = np.argsort(hashes, kind="stable")  # equal hashes keep file order
        keys, lines = hashes[order], offsets[order]
        del order
        if not (keys[1:] == keys[:-1]).any():  # one line per id, no hash shared: the usual file
            return OffsetTable(keys, lines, offsets.copy(), {})
        return _grouped(keys, lines, read_id)


def _grouped(keys: np.ndarray, lines: np.ndarray, read_id: Callable[[int], str]) -> OffsetTable:
    """The table from lines sorted by hash (file order within a hash), some hashes repeated."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    first, latest = lines[starts], lines[ends - 1]
    collided: dict[str, tuple[int, int]] = {}
    keep = np.ones(len(starts), bool)
    for group in np.flatnonzero(ends - starts > 1).tolist():  # duplicates or collisions
        spans = _spans(lines[starts[group] : ends[group]].tolist(), read_id)
        if len(spans) > 1:  # ids that differ share this hash: they are kept by id instead
            collided.update(spans)
            keep[group] = False
    return _table(keys[starts[keep]], first[keep], latest[keep], collided)


def _spans(offsets: list[int], read_id: Callable[[int], str]) -> dict[str, tuple[int, int]]:
    """(first, latest) offset per real id of lines sharing a hash (offsets in file order)."""
    spans: dict[str, tuple[int, int]] = {}
    for offset in offsets:
        sample_id = read_id(offset)
        spans[sample_id] = (spans.get(sample_id, (offset, offset))[0], offset)
    return spans


def _table(
    keys: np.ndarray, first: np.ndarray, latest: np.ndarray, collided: dict[str, tuple[int, int]]
) -> OffsetTable:
    """The OffsetTable; `in_order` sorts every id's latest offset by its first line's offset."""
    firsts = np.concatenate([first, np.array([f for f, _ in collided.values()], np.int64)])
    lasts = np.concatenate([latest, np.array([last for _, last in collided.values()], np.int64)])
    in_order = lasts[np.argsort(firsts)]  # one first line per id: no ties
    by_id = {sample_id: last for sample_id, (_, last) in collided.items()}
    return OffsetTable(keys, latest, in_order, by_id)
