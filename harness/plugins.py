"""The plugin manager: built-ins plus `voxeval` entry points, and the name registries."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from functools import cache
from typing import Any, Generic, TypeVar

import pluggy

from voxeval import hookspecs
from voxeval.errors import VoxevalError

ENTRY_POINT_GROUP = "voxeval"
# Comma-separated entry-point names to load; empty loads none (tests use this so that
# plugins installed in the environment never leak in). Unset loads all.
PLUGINS_ENV = "VOXEVAL_PLUGINS"

BUILTIN_MODULES = (
    "voxeval.metrics.builtin",
    "voxeval.tasks.demo_asr",
    "voxeval.adapters.faster_whisper",
    "voxeval.adapters.pocketsphinx",
)

T = TypeVar("T")


class UnknownNameError(VoxevalError):
    """A task, model or metric name that no plugin registered."""


class DuplicateNameError(VoxevalError):
    """Two plugins registered the same name."""


def _load_plugins() -> pluggy.PluginManager:
    import importlib

    pm = pluggy.PluginManager("voxeval")
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_MODULES:
        pm.register(importlib.import_module(module_name), name=module_name)
    wanted = os.environ.get(PLUGINS_ENV)
    if wanted is None:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    else:
        for name in filter(None, (n.strip() for n in wanted.split(","))):
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
    return pm


@cache
def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager, loading plugins on first use."""
    return _load_plugins()


class Registry(Generic[T]):
    """Names → registered objects for one hook, with owner tracking and suggestions."""

    def __init__(self, kind: str, hook_name: str, name_of: Callable[[T], str]) -> None:
        self.kind, self.hook_name, self._name_of = kind, hook_name, name_of

    def items(self) -> dict[str, T]:
        """All registered objects by name, built fresh from the current plugins."""
        return {name: obj for name, (obj, _) in self._collect().items()}

    def owners(self) -> dict[str, str]:
        """The plugin that registered each name."""
        return {name: owner for name, (_, owner) in self._collect().items()}

    def get(self, name: str) -> T:
        """Look up one name; unknown names raise with the closest matches."""
        found = self._collect()
        if name in found:
            return found[name][0]
        close = difflib.get_close_matches(name, list(found), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownNameError(
            f"Unknown {self.kind} {name!r}.{hint} "
            f"Run `voxeval list {self.kind}s` to see the {len(found)} available."
        )

    def _collect(self) -> dict[str, tuple[T, str]]:
        pm = get_plugin_manager()
        found: dict[str, tuple[T, str]] = {}
        hook = getattr(pm.hook, self.hook_name)
        # Call each implementation on its own (in registration order, built-ins first) so every
        # name knows which plugin owns it.
        for impl in hook.get_hookimpls():

            def register(obj: T, _owner: str = impl.plugin_name) -> None:
                name = self._name_of(obj)
                if name in found:
                    raise DuplicateNameError(
                        f"{self.kind} {name!r} is registered twice, by plugins "
                        f"{found[name][1]!r} and {_owner!r}. Uninstall one of them, or limit "
                        f"the plugins loaded with {PLUGINS_ENV}=name1,name2."
                    )
                found[name] = (obj, _owner)

            impl.function(register=register)
        return found


def plugin_names() -> list[dict[str, Any]]:
    """Describe the loaded plugins and which hooks each implements."""
    pm = get_plugin_manager()
    rows = []
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        dist = next((d for p, d in pm.list_plugin_distinfo() if p is plugin), None)
        version = f"{dist.project_name} {dist.version}" if dist else "built-in"
        rows.append({"name": name, "hooks": hooks, "distribution": version})
    return rows
