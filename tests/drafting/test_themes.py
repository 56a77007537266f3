"""Matters by name: a passage that names another matter than the finding's is no evidence on it."""

from __future__ import annotations

from drafting.themes import names_the_matter, off_matter, themes_of

STALKING = "Chief constables should make sure that officers apply for stalking protection orders."
FIREARMS = "Chief constables should make sure firearms licence decisions take account of domestic abuse intelligence."


def test_themes_are_read_from_the_words_that_name_them() -> None:
    assert themes_of("287 Domestic Violence Protection Orders were obtained") == {"domestic abuse"}
    assert themes_of("The Stalking Advice and Intervention Team") == {"stalking"}
    assert themes_of("The hub meets every morning") == frozenset()


def test_a_neighbouring_matter_is_off_the_matter() -> None:
    assert off_matter("In 2024 the force obtained 287 Domestic Violence Protection Orders.", "", STALKING)
    assert not off_matter("The force applied for 23 Stalking Protection Orders and obtained 19.", "", STALKING)


def test_a_passage_naming_no_matter_is_left_to_the_score_unless_its_source_names_another() -> None:
    neutral = "Breaches are reviewed each morning at the Daily Safeguarding Meeting."
    assert not off_matter(neutral, "", STALKING)
    assert off_matter(neutral, "The force should improve its response to domestic abuse.", STALKING)


def test_the_inspections_own_matter_must_be_named_by_a_passage_that_names_any() -> None:
    triage = "The Domestic Abuse Triage Desk reviews every high-risk assessment within 24 hours."
    inspection = "A national thematic inspection of firearms licensing"
    assert off_matter(triage, "", FIREARMS, inspection)  # domestic abuse is in the finding, firearms is the matter
    assert not off_matter(triage, "", FIREARMS)  # without the inspection, the finding's mention suffices


def test_naming_the_matter_is_a_feature_of_the_relevance_score() -> None:
    assert names_the_matter("The Stalking Advice Team", "", STALKING) == 1.0
    assert names_the_matter("The team meets weekly", "", STALKING) == 0.0
    assert names_the_matter("The team meets weekly", "", "The force should improve its records.") == 0.5
