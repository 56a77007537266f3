"""Small pure pieces of the Slack app: reading messages, routing, the prefilter's rules, reviewer groups and
the start-up checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from slack_sdk import WebClient

from bot.cli.serve import missing_settings
from bot.services.inputs import looks_like_recommendation
from bot.services.reviewers import ReviewerDirectory
from bot.settings import Settings
from bot.slack.inbound import (
    Inbound,
    Surface,
    clean_slack_text,
    pick_follow_up,
    published_from_text,
)
from bot.slack.listeners.messages import route
from bot.slack.prefilter import is_from_a_bot, is_from_a_person, worth_claiming
from retrieval.models import FindingKind
from tests.support.slack_fake import FakeSlack
from tests.support.views import finding_view as finding


def test_clean_slack_text_removes_the_bot_mention_and_markup() -> None:
    raw = "<@UBOT> Draft this &amp; cite <https://example.org|the report> for <#C123|reviews> <@U9> &lt;ok&gt;"
    assert clean_slack_text(raw, "UBOT") == "Draft this & cite the report for #reviews @U9 <ok>"


def test_inbound_replies_in_the_thread_or_starts_one() -> None:
    top = Inbound.from_event({"channel": "C1", "ts": "5.5", "user": "U1", "text": "hi"}, Surface.MENTION)
    reply = Inbound.from_event({"channel": "C1", "ts": "6.6", "thread_ts": "5.5", "text": "x"}, Surface.THREAD)
    assert (top.thread_ts, top.in_thread) == ("5.5", False)
    assert (reply.thread_ts, reply.in_thread) == ("5.5", True)


def test_a_recommendation_is_told_apart_from_an_instruction() -> None:
    assert looks_like_recommendation("By 31 March 2025, the force should improve its crime recording.")
    assert looks_like_recommendation("All chief constables should review their problem profiles.")
    assert not looks_like_recommendation("make it shorter")
    assert not looks_like_recommendation("mention the MASH audit")
    assert not looks_like_recommendation("hello")


def test_follow_up_goes_to_the_only_answer_or_the_one_named() -> None:
    only = pick_follow_up([finding(1, "1")], "make it shorter")
    assert only.finding is not None and only.finding.id == 1 and only.instruction == "make it shorter"

    several = [finding(1, "1"), finding(2, "2"), finding(3, None, FindingKind.AREA_FOR_IMPROVEMENT)]
    named = pick_follow_up(several, "Rec 2: mention the MASH audit")
    assert named.finding is not None and named.finding.id == 2 and named.instruction == "mention the MASH audit"
    unclear = pick_follow_up(several, "make it shorter")
    assert unclear.finding is None and "Recommendation 2: make it shorter" in unclear.problem
    missing = pick_follow_up(several, "recommendation 9: shorter")
    assert missing.finding is None and "no recommendation 9" in missing.problem


def test_publication_date_typed_beside_a_report_is_read() -> None:
    assert published_from_text("published 8 Dec 2023, please draft") == date(2023, 12, 8)
    assert published_from_text("it came out on 08/12/2023") == date(2023, 12, 8)
    assert published_from_text("no date here, 31/02/2024 is not real") is None


def test_routing_takes_dms_and_our_threads_but_not_mentions_or_chatter() -> None:
    known = {("C1", "1.1")}

    def knows(channel: str, ts: str) -> bool:
        return (channel, ts) in known

    dm = route({"channel": "D1", "channel_type": "im", "ts": "9.9", "text": "x", "user": "U1"}, "UBOT", knows)
    assert dm is not None and dm.surface is Surface.DM
    ours = {"channel": "C1", "channel_type": "channel", "ts": "2.2", "thread_ts": "1.1", "text": "shorter"}
    assert route(ours, "UBOT", knows) is not None
    assert route({**ours, "thread_ts": "7.7"}, "UBOT", knows) is None
    assert route({**ours, "text": "<@UBOT> shorter"}, "UBOT", knows) is None  # app_mention handles it
    assert route({**ours, "subtype": "message_changed"}, "UBOT", knows) is None


def test_prefilter_rules() -> None:
    assert is_from_a_bot({"bot_id": "B1"}, "UBOT")
    assert is_from_a_bot({"subtype": "bot_message"}, "UBOT")
    assert is_from_a_bot({"type": "file_shared", "user_id": "UBOT"}, "UBOT")
    assert not is_from_a_bot({"user": "U1"}, "UBOT")
    assert not is_from_a_person({"type": "message", "subtype": "message_deleted"})
    assert is_from_a_person({"type": "message", "subtype": "file_share"})
    assert not worth_claiming({"type": "message", "channel_type": "channel"})
    assert worth_claiming({"type": "message", "channel_type": "channel", "thread_ts": "1.1"})
    assert worth_claiming({"type": "app_mention"})


def test_reviewer_groups_are_looked_up_and_cached() -> None:
    now = [0.0]
    with FakeSlack() as slack:
        slack.usergroups["S1"] = ["U1"]
        client = WebClient(token="xoxb-x", base_url=slack.api_url)
        directory = ReviewerDirectory(client, ["U9", "S1", "S_GONE"], ttl=60, monotonic=lambda: now[0])
        assert directory.groups_of("U1") == ("S1",)
        assert directory.groups_of("U2") == ()
        assert len(slack.of("usergroups.users.list")) == 2  # S1 and S_GONE once each: cached
        slack.usergroups["S1"] = ["U1", "U2"]
        now[0] = 61.0
        assert directory.groups_of("U2") == ("S1",)  # re-read after the TTL


def test_start_up_names_every_missing_setting(tmp_path: Path) -> None:
    empty = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    socket = missing_settings(empty, http=False)
    assert any("RESPONDER_SLACK_BOT_TOKEN" in p for p in socket)
    assert any("RESPONDER_SLACK_APP_TOKEN" in p for p in socket)
    http = missing_settings(empty, http=True)
    assert any("RESPONDER_SLACK_SIGNING_SECRET" in p for p in http)
    swapped = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_bot_token="xapp-1", slack_app_token="xoxb-2"
    )
    assert len(missing_settings(swapped, http=False)) == 2
    ready = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_bot_token="xoxb-1", slack_app_token="xapp-2"
    )
    assert missing_settings(ready, http=False) == []


def test_manifest_grants_every_scope_and_event_the_app_uses() -> None:
    from importlib.resources import files

    import yaml

    from bot.slack import constants as c

    manifest = yaml.safe_load((files("bot.slack") / "manifest.yaml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read", "chat:write", "im:history", "im:read", "im:write", "channels:history",
        "groups:history", "files:read", "files:write", "commands", "usergroups:read", "assistant:write",
        "users:read",
    } <= scopes  # fmt: skip
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {
        "app_mention", "message.im", "message.channels", "file_shared", "assistant_thread_started",
        "assistant_thread_context_changed", "app_home_opened",
    } <= events  # fmt: skip
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    assert [cmd["command"] for cmd in manifest["features"]["slash_commands"]] == ["/hmicfrs"]
    prompts = manifest["features"]["assistant_view"]["suggested_prompts"]
    assert prompts == [dict(p) for p in c.SUGGESTED_PROMPTS]
