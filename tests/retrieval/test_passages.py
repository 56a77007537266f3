"""`best_passage`: the sentences of a chunk that match the query, not the chunk's opening."""

from __future__ import annotations

from retrieval.passages import MAX_CHARS, best_passage, sentences

TITLE = "An inspection of the police response to group-based child sexual exploitation in England and Wales"
CHUNK = f"""{TITLE}
Recommendation 4: By 31 December 2024, all chief constables should make sure there are sufficient measures in \
place to identify group-based child sexual exploitation.
Response: It is believed that the replacement force system would have allowed progress towards this \
recommendation. With a replacement records management system now not due until 2025-26, this will be \
difficult to achieve. Manual mitigation procedures have been put in place with reporting of group-based CSE \
into the force Exploitation Threat Group. This will remain in place until an automated flagging solution \
can be identified."""
RESPONSE = CHUNK.split("Response: ", 1)[1]


def test_sentences_split_at_sentence_ends_and_lines() -> None:
    parts = sentences("First one. Second one!\nThird, by 31 Dec. 2024 ends here? Yes.")
    assert parts == ["First one.", "Second one!", "Third, by 31 Dec. 2024 ends here?", "Yes."]


def test_the_passage_is_the_sentence_that_matches_not_the_start() -> None:
    passage = best_passage(CHUNK, "manual mitigation and automated flagging", skip=[TITLE])
    assert passage.text.startswith("Manual mitigation procedures")
    assert "automated flagging solution" in passage.text  # the next sentence brings in the other terms
    assert TITLE not in passage.text
    assert set(passage.words) == {"Manual", "mitigation", "automated", "flagging"}
    assert passage.matched == 4


def test_stems_and_acronyms_match() -> None:
    passage = best_passage(CHUNK, "record management systems", skip=[TITLE])
    assert "records management system" in passage.text
    cse = best_passage(RESPONSE, "child sexual exploitation")  # the chunk says "CSE"
    assert "group-based CSE" in cse.text


def test_a_tie_goes_to_the_response() -> None:
    # "identify" and "group-based" appear in the recommendation; "CSE" expands to child sexual exploitation.
    passage = best_passage(CHUNK, "group-based child sexual exploitation", skip=[TITLE], prefer=RESPONSE)
    assert passage.text.startswith("Manual mitigation")


def test_nothing_matching_gives_the_start_and_matched_zero() -> None:
    passage = best_passage(CHUNK, "stop and search", skip=[TITLE])
    assert passage.text.startswith("Recommendation 4:")
    assert passage.matched == 0 and passage.words == ()


def test_a_short_match_gets_the_next_sentence_for_context() -> None:
    passage = best_passage("Agreed. The board meets monthly. Unrelated closing remark here.", "agreed")
    assert passage.text.startswith("Agreed. The board meets monthly.")


def test_a_long_sentence_is_cut_at_words_around_the_match() -> None:
    filler = " ".join(f"word{i}" for i in range(120))
    text = f"{filler} the problem profile was refreshed in March {filler}."
    passage = best_passage(text, "problem profile", max_chars=120)
    assert len(passage.text) <= 120
    assert "problem profile was refreshed" in passage.text
    assert passage.text.startswith("…") and passage.text.endswith("…")
    assert set(passage.text.strip("…").split()) <= set(text.split())  # whole words only


def test_the_passage_stays_within_the_limit_and_empty_text_is_empty() -> None:
    assert len(best_passage(CHUNK, "force system progress").text) <= MAX_CHARS
    assert best_passage("", "anything").text == ""
    assert best_passage(TITLE, "inspection", skip=[TITLE]).text == ""
