"""Fail fast when a Hugging Face hub id cannot be fetched: offline mode, or no route to the hub.

huggingface_hub retries a failed connection for about 25 s before it gives up, once per file.
Callers check here first. An id in the local cache passes (the libraries then read the
cache; if the hub is unreachable, the process is switched to offline mode so they do not
retry for the optional files the cache lacks). An id not in the cache raises at once, with
what to do instead, when a 1.5 s connection test to the hub endpoint fails (done once per
process) or, for a model, in offline mode (HF_HUB_OFFLINE and friends); offline, a dataset
is left to `datasets`, which fails fast by itself. Imports: the standard library only.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from pathlib import Path
from typing import Literal

from voxeval.errors import VoxevalError

HubKind = Literal["model", "dataset"]
DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 1.5
_TRUE = {"1", "ON", "YES", "TRUE"}


def _is_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in _TRUE


def offline_variable(kind: HubKind = "model") -> str | None:
    """The environment variable that puts `kind` loads in offline mode, or None."""
    if kind == "dataset" and os.environ.get("HF_DATASETS_OFFLINE") is not None:
        # datasets lets its own variable override the hub's, in both directions
        return "HF_DATASETS_OFFLINE" if _is_true("HF_DATASETS_OFFLINE") else None
    return next((v for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") if _is_true(v)), None)


def hub_cache_dir() -> Path:
    """The huggingface_hub cache folder, found from the variables huggingface_hub reads."""
    env = os.environ
    folder = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
    if not folder:
        xdg = env.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        folder = os.path.join(env.get("HF_HOME") or os.path.join(xdg, "huggingface"), "hub")
    return Path(os.path.expandvars(folder)).expanduser()


def _datasets_cache_dir() -> Path:
    env = os.environ
    xdg = env.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    home = env.get("HF_HOME") or os.path.join(xdg, "huggingface")
    return Path(env.get("HF_DATASETS_CACHE") or os.path.join(home, "datasets")).expanduser()


def in_local_cache(repo_id: str, kind: HubKind = "model", revision: str | None = None) -> bool:
    """True when a snapshot of `repo_id` at `revision` (default main) is in the local cache."""
    repo = hub_cache_dir() / f"{kind}s--{repo_id.replace('/', '--')}"
    ref = repo / "refs" / (revision or "main")
    try:
        commit = ref.read_text().strip() if ref.is_file() else revision or "main"
        snapshot = repo / "snapshots" / commit
        if snapshot.is_dir() and any(snapshot.iterdir()):
            return True
    except OSError:
        pass
    return kind == "dataset" and _in_datasets_cache(repo_id)


def _in_datasets_cache(repo_id: str) -> bool:
    """A prepared copy in the datasets library's own cache (<org>___<snake_name>/...)."""
    want = repo_id.replace("/", "___").replace("_", "").lower()
    root = _datasets_cache_dir()
    try:
        return any(p.name.replace("_", "").lower() == want for p in root.iterdir() if p.is_dir())
    except OSError:
        return False


def hub_endpoint() -> str:
    """The hub's base URL: HF_ENDPOINT, else https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _probe_target(endpoint: str) -> tuple[str, int]:
    """(host, port) to test: the endpoint itself, or the proxy requests to it go through."""
    # Here, not at import: urllib.request pulls in ssl and http, and only a hub load needs it.
    import urllib.parse
    import urllib.request

    url = urllib.parse.urlsplit(endpoint)
    host, scheme = url.hostname or "", url.scheme or "https"
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        url = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host = url.hostname or host
    return host, url.port or (443 if url.scheme == "https" else 80)


@functools.cache
def unreachable_reason(endpoint: str) -> str | None:
    """None if a TCP connection to the hub (or its proxy) opens within 1.5 s, else why not."""
    host, port = _probe_target(endpoint)
    outcome: list[str | None] = []

    def connect() -> None:
        import socket  # like urllib above: only a hub load pays for it

        try:
            socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(f"{type(exc).__name__}: {exc}")

    # a thread, because a hanging DNS lookup ignores the socket timeout
    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(PROBE_TIMEOUT_S + 0.1)
    return outcome[0] if outcome else f"no answer from {host}:{port} in {PROBE_TIMEOUT_S} s"


def default_hint(repo_id: str, kind: HubKind = "model", arg: str = "model") -> str:
    """What to do instead of the hub: a local folder (--model-args ARG=) or --data-dir."""
    if kind == "dataset":
        return (
            f"Download it where there is network (`hf download {repo_id} --repo-type dataset "
            "--local-dir DIR`), copy DIR here and pass --data-dir DIR."
        )
    return (
        "Pass a local folder in the official layout instead: --model-args "
        f"{arg}=/path/to/{repo_id.rsplit('/', 1)[-1]} (e.g. made by `hf download {repo_id} "
        "--local-dir DIR` on a machine with network)."
    )


def ensure_hub_reachable(
    repo_id: str,
    kind: HubKind = "model",
    *,
    revision: str | None = None,
    hint: str | None = None,
    error: type[VoxevalError] = VoxevalError,
) -> None:
    """Return if `repo_id` is cached or the hub answers; else raise `error` at once."""
    cached = in_local_cache(repo_id, kind, revision)
    variable = offline_variable(kind)
    if variable and (cached or kind == "dataset"):
        return  # the libraries read the cache; offline, `datasets` also fails fast by itself
    why = f"{variable} is set (offline mode)" if variable else _unreachable(hub_endpoint())
    if why is None:
        return
    if cached:
        use_cache_only(why)
        return
    at = f" at revision {revision}" if revision else ""
    raise error(
        f"Cannot load the hub {kind} {repo_id}{at}: it is not in the local Hugging Face "
        f"cache ({hub_cache_dir()}) and {why}. {hint or default_hint(repo_id, kind)}"
    )


def _unreachable(endpoint: str) -> str | None:
    reason = unreachable_reason(endpoint)
    return None if reason is None else f"the hub at {endpoint} cannot be reached ({reason})"


@functools.cache
def use_cache_only(why: str) -> None:
    """Put this process's hub libraries in offline mode, saying so once."""
    # A cached model still asks the hub for optional files it lacks (chat template, added
    # tokens, ...), each after ~25 s of retries: minutes in all when the hub is unreachable.
    import huggingface_hub.constants

    huggingface_hub.constants.HF_HUB_OFFLINE = True  # transformers asks huggingface_hub
    datasets_config = sys.modules.get("datasets.config")  # else it copies the line above
    if datasets_config is not None and os.environ.get("HF_DATASETS_OFFLINE") is None:
        datasets_config.HF_HUB_OFFLINE = datasets_config.HF_DATASETS_OFFLINE = True
    print(f"voxeval: {why}: using the local Hugging Face cache only.", file=sys.stderr)
