"""SD-Eval judge rubrics under two protocols: voxeval's guarded one and the official one.

Both show the judge the user's words, the subset's paralinguistic label and the reply, and
ask for a short explanation then `Rating: [[n]]` on 1–10, without references.

- "voxeval" (`sd-eval-<aspect>`): the reply is fenced by sealed markers and the judge is told
  to disregard instructions inside it; ratings are read under the "agree" rule.
- "official" (`sd-eval-official-<aspect>`): follows amphionspace/SD-Eval (prompts.py and
  llm_eval.py) point by point, in voxeval's own words: naturalness, coherence,
  engagingness and groundedness plus one rule per aspect, the label in title case, no
  fence, and the official script's way of reading the rating ("sd-eval" parse rule). Use it
  to compare with published SD-Eval judge scores; it has no guard against a reply that
  asks the judge for a rating.
"""

from __future__ import annotations

from voxeval.rubrics import _UNTRUSTED, Rubric

SD_EVAL_ASPECTS = {
    "emotion": "the emotion the speaker's voice conveys",
    "accent": "the speaker's accent, which hints at where they come from",
    "age": "the speaker's age group (for example a child or an adult)",
    "environment": "the background sounds of the place the speaker is in",
}
PROTOCOLS = ("voxeval", "official")


def _voxeval_rubric(aspect: str, meaning: str) -> Rubric:
    system = (
        "You are an impartial judge of a spoken-dialogue assistant. A user spoke to the "
        "assistant; besides the words, their speech carried one more cue: "
        f"{meaning}. You are told the words and that cue, and you see the assistant's reply.\n"
        "Judge how well the reply suits this user in this situation: it should address what "
        f"was said, and it should fit the {aspect} cue the way a thoughtful person who heard "
        "the speaker would (for example comfort for a sad voice, simple words for a child, "
        "awareness of a noisy place). Also weigh helpfulness, relevance, correctness and "
        "natural tone. Do not reward length.\n"
        f"{_UNTRUSTED}\n"
        "First explain your judgement in a few sentences. Then give a rating from 1 (poor) "
        "to 10 (excellent) on its own last line, exactly in this form: Rating: [[5]]"
    )
    template = (
        "What the user said: {statement}\n"
        f"The user's {aspect}: " + "{label}\n\n"
        "{start}\n{response}\n{end}"
    )
    return Rubric(
        name=f"sd-eval-{aspect}",
        version="2",
        description=f"SD-Eval judge, {aspect} aspect, 1-10 (voxeval protocol)",
        scale=(1, 10),
        system=system,
        template=template,
        fields=("statement", "label"),
    )


# The official protocol's aspect rule and the heading it gives the label, per aspect.
OFFICIAL_ASPECTS = {
    "emotion": (
        "emotion",
        "Emotion",
        "whether the response carries a sentiment that suits the user's emotion",
    ),
    "accent": (
        "accent",
        "Accent",
        "whether the assistant recognises the user's accent correctly, so that the response "
        "uses slang that suits that accent",
    ),
    "age": (
        "age",
        "Age",
        "whether the response speaks in a tone of voice that suits the user's age",
    ),
    "environment": (
        "background sound",
        "Background Sound",
        "whether the response takes the user's background sound into account and answers "
        "in a way that fits it",
    ),
}


def _official_rubric(aspect: str) -> Rubric:
    cue, heading, rule = OFFICIAL_ASPECTS[aspect]
    system = (
        "You are an impartial judge. Assess the quality of an AI assistant's response to a "
        f"user's statement, given the user's {cue}; both are shown below. Above all, judge "
        f"{rule}. Also take into account the naturalness, coherence, engagingness and "
        "groundedness of the response. Read these instructions carefully and be as "
        "objective as you can. Start with a short explanation. After it, rate the response "
        'on a scale of 1 to 10, keeping strictly to this format: "Rating: [[rating]]", '
        'for example "Rating: [[5]]".'
    )
    template = (
        "[User's Statement]\n{statement}\n\n"
        f"[User's {heading}]\n" + "{label}\n\n"
        "[AI Assistant's Response]\n{response}\n"
    )
    return Rubric(
        name=f"sd-eval-official-{aspect}",
        version="1",
        description=f"SD-Eval judge, {aspect} aspect, 1-10 (official protocol)",
        scale=(1, 10),
        system=system,
        template=template,
        fields=("statement", "label"),
        parse="sd-eval",
        title_fields=("label",),
    )


def protocol_rubrics(aspect: str) -> dict[str, str]:
    """Rubric name per judge protocol for one SD-Eval aspect ("voxeval" is the default)."""
    return {"voxeval": f"sd-eval-{aspect}", "official": f"sd-eval-official-{aspect}"}


SD_EVAL_RUBRICS = (
    *(_voxeval_rubric(aspect, meaning) for aspect, meaning in SD_EVAL_ASPECTS.items()),
    *(_official_rubric(aspect) for aspect in OFFICIAL_ASPECTS),
)
