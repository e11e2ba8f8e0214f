"""The worker's agents by name: the built-in ones and those of installed plugins.

A plugin package registers its ``install`` function under the ``watchfloor.agents``
entry points; ``WATCHFLOOR_AGENTS`` names the plugin agents a worker runs. The built-in
agents always run (``feeds``, ``http-items`` and ``alertmanager`` do nothing unless
configured).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points

from streams.pipeline.agent import AgentContext, Install
from streams.pipeline.agents import alertmanager, board, detect, feeds, http_items, ingest

__all__ = [
    "BUILT_IN",
    "PLUGIN_GROUP",
    "AgentPluginError",
    "agent_registry",
    "check_enabled",
    "install_agents",
]

PLUGIN_GROUP = "watchfloor.agents"

BUILT_IN: dict[str, Install] = {
    "ingest": ingest.install,
    "detect": detect.install,
    "feeds": feeds.install,
    "http-items": http_items.install,
    "alertmanager": alertmanager.install,
    "board": board.install,
}


class AgentPluginError(ValueError):
    """An agent plugin that cannot be loaded, takes a taken name, or is not installed."""


def agent_registry(plugins: Iterable[EntryPoint] | None = None) -> dict[str, Install]:
    """Every agent by name: ``BUILT_IN``, then the ``plugins`` (by default the installed
    packages' ``watchfloor.agents`` entry points), none taking a name twice. Plugins are
    loaded here, so a broken one is reported before the worker starts."""
    found = dict(BUILT_IN)
    for entry in entry_points(group=PLUGIN_GROUP) if plugins is None else plugins:
        if entry.name in found:
            raise AgentPluginError(f"agent plugin {entry.value} takes the name {entry.name!r}")
        try:
            install = entry.load()
        except Exception as exc:
            raise AgentPluginError(f"agent plugin {entry.value}: {exc}") from exc
        if not callable(install):
            raise AgentPluginError(f"agent plugin {entry.value} is not an install(ctx) function")
        found[entry.name] = install
    return found


def check_enabled(
    enabled: Sequence[str], plugins: Iterable[EntryPoint] | None = None
) -> dict[str, Install]:
    """The registry, once every ``enabled`` name is in it; ``AgentPluginError`` otherwise."""
    registry = agent_registry(plugins)
    unknown = [name for name in enabled if name not in registry]
    if unknown:
        plugins_found = sorted(set(registry) - set(BUILT_IN)) or ["none"]
        raise AgentPluginError(
            f"WATCHFLOOR_AGENTS names {', '.join(unknown)}, not an installed agent plugin "
            f"(installed: {', '.join(plugins_found)})"
        )
    return registry


def install_agents(
    ctx: AgentContext, enabled: Sequence[str], plugins: Iterable[EntryPoint] | None = None
) -> list[str]:
    """Install the built-in agents and the ``enabled`` plugin agents; return their names."""
    registry = check_enabled(enabled, plugins)
    names = [*BUILT_IN, *(n for n in enabled if n not in BUILT_IN)]
    for name in names:
        registry[name](ctx)
    return names
