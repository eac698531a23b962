"""Secrets never reach a result file, a log or the leaderboard: redaction of args and texts.

Three kinds are caught: values under secret-looking keys (`api_key`, `token`…), secrets inside
texts (URL user-info `http://user:pw@host`, key-like query parameters, `sk-…`/`hf_…` keys,
`Bearer …`), and the exact values an adapter registers as secrets while it runs (the API key
it read from the environment), wherever they show up: an error body echoing the key, a reply.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***redacted***"
SECRET_KEY = re.compile(
    r"(api[_-]?key|token|secret|password|passwd|authorization|bearer|credential)", re.I
)
# Shapes of secrets in free text: one fragment each, for redaction here and publish's refusal.
_SK = r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}"
_HF = r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{20,}"
_BEARER_VALUE = r"[A-Za-z0-9._~+/=-]{12,}"
_QUERY_KEY = r"[?&;][A-Za-z0-9_.-]*(?:key|token|secret|passw|signature|sig|auth)[A-Za-z0-9_.-]*="
_QUERY_VALUE = r"[^&#\s'\"]+"
SECRET_PATTERNS = {
    "an OpenAI-style key (sk-…)": re.compile(_SK),
    "a Hugging Face token (hf_…)": re.compile(_HF),
    "a bearer token (Bearer …)": re.compile(rf"Bearer\s+{_BEARER_VALUE}"),
    "a password in a URL (scheme://user:password@host)": re.compile(
        r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s@?#:]*:[^/\s@?#]+@"
    ),
    "a key in a URL query (?key=…)": re.compile(
        rf"{_QUERY_KEY}(?!\*\*\*redacted){_QUERY_VALUE}", re.I
    ),
}
_SECRET_VALUE = re.compile(r"^(sk-|hf_|Bearer\s)", re.I)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@?#]*@")
_QUERY_SECRET = re.compile(rf"(?P<key>{_QUERY_KEY}){_QUERY_VALUE}", re.I)
_TOKENS = re.compile(rf"{_SK}|{_HF}|(?<=Bearer ){_BEARER_VALUE}")
MIN_SECRET_LENGTH = 8  # shorter values ("1", "true") would match everywhere
_known: set[str] = set()


def register_secret(value: str | None) -> None:
    """Treat this exact value (e.g. the API key an adapter read) as a secret from now on."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        _known.add(value.strip())


def known_secrets() -> frozenset[str]:
    """The values registered with `register_secret` in this process."""
    return frozenset(_known)


def scrub(text: str) -> str:
    """`text` with URL credentials, key-like query values, tokens and known secrets masked."""
    if not text:
        return text
    for value in _known:
        if value in text:
            text = text.replace(value, REDACTED)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _QUERY_SECRET.sub(lambda m: f"{m['key']}{REDACTED}", text)
    return _TOKENS.sub(REDACTED, text)


def redact(args: Any) -> Any:
    """A copy of args (dicts and lists, nested) with secret keys and secret texts masked."""
    if isinstance(args, dict):
        return {key: _redact_item(str(key), value) for key, value in args.items()}
    if isinstance(args, list | tuple):
        return [redact(value) for value in args]
    return scrub(args) if isinstance(args, str) else args


def _redact_item(key: str, value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return redact(value)
    # "*_env" arguments name an environment variable; the name is not the secret. A number
    # under a "token" key is a count (max_new_tokens), never a credential.
    secret_key = SECRET_KEY.search(key) and not key.endswith("_env")
    counted = isinstance(value, int | float) or value is None or _token_ids(key, value)
    if (secret_key and not counted) or (isinstance(value, str) and _SECRET_VALUE.match(value)):
        return REDACTED
    return redact(value)


def _token_ids(key: str, value: Any) -> bool:
    """Token ids under a "*_tokens" key (suppress_tokens="-1"): no credential-length word."""
    plural = key.lower().endswith("_tokens")
    return plural and isinstance(value, str) and not _CREDENTIAL_WORD.search(value)


_CREDENTIAL_WORD = re.compile(r"[A-Za-z0-9_+/=.~-]{16,}")  # real credentials are long


def find_secret(text: str, values: dict[str, str]) -> str | None:
    """What secret-looking thing `text` holds (never the secret itself), or None.

    `values` maps a description (e.g. "the value of OPENAI_API_KEY") to an exact secret.
    """
    for what, pattern in SECRET_PATTERNS.items():
        if pattern.search(text):
            return what
    for what, value in values.items():
        if value in text:
            return what
    return None
