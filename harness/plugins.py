"""The plugin manager: built-ins plus `voxeval` entry points, and the name registries.

Built-in modules register through the same hooks as third-party plugins, but are imported
when first needed: looking up a name imports only the module that registers it (found in
`voxeval.builtin_index`, generated from the modules and checked by tests), and listing a
kind imports them all. A stale index costs time, never a name: a lookup it misses imports
every built-in before giving up.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, Generic, TypeVar

import pluggy

from voxeval import hookspecs
from voxeval.builtin_index import BUILTIN_INDEX
from voxeval.errors import VoxevalError

ENTRY_POINT_GROUP = "voxeval"
# Comma-separated entry-point names to load; empty loads none (tests use this so that
# plugins installed in the environment never leak in). Unset loads all.
PLUGINS_ENV = "VOXEVAL_PLUGINS"

BUILTIN_MODULES = (
    "voxeval.metrics.builtin",
    "voxeval.metrics.text",
    "voxeval.metrics.numeric",
    "voxeval.metrics.classification",
    "voxeval.rubrics",
    "voxeval.tasks.demo_asr",
    "voxeval.tasks.demo_dialogue",
    "voxeval.tasks.sd_eval",
    "voxeval.tasks.berst",
    "voxeval.tasks.emonet_voice",
    "voxeval.tasks.adv_regression",
    "voxeval.tasks.empathetic",
    "voxeval.adapters.faster_whisper",
    "voxeval.adapters.pocketsphinx",
    "voxeval.adapters.openai_compat",
    "voxeval.adapters.vllm_server",
    "voxeval.adapters.baselines",
    "voxeval.adapters.cascade",
    "voxeval.adapters.transformers_adapters",
)

_BUILTIN_ORDER = {name: i for i, name in enumerate(BUILTIN_MODULES)}

# The hooks that fill a Registry; built-ins implement no other hook (tests check), as one
# that did would not be called until something loaded that module.
REGISTRY_HOOKS = ("register_tasks", "register_adapters", "register_metrics", "register_rubrics")

T = TypeVar("T")
# Entry-point plugin name → "distribution version", for `voxeval plugins`.
_DISTRIBUTIONS: dict[str, str] = {}


class UnknownNameError(VoxevalError):
    """A task, model or metric name that no plugin registered."""


class DuplicateNameError(VoxevalError):
    """Two plugins registered the same name."""


def _load_plugins() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("voxeval")
    pm.add_hookspecs(hookspecs)
    for entry_point in _selected_entry_points():
        _register_entry_point(pm, entry_point)
    return pm


# Re-entrant: a built-in that looks a name up while it is being imported loads others.
_LOADING = threading.RLock()


def load_builtins(modules: Iterable[str] = BUILTIN_MODULES) -> None:
    """Import and register the given built-in modules (default: all) not registered yet."""
    pm = get_plugin_manager()
    with _LOADING:
        for module_name in modules:
            if pm.get_plugin(module_name) is None:
                pm.register(importlib.import_module(module_name), name=module_name)


def _selected_entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    available = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    wanted = os.environ.get(PLUGINS_ENV)
    if wanted is None:
        return list(available.values())
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise VoxevalError(
            f"{PLUGINS_ENV} names {', '.join(map(repr, unknown))}, but no installed package has "
            f"such a '{ENTRY_POINT_GROUP}' entry point. Installed: "
            f"{', '.join(sorted(available)) or 'none'}."
        )
    return [available[n] for n in names]


def _register_entry_point(pm: pluggy.PluginManager, entry_point: Any) -> None:
    dist = getattr(entry_point.dist, "name", "an unknown distribution")
    try:
        plugin = entry_point.load()
    except Exception as exc:
        raise VoxevalError(
            f"Plugin {entry_point.name!r} (from {dist}, {entry_point.value}) failed to import: "
            f"{type(exc).__name__}: {exc}. Fix or uninstall it, or leave it out with "
            f"{PLUGINS_ENV}=<the plugins you want>."
        ) from exc
    try:
        pm.register(plugin, name=entry_point.name)
    except ValueError as exc:
        raise VoxevalError(
            f"Plugin {entry_point.name!r} (from {dist}) could not be registered: {exc}. Two "
            "entry points load the same module; uninstall one of the packages."
        ) from None
    version = getattr(entry_point.dist, "version", "")
    _DISTRIBUTIONS[entry_point.name] = f"{dist} {version}".strip()


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
        load_builtins()
        return {name: obj for name, (obj, _) in self._collect().items()}

    def owners(self) -> dict[str, str]:
        """The plugin that registered each name."""
        load_builtins()
        return {name: owner for name, (_, owner) in self._collect().items()}

    def get(self, name: str) -> T:
        """Look up one name; unknown names raise with the closest matches."""
        return self.lookup(name)[0]

    def lookup(self, name: str) -> tuple[T, str]:
        """The object registered under `name` and the plugin that registered it."""
        found = self._collect_for(name)
        if name not in found:
            load_builtins()
            found = self._collect()
        if name in found:
            return found[name]
        import difflib

        close = difflib.get_close_matches(name, list(found), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownNameError(
            f"Unknown {self.kind} {name!r}.{hint} "
            f"Run `voxeval list {self.kind}s` to see the {len(found)} available."
        )

    def _collect_for(self, name: str) -> dict[str, tuple[T, str]]:
        """The loaded plugins' names, after loading the built-in that registers `name`."""
        index = BUILTIN_INDEX.get(self.hook_name, {})
        load_builtins([index[name]] if name in index else [])
        found = self._collect()
        # A plugin that takes a built-in's name clashes with it, loaded or not: load the
        # built-in so that collecting raises DuplicateNameError as it always would.
        clashes = {index[n] for n, (_, owner) in found.items() if index.get(n, owner) != owner}
        if clashes:
            load_builtins(sorted(clashes))
            found = self._collect()
        return found

    def _collect(self) -> dict[str, tuple[T, str]]:
        pm = get_plugin_manager()
        found: dict[str, tuple[T, str]] = {}
        impls = getattr(pm.hook, self.hook_name).get_hookimpls()
        # Call each implementation on its own (built-ins first, in their fixed order, then
        # the others as registered) so every name knows which plugin owns it.
        for impl in sorted(impls, key=_builtins_first(impls)):

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


def _builtins_first(impls: list[Any]) -> Callable[[Any], tuple[int, int]]:
    """Sort key: built-ins in BUILTIN_MODULES order, then the rest in registration order."""
    order = {impl.plugin_name: i for i, impl in enumerate(impls)}

    def key(impl: Any) -> tuple[int, int]:
        if impl.plugin_name in _BUILTIN_ORDER:
            return (0, _BUILTIN_ORDER[impl.plugin_name])
        return (1, order[impl.plugin_name])

    return key


def builtin_index() -> dict[str, dict[str, str]]:
    """Hook → {name → the built-in module that registers it}: what builtin_index.py holds."""
    load_builtins()
    pm = get_plugin_manager()
    index: dict[str, dict[str, str]] = {}
    for hook_name in REGISTRY_HOOKS:
        names: dict[str, str] = {}
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            if impl.plugin_name in _BUILTIN_ORDER:
                registered: list[Any] = []
                impl.function(register=registered.append)
                names.update((obj.name, impl.plugin_name) for obj in registered)
        index[hook_name] = dict(sorted(names.items()))
    return index


def plugin_names() -> list[dict[str, Any]]:
    """Describe the loaded plugins and which hooks each implements."""
    load_builtins()
    pm = get_plugin_manager()
    rows = []
    last = len(BUILTIN_MODULES)  # built-ins first in their order; the rest as registered
    listed = sorted(pm.list_name_plugin(), key=lambda pair: _BUILTIN_ORDER.get(pair[0], last))
    for name, plugin in listed:
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        origin = _DISTRIBUTIONS.get(name, "built-in" if name in BUILTIN_MODULES else "in-process")
        rows.append({"name": name, "hooks": hooks, "distribution": origin})
    return rows
