"""BERSt mappings: phone placements → distance/obstruction classes, answers → the 7 affects.

The exact 19 `phone_position` strings were not available offline, so placements are mapped with
keyword rules (documented on each function); a placement the rules cannot place is "unknown".
Model answers (a classifier's label, or free text) map onto AFFECTS, or None when unmappable.
"""

from __future__ import annotations

import re
from typing import Any

AFFECTS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")

# ---------------------------------------------------------------- placements
_INDEX_SUFFIX = re.compile(r"[\s(\[]*\d+\s*/\s*19\s*[)\]]*\s*$")  # the "... 8/19" tail
_DISTANCE = re.compile(r"(\d+(?:\.\d+)?)\s*(cm|m|metres?|meters?|ft|feet|foot|')(?![a-z])")
_TO_METRES = {"cm": 0.01, "ft": 0.3048, "feet": 0.3048, "foot": 0.3048, "'": 0.3048}
OTHER_ROOM = ("other room", "another room", "different room", "next room", "adjacent room",
              "hallway", "outside the room", "behind a door", "behind the door", "door closed",
              "closed door")  # fmt: skip
FAR = ("across the room", "far", "other side of the room", "opposite side", "end of the room")
NEAR = ("hand", "hands", "holding", "held", "mouth", "face", "ear", "pocket", "lap", "chest",
        "arm's length", "arms length", "arm length", "close", "near", "next to", "wearing",
        "worn", "on my back", "on back")  # fmt: skip
MID = ("table", "desk", "shelf", "counter", "floor", "couch", "sofa", "bed", "chair",
       "nightstand", "dresser", "middle of the room", "few steps")  # fmt: skip
BAG = ("bag", "backpack", "purse", "handbag", "suitcase", "tote")
COVERED = ("under", "underneath", "pillow", "blanket", "cushion", "towel", "covered", "cover",
           "covering", "face down", "facedown", "drawer", "box", "jacket", "coat", "sleeve",
           "behind", "muffled", "blocked", "obstructed")  # fmt: skip


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![a-z']){re.escape(w)}(?![a-z])", text) for w in words)


def placement_distance(text: str) -> str:
    """Distance class: other_room > explicit metres/feet > far > near > mid > unknown.

    Explicit distances: near < 1 m ≤ mid < 3 m ≤ far. Body placements (hand, pocket, worn)
    count as near; furniture (table, couch, floor…) without a distance as mid.
    """
    if _mentions(text, OTHER_ROOM):
        return "other_room"
    if match := _DISTANCE.search(text):
        metres = float(match.group(1)) * _TO_METRES.get(match.group(2), 1.0)
        return "near" if metres < 1 else "mid" if metres < 3 else "far"
    body = re.sub(r"face[ -]?(down|up)", "", text)  # a phone's face, not the speaker's
    for name, words in (("far", FAR), ("near", NEAR), ("mid", MID)):
        if _mentions(body, words):
            return name
    return "unknown"


def placement_obstruction(text: str, distance: str) -> str:
    """Obstruction class: wall (other room), pocket, bag, covered, else none (or unknown)."""
    if distance == "other_room":
        return "wall"
    for name, words in (("pocket", ("pocket",)), ("bag", BAG), ("covered", COVERED)):
        if _mentions(text, words):
            return name
    # No obstruction word: unobstructed, if the rules understood the placement at all.
    return "unknown" if distance == "unknown" else "none"


def placement_classes(position: Any) -> tuple[str, str]:
    """(distance, obstruction) classes of a free-text `phone_position`."""
    text = str(position or "").casefold().replace("’", "'").strip()
    text = _INDEX_SUFFIX.sub("", text).strip(" .,-")
    if not text or text in {"n/a", "na", "none", "unknown"}:
        return "unknown", "unknown"
    distance = placement_distance(text)
    return distance, placement_obstruction(text, distance)


# ---------------------------------------------------------------- labels
SYNONYMS = {
    "anger": ("anger", "angry", "angrily", "mad", "furious", "rage", "enraged", "irritated",
              "annoyed"),
    "disgust": ("disgust", "disgusted", "disgusting", "revulsion", "revolted", "repulsed"),
    "fear": ("fear", "fearful", "afraid", "scared", "frightened", "terrified", "panic",
             "panicked"),
    "joy": ("joy", "joyful", "joyous", "happy", "happiness", "glad", "delighted", "cheerful",
            "elated"),
    "neutral": ("neutral", "calm"),
    "sadness": ("sadness", "sad", "unhappy", "sorrow", "sorrowful", "grief", "melancholy",
                "depressed", "gloomy"),
    "surprise": ("surprise", "surprised", "astonished", "astonishment", "amazed", "amazement",
                 "shocked", "startled"),
}  # fmt: skip
WORD_TO_LABEL = {word: label for label, words in SYNONYMS.items() for word in words}
# Short codes some emotion classifiers emit (IEMOCAP/SUPERB style); labels only, never text.
CLASSIFIER_CODES = {"ang": "anger", "dis": "disgust", "fea": "fear", "hap": "joy",
                    "neu": "neutral", "sad": "sadness", "sur": "surprise"}  # fmt: skip
NEGATORS = {"not", "no", "never", "nor", "neither", "without", "isn", "doesn", "wasn", "aren"}


def label_from_classifier(label: Any) -> str | None:
    """A classifier's label, case-folded and mapped through the synonyms; None if unknown."""
    key = str(label).strip().strip(".!:;\"'").casefold()
    return WORD_TO_LABEL.get(key) or CLASSIFIER_CODES.get(key)


def label_from_text(text: Any) -> str | None:
    """The one affect a free-text answer names, else None (unmappable).

    Words are matched whole and case-folded through the synonym map ("angry", "happy",
    "scared", "calm" → neutral…). A mention with a negator among the three words before it
    in the same clause ("not happy") is ignored. Several different labels ("anger or
    fear") make the answer ambiguous, hence unmappable: taking the first would reward
    models that hedge by listing labels.
    """
    found: set[str] = set()
    for clause in re.split(r"[.,;:!?()\[\]\"\n]+", str(text or "").casefold()):
        tokens = re.findall(r"[a-z]+", clause.replace("’", "'"))
        for i, token in enumerate(tokens):
            label = WORD_TO_LABEL.get(token)
            if label and not NEGATORS.intersection(tokens[max(0, i - 3) : i]):
                found.add(label)
    return found.pop() if len(found) == 1 else None


def map_prediction(prediction: dict[str, Any]) -> str | None:
    """A record's label: the classifier's `label` when set, else the parsed `text`."""
    if prediction.get("label") is not None:
        return label_from_classifier(prediction["label"])
    return label_from_text(prediction.get("text"))
