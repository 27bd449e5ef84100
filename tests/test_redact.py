"""Secrets removed from text that arrives in pieces (the live deltas of a stream)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbook._redact import StreamRedactor, remove_secrets

KEY = "tbk_9fQ2xL7vR4mN8pW3zT6y"
PASSWORD = "pw-Hq4Zt8Lm2Xc7"


def _fed(redactor: StreamRedactor, pieces: list[str]) -> list[str]:
    return [redactor.feed(piece) for piece in pieces] + [redactor.flush()]


def test_a_key_cut_anywhere_is_removed_and_nothing_else_changes() -> None:
    text = f"before {KEY} middle {PASSWORD} after t"
    for cut in range(1, len(text)):
        out = _fed(StreamRedactor(KEY, PASSWORD), [text[:cut], text[cut:]])
        assert "".join(out) == "before *** middle *** after t"
        assert all(KEY not in piece and PASSWORD not in piece for piece in out)


def test_only_the_start_of_a_secret_waits() -> None:
    redactor = StreamRedactor(KEY)
    assert redactor.feed("plain text, ") == "plain text, "
    assert redactor.feed("then tbk_9") == "then "  # could be the key: held
    assert redactor.feed("x") == "tbk_9x"  # it was not
    assert redactor.flush() == ""


def test_text_that_ends_with_a_secrets_start_comes_out_at_the_end() -> None:
    redactor = StreamRedactor(KEY)
    assert redactor.feed("ends with tbk_") == "ends with "
    assert redactor.flush() == "tbk_"


def test_no_secrets_means_no_redaction() -> None:
    redactor = StreamRedactor(None, "EMPTY")  # placeholders local servers accept are not secrets
    assert not redactor
    assert redactor.passes("anything")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "t", "tb", "tbk_", KEY[:9], KEY[9:], KEY, " ", "pw-", PASSWORD, "%"]), max_size=30),
    st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_joined_output_is_remove_secrets_of_joined_input(words: list[str], cuts: list[int]) -> None:
    text = "".join(words)
    bounds = sorted({min(cut, len(text)) for cut in cuts} | {0, len(text)})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    out = _fed(StreamRedactor(KEY, PASSWORD), pieces)
    assert "".join(out) == remove_secrets(text, KEY, PASSWORD)
    assert all(KEY not in piece and PASSWORD not in piece for piece in out)
