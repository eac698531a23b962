"""EmoNet-Voice Bench: how intensely a voice conveys each of 40 emotions, on a 0–10 scale.

LAION's bench (anonymised hub copy `t1a5anu-anon/emonet-voice-bench`; 12,600 synthetic clips,
36.26 h, en/de/es/fr). `audioId` holds the audio, `label` a Python-literal list of
`{rater: {emotion: intensity}}` with intensity 0 (absent), 1 (mild) or 2 (intense); names may
be URL-encoded. The reference of a (clip, emotion) is the mean over the raters who rated it,
0/1/2 mapped to 0/5/10. Emotions nobody rated for a clip are not scored (the release rates
each clip's target emotion); Arousal/Authenticity/Valence ratings are not among the 40
emotions: left out and counted in the dataset warnings.

  emonet-voice           one sample per clip; the model scores all 40 emotions at once
                         (Response.scores {emotion: 0–10}, or a JSON object in its text)
  emonet-voice-prompted  one sample per rated (clip, emotion), id `<clip>::<emotion>`: one
                         number asked of a generative model, parsed at scoring time
Metrics: spearman, pearson, mae, rmse over (prediction, reference) rows, refusals and
unparseable answers dropped; refusal_rate over all rows; all of them per emotion as well.
Options.aggregate picks pooled rows (default) or the mean of per-emotion values for the
first four; Options.agreement / min_raters pick which rated rows are scored at all (see
emonet_voice_scoring). Both are recorded in dataset.preprocessing, the metric details and
every sample's labels, so `voxeval score` rescoring keeps them.
Published (paper, Table 5): Gemini 2.5 Pro Spearman .417, MAE 3.008; GPT-4o Audio Preview
refusal rate 27.59 %, Spearman .337.

See emonet_voice_data for the label format and the local layouts read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel

from voxeval.hookspecs import hookimpl
from voxeval.task import DatasetInfo, MetricSpec, OfficialData, Task
from voxeval.tasks.emonet_voice_data import (
    EMOTIONS,
    HUB_ID,
    Clip,
    EmoNetOptions,
    LabelError,
    canonical_emotion,
    load,
    parse_label,
    reference_scores,
)
from voxeval.tasks.emonet_voice_scoring import (
    register_emotion_metrics,
    scored_reference,
    select_rows,
)
from voxeval.types import Sample, TaskKind

# Re-exported: the data helpers are part of this module's public names.
__all__ = [
    "EMOTIONS",
    "HUB_ID",
    "REFUSALS",
    "EmoNetOptions",
    "EmoNetVoice",
    "EmoNetVoicePrompted",
    "LabelError",
    "canonical_emotion",
    "is_refusal",
    "parse_intensity",
    "parse_label",
    "parse_scores",
    "reference_scores",
    "register_metrics",
    "register_tasks",
]

# Refusal rules (kept small on purpose; a rule must never match a plain numeric answer).
# They and the number parsing below decide scores: changing them needs a new task version.
REFUSALS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bas an? (?:ai|language model|text[- ]based)",  # "As an AI, I ..."
        r"\b(?:can ?not|can't|unable to|not able to)\b[^.]{0,60}?\b(?:determine|detect|"
        r"identify|assess|rate|judge|analy[sz]e|perceive|hear|listen|process|tell|infer)",
        r"\b(?:don't|do not|doesn't) have (?:the )?(?:ability|access|capabilit)",
        r"\b(?:i must decline|i won't|i will not)\b",
    )
)
_OUT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/|out of)\s*10\b")
_SCALE = re.compile(r"\b0\s*(?:-|–|to)\s*10\b")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NUMBER_WORDS = "zero one two three four five six seven eight nine ten"
_WORDS = {w: i for i, w in enumerate(_NUMBER_WORDS.split())}


def is_refusal(text: str | None) -> bool:
    """An empty answer, or one matching a REFUSALS rule (checked before any number)."""
    text = (text or "").replace("\u2019", "'").strip()
    return not text or any(rule.search(text) for rule in REFUSALS)


def parse_intensity(text: str | None) -> float | None:
    """A 0–10 number from "7", "7/10", "7 out of 10", "Intensity: 7" or (short answers) "seven".

    Scale mentions ("0-10", "0 to 10") are ignored; numbers outside 0–10 give None.
    """
    lowered = (text or "").lower()
    match = _OUT_OF.search(lowered) or _NUMBER.search(_SCALE.sub(" ", lowered))
    value = float(match.group(match.re.groups)) if match else None  # "n/10": group 1
    if value is None and len(lowered.split()) <= 4:  # "seven", not "no one can tell"
        value = next(
            (float(_WORDS[w]) for w in re.findall(r"[a-z]+", lowered) if w in _WORDS), None
        )
    return value if value is not None and 0.0 <= value <= 10.0 else None


def parse_scores(prediction: dict[str, Any]) -> dict[str, float]:
    """{canonical emotion: 0–10} from Response.scores, else from a JSON object / "Name: n" text."""
    raw = prediction.get("scores")
    text = prediction.get("text") or ""
    if not raw and "{" in text:
        try:
            raw = json.loads(text[text.find("{") : text.rfind("}") + 1])
        except ValueError:
            raw = None
    if not raw:
        raw = dict(re.findall(r"([A-Za-z][\w %/&'-]*?)\s*[:=]\s*(-?\d+(?:\.\d+)?)", text))
    out: dict[str, float] = {}
    for name, value in raw.items() if isinstance(raw, dict) else []:
        emotion = canonical_emotion(name)
        number = parse_intensity(str(value)) if not isinstance(value, bool) else None
        if emotion and number is not None:
            out.setdefault(emotion, number)
    return out


def _row(
    record: dict[str, Any], sample_id: str, emotion: str, value: Any, refused: bool, ref: Any
) -> dict:
    """One scored (clip, emotion) row: prediction values.intensity/.refused, labels.intensity,
    and labels.scored (reference, emotion and aggregate mode) for the emotion_* metrics."""
    mode = (record.get("labels") or {}).get("aggregate")
    return {
        "sample_id": sample_id,
        "prediction": {"values": {"intensity": value, "refused": refused}},
        "labels": {"intensity": ref, "scored": scored_reference(ref, emotion, mode)},
        "metadata": {**(record.get("metadata") or {}), "emotion": emotion},
    }


class EmoNetVoice(Task):
    """All 40 emotions per clip at once (classifier/regression heads, JSON-answering models)."""

    name: ClassVar[str] = "emonet-voice"
    version: ClassVar[str] = "1"
    kind: ClassVar[TaskKind] = "emotion_intensity"
    board: ClassVar[str] = "emotion-intensity"
    # The official set is the bench's train split (its only one), but no identity is pinned:
    # the hub copy is read at a moving branch ("main" unless revision= names a commit) and
    # a local copy's hash is not known here. Runs stay unofficial until a maintainer pins
    # the commit sha (or content hash) the board uses.
    official_data: ClassVar[tuple[OfficialData, ...]] = (OfficialData(HUB_ID, "train"),)
    description: ClassVar[str] = "EmoNet-Voice Bench: 40 emotion intensities (0-10) per clip"
    # emotion_* = the base metric pooled or averaged per emotion, as each row's labels say.
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        *(
            MetricSpec(
                f"emotion_{m}", prediction="values.intensity", reference="labels.scored", key=m
            )
            for m in ("spearman", "pearson", "mae", "rmse")
        ),
        # The paper's refusal rate is a share of all samples: pooled in both modes.
        MetricSpec("refusal_rate", prediction="values.refused", reference="labels.intensity"),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("emotion",)
    protocol_doc: ClassVar[str | None] = "docs/protocols.md#emonet-voice"
    prompt: ClassVar[str | None] = (
        "Listen to the speaker. For every emotion in the list below, judge how strongly the "
        "voice conveys it, from 0 (absent) to 10 (extremely strong). Reply with a single JSON "
        "object whose keys are the emotion names exactly as written and whose values are "
        "numbers, and nothing else.\nEmotions: " + "; ".join(EMOTIONS)
    )
    Options: ClassVar[type[BaseModel]] = EmoNetOptions
    options: EmoNetOptions

    def adapter_context(self) -> dict[str, Any]:
        """The 40 emotion names, in the bench's order."""
        return {"labels": list(EMOTIONS)}

    def dataset(self) -> DatasetInfo:
        """Hub id + revision, or a hash over the label table and audio names and sizes."""
        return self._data[1]

    def samples(self) -> Iterator[Sample]:
        """One sample per clip; labels.intensity is {emotion: 0–10 reference}."""
        for clip in self._data[0]:
            yield Sample(
                id=clip.id,
                audio=clip.audio,
                labels={"intensity": reference_scores(clip.ratings), **self._mode},
                metadata=clip.metadata,
            )

    @classmethod
    def scoring_rows(cls, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One row per rated emotion of each clip; rows depend on the labels only."""
        rows = []
        for record in records:
            prediction = record.get("prediction") or {}
            scores = parse_scores(prediction)
            refused = not scores and is_refusal(prediction.get("text"))
            for emotion, ref in ((record.get("labels") or {}).get("intensity") or {}).items():
                sample_id = f"{record['sample_id']}::{emotion}"
                rows.append(_row(record, sample_id, emotion, scores.get(emotion), refused, ref))
        return rows

    @cached_property
    def _data(self) -> tuple[list[Clip], DatasetInfo]:
        """Clips with only the rows the agreement filter keeps; the protocol in preprocessing."""
        return select_rows(*load(self.data_dir, self.options), self.options)

    @property
    def _mode(self) -> dict[str, str]:
        """The aggregate mode, carried in every sample's labels for scoring and rescoring."""
        return {"aggregate": self.options.aggregate}


class EmoNetVoicePrompted(EmoNetVoice):
    """One question per rated (clip, emotion) for generative models; answers parsed at scoring."""

    name: ClassVar[str] = "emonet-voice-prompted"
    board: ClassVar[str] = "emotion-intensity-prompted"
    description: ClassVar[str] = "EmoNet-Voice Bench, one 0-10 question per clip and emotion"
    prompt: ClassVar[str | None] = (
        "Listen to the speaker and rate how strongly their voice conveys the emotion named "
        "below, from 0 (not at all) to 10 (extremely strong). Answer with one number from 0 to 10."
    )

    def samples(self) -> Iterator[Sample]:
        """`<clip>::<emotion>` samples; the emotion is the sample's text after the prompt."""
        for clip in self._data[0]:
            for emotion, ref in reference_scores(clip.ratings).items():
                yield Sample(
                    id=f"{clip.id}::{emotion}",
                    audio=clip.audio,
                    text=f"Emotion: {emotion}",
                    labels={"intensity": ref, "emotion": emotion, **self._mode},
                    metadata={**clip.metadata, "clip": clip.id},
                )

    @classmethod
    def scoring_rows(cls, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Parse each answer to a number; refusals get value None and refused=True."""
        rows = []
        for record in records:
            prediction, labels = record.get("prediction") or {}, record.get("labels") or {}
            emotion, text = labels.get("emotion"), prediction.get("text")
            value = parse_scores({"scores": prediction.get("scores")}).get(emotion)
            refused = value is None and is_refusal(text)
            if value is None and not refused:
                value = parse_intensity(text)
            ref = labels.get("intensity")
            rows.append(_row(record, record["sample_id"], emotion, value, refused, ref))
        return rows


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register emonet-voice and emonet-voice-prompted."""
    register(EmoNetVoice)
    register(EmoNetVoicePrompted)


@hookimpl
def register_metrics(register: Callable[..., None]) -> None:
    """Register emotion_spearman, emotion_pearson, emotion_mae and emotion_rmse."""
    register_emotion_metrics(register)
