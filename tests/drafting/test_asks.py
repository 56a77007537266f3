"""Splitting a finding into its distinct asks: the unit each piece of evidence or placeholder answers."""

from __future__ import annotations

import pytest

from drafting.asks import is_verb, split_asks
from retrieval.findings import make_finding
from retrieval.models import FindingKind


def asks(text: str, **kwargs: object) -> list[str]:
    return [a.text for a in split_asks(make_finding(text, **kwargs))]  # type: ignore[arg-type]


def test_the_missing_children_recommendation_asks_three_things() -> None:
    found = asks(
        "By 30 September 2025, all chief constables should make sure that officers who respond to reports of "
        "missing children record the child's views and any risks of exploitation in the return home interview, "
        "and share that information with partner agencies."
    )
    subject = "officers who respond to reports of missing children"
    assert found == [
        f"{subject} record the child's views in the return home interview",
        f"{subject} record any risks of exploitation in the return home interview",
        f"{subject} share that information with partner agencies",
    ]


def test_the_due_date_and_the_addressee_are_not_asks() -> None:
    found = asks("Within three months, the force should make sure that call handlers use a structured risk assessment.")
    assert found == ["call handlers use a structured risk assessment"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # "and that …" is always a second ask
            "The force should make sure that supervisors review body-worn video footage, and that it records the "
            "outcome of every review.",
            ["supervisors review body-worn video footage", "records the outcome of every review"],
        ),
        (  # two verbs side by side are one action
            "The force should make sure that police attend and contribute to every strategy discussion.",
            ["police attend and contribute to every strategy discussion"],
        ),
        (  # a name with "and" in it is not two things
            "The force should work with the Gangmasters and Labour Abuse Authority to safeguard victims.",
            ["work with the Gangmasters and Labour Abuse Authority to safeguard victims"],
        ),
        (  # a group of people is not two things
            "Chief constables should make sure that their units have enough trained investigators and analysts to "
            "assess intelligence.",
            ["their units have enough trained investigators and analysts to assess intelligence"],
        ),
    ],
)
def test_clause_breaks_split_and_word_lists_do_not(text: str, expected: list[str]) -> None:
    assert asks(text) == expected


def test_a_second_ask_without_a_subject_borrows_the_first_ones() -> None:
    found = asks(
        "The force should make sure that victims of rape are supported by independent sexual violence advisers "
        "and kept informed throughout the investigation."
    )
    assert found == [
        "victims of rape are supported by independent sexual violence advisers",
        "victims of rape are kept informed throughout the investigation",
    ]


def test_including_a_list_gives_each_item_its_own_ask() -> None:
    found = asks(
        "By 31 March 2027, chief constables should make sure that their forces actively seek intelligence about "
        "abuse of position, including through confidential reporting lines and the monitoring of force IT systems."
    )
    assert found[1:] == [
        "actively seek intelligence about abuse of position through confidential reporting lines",
        "actively seek intelligence about abuse of position through the monitoring of force IT systems",
    ]


def test_a_cause_of_concern_states_problems_that_become_asks() -> None:
    found = asks(
        "Aldermoor Police isn't consistently identifying vulnerable people when they first contact the force, "
        "and it doesn't always assess the risk to them in a structured way. This means that some callers suffer.",
        kind=FindingKind.CAUSE_OF_CONCERN,
    )
    assert found == [
        "Aldermoor Police isn't consistently identifying vulnerable people when they first contact the force",
        "doesn't always assess the risk to them in a structured way",
    ]


def test_asks_have_stable_ids_and_a_finding_is_never_without_one() -> None:
    split = split_asks(make_finding("The Home Office should review funding."))
    assert [(a.id, a.text) for a in split] == [("A1", "review funding")]


def test_verb_forms_are_recognised_and_nouns_after_a_preposition_are_not() -> None:
    assert all(is_verb(w) for w in ("record", "records", "referred", "identifies", "kept", "reviewing"))
    assert not any(is_verb(w) for w in ("children", "hub", "panel"))
