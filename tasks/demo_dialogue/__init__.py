"""demo-dialogue: 12 bundled spoken prompts to reply to, offline (demo data, not a benchmark).

Each prompt carries the emotion its words express and three reference replies written for
voxeval. Replies are scored with BLEU, ROUGE-L and METEOR against the references and, with
`--judge`, by an LLM judge on SD-Eval's emotion rubric (the user's words + the emotion +
the reply). It runs offline with the `echo` baseline and the `cascade` adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from voxeval.hookspecs import hookimpl
from voxeval.task import MetricSpec
from voxeval.tasks.bundled import BundledDemoTask
from voxeval.types import Sample, TaskKind

PROMPT = (
    "Someone is talking to you, a voice assistant. Reply to them directly in one or two "
    "natural sentences, as a considerate person would, taking in how they feel as well as "
    "what they say. Give only your reply."
)


class DemoDialogue(BundledDemoTask):
    """Reply to short spoken prompts; a smoke test of the dialogue and judge path."""

    name: ClassVar[str] = "demo-dialogue"
    version: ClassVar[str] = "1"
    kind: ClassVar[TaskKind] = "dialogue"
    board: ClassVar[str] = "spoken-dialogue"
    description: ClassVar[str] = "DEMO: reply to 12 spoken English prompts (3 references each)"
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        MetricSpec("bleu", reference="references"),
        MetricSpec("rouge_l", reference="references"),
        MetricSpec("meteor", reference="references"),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("emotion", "tts")
    protocol_doc: ClassVar[str | None] = "docs/protocols.md#sd-eval"
    prompt: ClassVar[str | None] = PROMPT
    judge_rubric: ClassVar[str | None] = "sd-eval-emotion"
    judge_protocols: ClassVar[dict[str, str]] = {"official": "sd-eval-official-emotion"}

    @classmethod
    def judge_prompt_key(cls) -> str:
        """SD-Eval's emotion subset: the demo is judged as its prompts judge test-emo."""
        return "test-emo"

    package: ClassVar[str] = __name__
    dataset_id: ClassVar[str] = "voxeval/demo-dialogue"
    required_keys: ClassVar[tuple[str, ...]] = ("id", "audio", "text", "emotion", "references")

    def samples(self) -> Iterator[Sample]:
        """One sample per manifest line; the transcript is there for text baselines."""
        root = self.root()
        for entry in self.entries(root):
            yield Sample(
                id=str(entry["id"]),
                audio=root / entry["audio"],
                transcript=entry["text"],
                references=tuple(entry["references"]),
                labels={"emotion": entry["emotion"]},
                metadata={
                    "emotion": entry["emotion"],
                    "tts": entry.get("tts", "unknown"),
                    "transcript": entry["text"],  # for the judge, which quotes the user
                },
            )

    @classmethod
    def judge_item(cls, record: dict[str, Any]) -> dict[str, Any]:
        """statement = what was said, label = its emotion, response = the reply."""
        meta = record.get("metadata") or {}
        return {
            "statement": meta.get("transcript") or "",
            "label": meta.get("emotion") or "",
            "response": (record.get("prediction") or {}).get("text") or "",
        }


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register demo-dialogue."""
    register(DemoDialogue)
