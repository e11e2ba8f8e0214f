"""The agent registry: built-in agents, plugins by entry point, and the errors a user sees."""

from __future__ import annotations

import logging.config
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from streams.cli import main
from streams.pipeline.agent import AgentContext
from streams.pipeline.agents import BUILT_IN, AgentPluginError, agent_registry
from streams.pipeline.app import create_app
from streams.settings import Settings

GROUP = "watchfloor.agents"
installed: list[AgentContext] = []


def probe(ctx: AgentContext) -> None:
    """An agent that records it was installed and owns a topic."""
    installed.append(ctx)
    ctx.own_topic("probe.out")


NOT_CALLABLE = 42


def entry(name: str, attr: str) -> EntryPoint:
    return EntryPoint(name, f"{__name__}:{attr}", GROUP)


def test_the_worker_installs_its_built_in_agents_through_the_interface() -> None:
    wf = create_app(Settings())
    assert wf.agents == ["ingest", "detect", "feeds", "http-items", "alertmanager", "board"]
    assert "alertmanager" not in wf.app.agents  # no URL: nothing to deliver to
    assert {"detect"} <= set(wf.app.agents)
    assert wf.topics == []  # no feeds configured: the poll topic is not wanted


def test_the_alertmanager_agent_reads_the_alerts_when_a_url_is_set() -> None:
    wf = create_app(Settings(alertmanager_url="http://127.0.0.1:9093"))
    agent = wf.app.agents["alertmanager"]
    assert [t for t in agent.channel.topics] == [wf.settings.topic_alerts]


def test_an_agent_with_a_topic_of_its_own_has_it_created_before_the_worker_starts() -> None:
    settings = Settings(feeds=["https://example.org/feed.xml"])
    wf = create_app(settings)
    assert wf.topics == [settings.topic_feed_polls]
    assert "feeds" in wf.app.agents


def test_a_plugin_agent_is_installed_when_the_settings_switch_it_on() -> None:
    installed.clear()
    plugins = [entry("probe", "probe")]
    wf = create_app(Settings(agents=["probe"]), plugins=plugins)
    assert wf.agents[-1] == "probe" and installed == [wf.context]
    assert wf.topics == ["probe.out"]
    installed.clear()
    create_app(Settings(), plugins=plugins)
    assert installed == []  # installed as a package, but not switched on


def test_an_agent_not_installed_is_refused_with_the_ones_that_are() -> None:
    with pytest.raises(AgentPluginError, match=r"correlation, not an installed.*installed: probe"):
        create_app(Settings(agents=["correlation"]), plugins=[entry("probe", "probe")])


def test_a_plugin_may_not_take_a_built_in_name_or_be_anything_but_a_function() -> None:
    with pytest.raises(AgentPluginError, match="takes the name 'detect'"):
        agent_registry([entry("detect", "probe")])
    with pytest.raises(AgentPluginError, match="not an install"):
        agent_registry([entry("odd", "NOT_CALLABLE")])
    with pytest.raises(AgentPluginError, match=r"agent plugin .*:missing"):
        agent_registry([entry("gone", "missing")])
    assert set(agent_registry([])) == set(BUILT_IN)


def test_the_command_line_lists_the_agents_and_refuses_a_worker_with_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agents"]) == 0
    listed = [line.split()[:2] for line in capsys.readouterr().out.splitlines()]
    assert listed == [[name, "built-in"] for name in BUILT_IN]
    monkeypatch.setenv("WATCHFLOOR_AGENTS", '["nope"]')
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)  # the worker's
    assert main(["worker"]) == 2  # before any Kafka client is made
    assert "WATCHFLOOR_AGENTS names nope, not an installed" in capsys.readouterr().err


async def test_a_batch_the_agent_did_not_finish_is_never_acknowledged() -> None:
    """Faust's take_events acks a batch when closed, processed or not (as here)."""
    from types import SimpleNamespace

    from streams.pipeline.agent import batches

    committed: list[int] = []

    class Stream:
        async def take_events(self, size: int, within: float) -> Any:
            for first in (0, 2, 4):
                events = [SimpleNamespace(message=SimpleNamespace(acked=False, offset=o))
                          for o in (first, first + 1)]  # fmt: skip
                try:
                    yield events
                finally:  # as Faust: ack whatever was handed out
                    committed.extend(e.message.offset for e in events if not e.message.acked)

    agen = batches(Stream(), Settings())  # type: ignore[arg-type]
    done = await agen.__anext__()
    assert [e.message.offset for e in done] == [0, 1]
    await agen.__anext__()  # the first batch was processed: acknowledged
    assert committed == [0, 1]
    await agen.aclose()  # the agent stopped while the second batch was in hand
    assert committed == [0, 1]
