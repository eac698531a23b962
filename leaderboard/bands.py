"""Which differences on the board are significant: rank bands and the ★ of a column.

A verdict compares two models on one task: +1 when the first is significantly better, -1
when the second is, 0 when the difference is not significant, None when the test cannot
be made. Paired verdicts (voxeval's paired bootstrap on the samples both runs scored) are
used where they exist; otherwise two 95% confidence intervals that do not overlap count as
a significant difference. Missing intervals never make a difference significant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

Verdict = Callable[[str, str, str], "int | None"]  # (task, model_a, model_b) → +1/0/-1/None

BAND_RULE = (
    "Ranks come in bands: going down the order, a model joins the band above when the band's "
    "first model is not significantly better than it, and starts a new band otherwise. On a "
    "board of several tasks, significantly better means better on at least one task and worse "
    "on none (paired bootstrap on the samples both models scored, 95%; where the two runs "
    "share no samples, 95% confidence intervals that do not overlap). Models in one band "
    "share its rank range, e.g. 2–4. ★ marks a column's best only when it is significantly "
    "better than every other model in that column."
)


@dataclass(frozen=True)
class Cell:
    """One model's primary value on one task, with its 95% interval."""

    value: float
    ci_low: float | None
    ci_high: float | None
    higher_is_better: bool


def overlap_verdict(a: Cell, b: Cell) -> int | None:
    """+1/-1 when the two 95% intervals are disjoint, 0 when they overlap, None without CIs."""
    if any(pd.isna(x) for x in (a.ci_low, a.ci_high, b.ci_low, b.ci_high)):
        return None
    if a.ci_low > b.ci_high:
        return 1 if a.higher_is_better else -1
    if b.ci_low > a.ci_high:
        return -1 if a.higher_is_better else 1
    return 0


class Judge:
    """Significance between two models on a task: paired where possible, else CI overlap."""

    def __init__(self, cells: dict[tuple[str, str], Cell], paired: Verdict | None = None):
        self.cells = cells
        self.paired = paired

    def task(self, task: str, a: str, b: str) -> int:
        """+1 if `a` is significantly better on `task`, -1 if worse, 0 otherwise."""
        if self.paired is not None:
            found = self.paired(task, a, b)
            if found is not None:
                return found
        return overlap_verdict(self.cells[(a, task)], self.cells[(b, task)]) or 0

    def board(self, tasks: Sequence[str], a: str, b: str) -> bool:
        """True when `a` is significantly better than `b` on some task and worse on none."""
        verdicts = [self.task(t, a, b) for t in tasks]
        return 1 in verdicts and -1 not in verdicts


def rank_bands(order: Sequence[str], tasks: Sequence[str], judge: Judge) -> list[str]:
    """Rank text per model in `order` ("1", "2–4"), bands chained from each band's leader."""
    band_of: list[int] = []
    leader = 0
    for i, model in enumerate(order):
        if i and judge.board(tasks, order[leader], model):
            leader = i
        band_of.append(leader)
    last = {leader: i for i, leader in enumerate(band_of)}  # each band's last position
    return [
        str(first + 1) if first == last[first] else f"{first + 1}–{last[first] + 1}"
        for first in band_of
    ]


def significant_best(
    values: pd.Series, task: str, judge: Judge, higher_is_better: bool
) -> str | None:
    """The model with the column's best value when it beats every other one significantly."""
    present = values.dropna()
    if len(present) < 2:
        return None
    best = present.idxmax() if higher_is_better else present.idxmin()
    others = [m for m in present.index if m != best]
    return best if all(judge.task(task, best, m) == 1 for m in others) else None
