"""One Jinja chat template for every tiny audio-LLM family, filled in with the family's layout.

A family differs only in its markers: what opens a turn of each role, what closes it, what an
audio part becomes (the placeholder its processor expands), what asks for the answer, and a
few habits (a default system turn, the system text folded into the first user turn, a leading
bos). `chat_template` writes those facts as Jinja variables in front of the shared body.
"""

from __future__ import annotations

import json

# ChatML, the turn markers of the Qwen families and of Audio Flamingo 3's Qwen2 decoder.
CHATML_TURNS = {role: f"<|im_start|>{role}\n" for role in ("system", "user", "assistant")}

# Every tag strips the whitespace around it, so the layout here adds nothing to the output.
_BODY = """
{%- set ns = namespace(audios=0, text='', prefix='') -%}
{{- bos -}}
{%- if default_system and messages[0].role != 'system' -%}
    {{- turn_start.system ~ default_system ~ turn_end -}}
{%- endif -%}
{%- for message in messages -%}
    {%- if message.content is string -%}
        {%- set parts = [{'type': 'text', 'text': message.content}] -%}
    {%- else -%}
        {%- set parts = message.content -%}
    {%- endif -%}
    {%- set ns.text = '' -%}
    {%- for part in parts -%}
        {%- if part.type == 'text' -%}
            {%- set ns.text = ns.text ~ part.text -%}
        {%- elif part.type == 'audio' -%}
            {%- set ns.audios = ns.audios + 1 -%}
            {%- set ns.text = ns.text ~ audio | replace('{n}', ns.audios | string) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if message.role == 'system' and fold_system -%}
        {%- set ns.prefix = ns.text ~ '\\n\\n' -%}
    {%- else -%}
        {{- turn_start[message.role] ~ ns.prefix ~ ns.text ~ turn_end -}}
        {%- set ns.prefix = '' -%}
    {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- generation_prompt -}}
{%- endif -%}
"""


def chat_template(
    *,
    turn_start: dict[str, str],
    turn_end: str,
    audio: str,
    generation_prompt: str,
    default_system: str | None = None,
    system_into_first_user: bool = False,
    bos: str = "",
) -> str:
    """A Jinja chat template for one family's turn layout.

    turn_start: role -> the text that opens its turn, e.g. {"user": "<|im_start|>user\\n"}.
    turn_end: the text after each turn's content.
    audio: what each audio part renders as; "{n}" in it becomes the clip's number (1, 2, ...).
    generation_prompt: appended when `add_generation_prompt` is true.
    default_system: a system turn put first when the conversation has none.
    system_into_first_user: the system text plus a blank line opens the next turn's content
        instead of being a turn of its own.
    bos: text the whole prompt starts with.

    Content is a string or a list of {"type": "text", "text": ...} and {"type": "audio", ...}
    parts, rendered in order; other keys of a part (the audio itself) are never printed.
    """
    facts = {
        "turn_start": turn_start,
        "turn_end": turn_end,
        "audio": audio,
        "generation_prompt": generation_prompt,
        "default_system": default_system or "",
        "fold_system": system_into_first_user,
        "bos": bos,
    }
    # JSON strings, objects and true/false are Jinja literals too.
    header = "".join(f"{{%- set {name} = {json.dumps(v)} -%}}\n" for name, v in facts.items())
    return header + _BODY.strip() + "\n"


def chatml_template(audio: str, default_system: str | None = None) -> str:
    """A ChatML chat template (Qwen families, Audio Flamingo 3) with the given clip markers."""
    return chat_template(
        turn_start=CHATML_TURNS,
        turn_end="<|im_end|>\n",
        audio=audio,
        generation_prompt="<|im_start|>assistant\n",
        default_system=default_system,
    )
