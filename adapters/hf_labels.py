"""Mapping a model's label names onto a task's, and reading labels/scores out of chat answers.

Model labels map to task labels, first rule that applies:
  1. the user's `label_map` ("model_label:task_label;..."; an empty target drops the label),
  2. case-insensitive exact match,
  3. the synonym table below (e.g. "ang" → "anger", "hap" → "joy" when the task says "joy").
Model labels that map to nothing are reported; a mapping where nothing maps is an error.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from voxeval.errors import VoxevalError

# Common speech-emotion label spellings (IEMOCAP, RAVDESS, CREMA-D, MSP, ESD, BERSt...).
SYNONYM_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(group)
    for group in (
        {"anger", "angry", "ang", "mad"},
        {"happiness", "happy", "hap", "joy", "joyful", "happiness/joy"},
        {"sadness", "sad"},
        {"neutral", "neu", "neutrality"},
        {"fear", "fearful", "fea", "afraid", "scared"},
        {"disgust", "disgusted", "dis"},
        {"surprise", "surprised", "sur", "astonishment"},
        {"calm", "cal", "calmness"},
        {"contempt", "contemptuous", "con"},
        {"excitement", "excited", "exc"},
        {"frustration", "frustrated", "fru"},
    )
)
SYNONYMS: dict[str, frozenset[str]] = {name: g for g in SYNONYM_GROUPS for name in g}


def _norm(label: str) -> str:
    return label.strip().lower()


def parse_label_map(spec: str | dict[str, str] | None) -> dict[str, str]:
    """ "a:b;c:d" (or a dict) → {"a": "b", "c": "d"}; malformed pieces are an error."""
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {str(k).strip(): str(v).strip() for k, v in spec.items()}
    out: dict[str, str] = {}
    for piece in filter(None, (p.strip() for p in spec.split(";"))):
        source, sep, target = piece.partition(":")
        if not sep or not source.strip():
            raise VoxevalError(
                f"Bad label_map piece {piece!r}: write model_label:task_label;other:task_label "
                "(an empty task_label drops the model label)."
            )
        out[source.strip()] = target.strip()
    return out


@dataclass
class LabelMapping:
    """How a model's labels land on a task's labels."""

    task_labels: list[str]
    targets: dict[str, str] = field(default_factory=dict)  # model label → task label
    how: dict[str, str] = field(default_factory=dict)  # model label → rule that mapped it
    unmapped: list[str] = field(default_factory=list)  # model labels that map to nothing
    dropped: list[str] = field(default_factory=list)  # dropped on purpose by label_map

    @property
    def reachable(self) -> list[str]:
        """Task labels some model label maps to, in task order."""
        hit = set(self.targets.values())
        return [t for t in self.task_labels if t in hit]

    def report(self) -> dict[str, Any]:
        """A JSON-ready summary for model_info."""
        return {
            "map": dict(self.targets),
            "rule": dict(self.how),
            "unmapped_model_labels": list(self.unmapped),
            "dropped_model_labels": list(self.dropped),
            "unreachable_task_labels": [t for t in self.task_labels if t not in self.reachable],
        }


def map_labels(
    model_labels: list[str], task_labels: list[str] | None, user_map: dict[str, str]
) -> LabelMapping:
    """Map model labels onto task labels (identity when the task gives none)."""
    by_name = {_norm(m): m for m in model_labels}
    unknown = [k for k in user_map if _norm(k) not in by_name]
    if unknown:
        raise VoxevalError(
            f"label_map names {', '.join(map(repr, unknown))}, which the model does not have. "
            f"Model labels: {', '.join(model_labels)}."
        )
    user = {by_name[_norm(k)]: v for k, v in user_map.items()}
    if not task_labels:
        found = LabelMapping(task_labels=[])
        for m in model_labels:
            target = user.get(m, m)
            if target:
                found.targets[m] = target
                found.how[m] = "label_map" if m in user else "model"
            else:
                found.dropped.append(m)
        found.task_labels = list(dict.fromkeys(found.targets.values()))
        return found
    task_by_name = {_norm(t): t for t in task_labels}
    found = LabelMapping(task_labels=list(task_labels))
    for m in model_labels:
        if m in user:
            target = user[m]
            if not target:
                found.dropped.append(m)
                continue
            if _norm(target) not in task_by_name:
                raise VoxevalError(
                    f"label_map maps {m!r} to {target!r}, which is not a label of the task. "
                    f"Task labels: {', '.join(task_labels)}."
                )
            found.targets[m], found.how[m] = task_by_name[_norm(target)], "label_map"
        elif _norm(m) in task_by_name:
            found.targets[m], found.how[m] = task_by_name[_norm(m)], "exact"
        else:
            group = SYNONYMS.get(_norm(m), frozenset())
            candidates = [t for t in task_labels if _norm(t) in group]
            if len(candidates) == 1:
                found.targets[m], found.how[m] = candidates[0], "synonym"
            else:
                found.unmapped.append(m)
    if not found.targets:
        raise VoxevalError(
            f"None of the model's labels ({', '.join(model_labels)}) maps onto the task's "
            f"labels ({', '.join(task_labels)}), by name or by the built-in synonyms. Pass "
            "label_map='model_label:task_label;...' in --model-args."
        )
    return found


def find_label(answer: str, labels: list[str] | None) -> str | None:
    """The task label a free-text answer names (earliest mention; synonyms count)."""
    text = answer.strip()
    if not labels:
        first = re.sub(r"[^\w\s/-]", "", text.splitlines()[0] if text else "").strip()
        return first.lower() or None
    best: tuple[int, int, str] | None = None
    for label in labels:
        names = {label, *SYNONYMS.get(_norm(label), ())}
        for name in names:
            match = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE)
            if match and (best is None or (match.start(), -len(name)) < best[:2]):
                best = (match.start(), -len(name), label)
    return best[2] if best else None


def parse_scores(answer: str, names: list[str] | None) -> dict[str, float] | None:
    """{name: number} from a JSON object or "name: number" lines; names kept as the task's."""
    found: dict[str, float] = {}
    start, end = answer.find("{"), answer.rfind("}")
    if 0 <= start < end:
        try:
            obj = json.loads(answer[start : end + 1])
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            for key, value in obj.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    found[str(key)] = float(value)
    if not found:
        number = r"(-?\d+(?:\.\d+)?)"
        for match in re.finditer(rf"([A-Za-z][\w %/&'-]*?)\s*[:=]\s*{number}", answer):
            found[match.group(1).strip()] = float(match.group(2))
    found = {k: v for k, v in found.items() if math.isfinite(v)}
    if names:
        by_name = {_norm(urllib.parse.unquote(n)): n for n in names}
        found = {by_name[_norm(k)]: v for k, v in found.items() if _norm(k) in by_name}
    return found or None
