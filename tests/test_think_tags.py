"""Tests for ThinkTagSplitter: tags, whitespace, pre-filled ``<think>``, arbitrary chunking."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbook._think_tags import SplitEvent, ThinkTagSplitter
from thinkbook._types import AnswerDelta, AnswerWasReasoning, ReasoningDelta


def reduce_events(events: Iterable[SplitEvent]) -> tuple[str, str]:
    """Fold events into final (reasoning, answer), checking the event contract on the way.

    ``AnswerWasReasoning(t)``: ``t`` must be exactly the answer emitted so far; it is appended
    to the reasoning and the answer becomes empty. It may come at most once, and a
    ``ReasoningDelta`` may only follow an ``AnswerDelta`` if an ``AnswerWasReasoning`` came
    in between (so a consumer never sees reasoning resume after the answer started).
    """
    reasoning, answer = "", ""
    moves = 0
    for ev in events:
        assert ev.text, f"empty event {ev!r}"
        if isinstance(ev, ReasoningDelta):
            assert not answer, "reasoning after answer without AnswerWasReasoning"
            reasoning += ev.text
        elif isinstance(ev, AnswerDelta):
            answer += ev.text
        else:
            assert isinstance(ev, AnswerWasReasoning)
            assert ev.text == answer, "AnswerWasReasoning must carry exactly the answer so far"
            moves += 1
            reasoning += answer
            answer = ""
    assert moves <= 1
    return reasoning, answer


def run(chunks: Iterable[str], *, bare_close: bool = True) -> tuple[tuple[str, str], ThinkTagSplitter]:
    s = ThinkTagSplitter(bare_close=bare_close)
    events: list[SplitEvent] = []
    for c in chunks:
        events += s.feed(c)
    events += s.flush()
    assert s.flush() == []
    return reduce_events(events), s


def split(text: str) -> tuple[str, str]:
    return run([text])[0]


def after_tag(s: str) -> str:
    """The answer after ``</think>``: the separating blank lines go, the first line's indent stays."""
    stripped = s.lstrip()
    if not stripped:
        return ""
    lead = s[: len(s) - len(stripped)]
    line_break = max(lead.rfind("\n"), lead.rfind("\r"))
    return s[line_break + 1 :] if line_break != -1 else stripped


def oracle(s: str, *, bare_close: bool = True) -> tuple[str, str]:
    """The documented rules, applied to the whole output at once."""
    t = s.lstrip()
    if t.startswith("<think>"):
        body = t[len("<think>") :].lstrip()
        i = body.find("</think>")
        if i == -1:
            return body, ""
        return body[:i].rstrip(), after_tag(body[i + len("</think>") :])
    if not t:
        return "", s
    i = s.find("</think>") if bare_close else -1
    if i == -1:
        return "", s
    return s[:i].rstrip(), after_tag(s[i + len("</think>") :])


CASES: list[tuple[str, tuple[str, str], bool]] = [
    # (output, (reasoning, answer), saw_tags)
    ("<think>a</think>b", ("a", "b"), True),
    ("<think>\nLet me see.\n\nOK.\n</think>\n\nAnswer", ("Let me see.\n\nOK.", "Answer"), True),
    ("  \n<think>x</think>  y z  ", ("x", "y z  "), True),
    ("pre-filled\n</think>\n\nAnswer", ("pre-filled", "Answer"), True),
    ("</think>\n\nAnswer", ("", "Answer"), True),
    ("<think></think>Answer", ("", "Answer"), True),
    ("<think>\n\n</think>\n\nAnswer", ("", "Answer"), True),
    ("<think>still thinking \n", ("still thinking \n", ""), True),
    ("<think>", ("", ""), True),
    ("Just an answer.\n\nTwo lines.\n", ("", "Just an answer.\n\nTwo lines.\n"), False),
    ("\n\n  Leading whitespace kept", ("", "\n\n  Leading whitespace kept"), False),
    ("    indented = 1\n", ("", "    indented = 1\n"), False),
    ("<think>r</think>\n\n    code\n", ("r", "    code\n"), True),
    ("</think>\n  x", ("", "  x"), True),
    ("<think>r</think>\r\n\tx", ("r", "\tx"), True),
    ("Use <think> tags like <think>x", ("", "Use <think> tags like <think>x"), False),
    ("<think>r</think>then <think>q</think> w", ("r", "then <think>q</think> w"), True),
    ("<think>a <think> b</think>c", ("a <think> b", "c"), True),
    ("<thinking>not a tag</thinking>", ("", "<thinking>not a tag</thinking>"), False),
    ("<Think>x</Think>", ("", "<Think>x</Think>"), False),
    ("a < b and b <= c, </thin k>", ("", "a < b and b <= c, </thin k>"), False),
    ("ends with partial </thi", ("", "ends with partial </thi"), False),
    ("<thi", ("", "<thi"), False),
    ("<think>r</thi", ("r</thi", ""), True),
    (
        "<think>\n让我想想：9.9 比 9.11 大。\n</think>\n\n9.9 更大。",
        ("让我想想：9.9 比 9.11 大。", "9.9 更大。"),
        True,
    ),
    ("先想一想　\n</think>\n\n答案", ("先想一想", "答案"), True),
    ("", ("", ""), False),
    (" \n\t ", ("", " \n\t "), False),
    ("<think>r</think>\n\n", ("r", ""), True),
]


@pytest.mark.parametrize(("text", "expected", "tags"), CASES)
def test_one_shot(text: str, expected: tuple[str, str], tags: bool) -> None:
    result, s = run([text])
    assert result == expected
    assert oracle(text) == expected
    assert s.saw_tags is tags


@pytest.mark.parametrize(("text", "expected", "tags"), CASES)
def test_split_in_two_at_every_position(text: str, expected: tuple[str, str], tags: bool) -> None:
    for i in range(len(text) + 1):
        result, s = run([text[:i], text[i:]])
        assert result == expected, i
        assert s.saw_tags is tags


@pytest.mark.parametrize(("text", "expected", "tags"), CASES)
def test_one_char_per_chunk(text: str, expected: tuple[str, str], tags: bool) -> None:
    result, s = run(list(text))
    assert result == expected
    assert s.saw_tags is tags


def test_prefilled_streaming_events() -> None:
    s = ThinkTagSplitter()
    assert s.feed("The user asks") == [AnswerDelta("The user asks")]
    assert s.feed(" about x.\n") == [AnswerDelta(" about x.")]  # trailing "\n" held back
    assert not s.saw_tags
    assert s.feed("Fine.\n</th") == [AnswerDelta("\nFine.")]
    assert s.feed("ink>\n\nX is") == [
        AnswerWasReasoning("The user asks about x.\nFine."),
        AnswerDelta("X is"),
    ]
    assert s.saw_tags
    assert s.feed(" </think> <think>") == [AnswerDelta(" </think> <think>")]
    assert s.flush() == []


def test_prefilled_rest_of_chunk_is_reasoning() -> None:
    s = ThinkTagSplitter()
    assert s.feed("abc") == [AnswerDelta("abc")]
    assert s.feed(" def \n</think>\n\nAns") == [
        AnswerWasReasoning("abc"),
        ReasoningDelta(" def"),
        AnswerDelta("Ans"),
    ]


def test_reasoning_streams_and_trailing_whitespace_is_released_when_text_follows() -> None:
    s = ThinkTagSplitter()
    assert s.feed("<think>\n") == []
    assert s.feed("step 1\n\n") == [ReasoningDelta("step 1")]
    assert s.feed("step 2") == [ReasoningDelta("\n\nstep 2")]
    assert s.feed("</think>") == []
    assert s.feed("\n\n") == []
    assert s.feed("done") == [AnswerDelta("done")]


def test_answer_fast_path_passes_chunks_through() -> None:
    s = ThinkTagSplitter()
    s.feed("<think>r</think>")
    chunks = [" a", "\n\n", "", "<think>", "  ", "</think>", "b "]
    events = [e for c in chunks for e in s.feed(c)]
    assert events == [AnswerDelta(c) for c in ["a", "\n\n", "<think>", "  ", "</think>", "b "]]


def test_unclosed_think_held_text_goes_to_reasoning() -> None:
    s = ThinkTagSplitter()
    assert s.feed("<think>hmm </thi") == [ReasoningDelta("hmm")]
    assert s.flush() == [ReasoningDelta(" </thi")]


_TOKENS = [
    "<think>",
    "</think>",
    "<",
    "</",
    "<th",
    "</thi",
    "nk>",
    "ink>",
    "think",
    ">",
    "/",
    "a",
    "bc",
    " ",
    "\n",
    "\n\n",
    "中文",
    "<thinking>",
]


@st.composite
def _stream_and_chunks(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = "".join(draw(st.lists(st.sampled_from(_TOKENS), max_size=14)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in pairwise(bounds)]


@settings(max_examples=600, deadline=None)
@given(_stream_and_chunks())
def test_random_chunking_matches_one_shot_and_rules(data: tuple[str, list[str]]) -> None:
    text, chunks = data
    assert "".join(chunks) == text
    one_shot = split(text)
    assert run(chunks)[0] == one_shot
    assert run(list(text))[0] == one_shot
    assert one_shot == oracle(text)
    assert run(chunks, bare_close=False)[0] == oracle(text, bare_close=False)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.lists(st.integers(0, 40), max_size=6))
def test_arbitrary_text_never_loses_characters(text: str, cuts: list[int]) -> None:
    bounds = [0, *sorted(min(c, len(text)) for c in cuts), len(text)]
    chunks = [text[a:b] for a, b in pairwise(bounds)]
    assert run(chunks)[0] == oracle(text)
    assert run(chunks, bare_close=False)[0] == oracle(text, bare_close=False)


_OFF_CASES = [
    ("I wrote </think> here.", ("", "I wrote </think> here.")),
    ("  </think>\n\nx", ("", "  </think>\n\nx")),
    ("<think>r</think>a</think>", ("r", "a</think>")),
    ("</thi", ("", "</thi")),
]


@pytest.mark.parametrize(("text", "expected"), _OFF_CASES)
def test_with_thinking_off_a_bare_close_tag_is_answer_text(text: str, expected: tuple[str, str]) -> None:
    assert oracle(text, bare_close=False) == expected
    for i in range(len(text) + 1):
        assert run([text[:i], text[i:]], bare_close=False)[0] == expected, i
    assert run(list(text), bare_close=False)[0] == expected
