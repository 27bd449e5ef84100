"""Tests for parse_usage: the OpenAI-compatible, DashScope native, DeepSeek and Ollama dialects."""

from __future__ import annotations

from typing import Any

import pytest

from thinkbook._types import Usage
from thinkbook._usage import parse_usage


def numbers(u: Usage) -> tuple[int | None, ...]:
    return (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.reasoning_tokens, u.cached_tokens)


def test_openai_compatible_full_shape_from_the_bailian_guide() -> None:
    raw = {
        "prompt_tokens": 10,
        "completion_tokens": 221,
        "total_tokens": 231,
        "completion_tokens_details": {"reasoning_tokens": 172},
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    u = parse_usage(raw)
    assert numbers(u) == (10, 221, 231, 172, 0)
    assert u.answer_tokens == 49


def test_dashscope_native_shape() -> None:
    raw = {
        "input_tokens": 11,
        "output_tokens": 405,
        "total_tokens": 416,
        "output_tokens_details": {"reasoning_tokens": 256},
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    assert numbers(parse_usage(raw)) == (11, 405, 416, 256, 0)


def test_dashscope_native_without_breakdown_leaves_reasoning_unknown() -> None:
    u = parse_usage({"total_tokens": 378, "input_tokens": 11, "output_tokens": 367})
    assert numbers(u) == (11, 367, 378, None, None)
    assert u.answer_tokens is None


def test_missing_breakdown_is_none_never_zero() -> None:
    u = parse_usage({"prompt_tokens": 3463, "completion_tokens": 2387, "total_tokens": 5850})
    assert u.reasoning_tokens is None
    assert u.cached_tokens is None


def test_zero_reported_by_the_server_stays_zero() -> None:
    u = parse_usage({"prompt_tokens": 5, "completion_tokens": 0, "completion_tokens_details": {"reasoning_tokens": 0}})
    assert (u.completion_tokens, u.reasoning_tokens, u.total_tokens) == (0, 0, 5)


def test_deepseek_cache_hit_tokens_become_cached_tokens() -> None:
    raw = {
        "prompt_tokens": 84,
        "completion_tokens": 47,
        "total_tokens": 131,
        "completion_tokens_details": {"reasoning_tokens": 33},
        "prompt_cache_hit_tokens": 64,
        "prompt_cache_miss_tokens": 20,
    }
    assert numbers(parse_usage(raw)) == (84, 47, 131, 33, 64)


def test_prompt_tokens_details_wins_over_deepseek_hit_tokens() -> None:
    raw = {"prompt_tokens": 84, "prompt_tokens_details": {"cached_tokens": 60}, "prompt_cache_hit_tokens": 64}
    assert parse_usage(raw).cached_tokens == 60


def test_deepseek_hit_tokens_used_when_details_lack_cached_tokens() -> None:
    raw = {"prompt_tokens": 84, "prompt_tokens_details": {"cached_tokens": None}, "prompt_cache_hit_tokens": 64}
    assert parse_usage(raw).cached_tokens == 64


def test_responses_style_input_tokens_details() -> None:
    u = parse_usage({"input_tokens": 100, "output_tokens": 7, "input_tokens_details": {"cached_tokens": 80}})
    assert numbers(u) == (100, 7, 107, None, 80)


def test_ollama_native_counts() -> None:
    u = parse_usage({"done": True, "prompt_eval_count": 26, "eval_count": 298, "eval_duration": 4709213000})
    assert numbers(u) == (26, 298, 324, None, None)


def test_total_is_computed_only_when_omitted_and_both_parts_known() -> None:
    assert parse_usage({"prompt_tokens": 10, "completion_tokens": 5}).total_tokens == 15
    assert parse_usage({"prompt_tokens": 10}).total_tokens is None
    assert parse_usage({"completion_tokens": 5}).total_tokens is None


def test_server_total_is_kept_even_when_it_does_not_add_up() -> None:
    # The server is the authority on billing; a surprising total is its business.
    assert parse_usage({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 99}).total_tokens == 99


def test_openai_names_win_over_native_names_in_a_mixed_object() -> None:
    u = parse_usage({"prompt_tokens": 1, "input_tokens": 2, "completion_tokens": 3, "output_tokens": 4})
    assert (u.prompt_tokens, u.completion_tokens) == (1, 3)


def test_falls_through_to_the_next_name_when_the_first_is_null() -> None:
    u = parse_usage({"prompt_tokens": None, "input_tokens": 11, "completion_tokens": "x", "output_tokens": 3})
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (11, 3, 14)


@pytest.mark.parametrize("bad", [None, "10", 10.0, 10.5, True, False, -1, [10], {"n": 10}])
def test_values_that_are_not_token_counts_are_ignored(bad: Any) -> None:
    raw = {
        "prompt_tokens": bad,
        "completion_tokens": bad,
        "total_tokens": bad,
        "completion_tokens_details": {"reasoning_tokens": bad},
        "prompt_tokens_details": {"cached_tokens": bad},
        "prompt_cache_hit_tokens": bad,
    }
    assert numbers(parse_usage(raw)) == (None,) * 5


@pytest.mark.parametrize("details", [None, "172", 172, [172], []])
def test_details_that_are_not_objects_are_ignored(details: Any) -> None:
    raw = {"completion_tokens_details": details, "output_tokens_details": details, "prompt_tokens_details": details}
    u = parse_usage(raw)
    assert (u.reasoning_tokens, u.cached_tokens) == (None, None)


def test_empty_object_gives_all_unknown() -> None:
    assert numbers(parse_usage({})) == (None,) * 5


def test_raw_is_the_servers_own_object_untouched() -> None:
    raw = {"input_tokens": 11, "output_tokens": 3, "total_tokens": 14, "extra": {"cost": 0.1}}
    snapshot = dict(raw)
    u = parse_usage(raw)
    assert u.raw is raw
    assert raw == snapshot
    assert u.to_dict()["raw"] is raw


def test_raw_does_not_affect_equality() -> None:
    assert parse_usage({"prompt_tokens": 1, "completion_tokens": 2}) == parse_usage(
        {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "cost": 9}
    )


@pytest.mark.parametrize("huge", [2**53, 10**400, 10**4000], ids=["2**53", "10**400", "10**4000"])
def test_absurd_counts_are_not_believed(huge: int) -> None:
    from thinkbook._usage import MAX_TOKENS

    usage = parse_usage(
        {
            "prompt_tokens": huge,
            "completion_tokens": 7,
            "total_tokens": huge,
            "completion_tokens_details": {"reasoning_tokens": huge},
            "prompt_tokens_details": {"cached_tokens": huge},
        }
    )
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (None, 7, None)
    assert usage.reasoning_tokens is None and usage.cached_tokens is None
    assert parse_usage({"prompt_tokens": MAX_TOKENS, "completion_tokens": 1}).total_tokens is None
    assert parse_usage({"prompt_tokens": MAX_TOKENS, "completion_tokens": 0}).total_tokens == MAX_TOKENS


def test_a_stream_with_absurd_usage_finishes_with_the_counts_unknown(server: Any) -> None:
    import thinkbook
    from thinkbook.testing import ScriptedResponse, openai_events

    huge = 10**400
    usage = {"prompt_tokens": huge, "completion_tokens": huge, "total_tokens": huge}
    server.enqueue(ScriptedResponse.from_sse(openai_events(["r"], ["a"], usage)))
    result = thinkbook.think("hi", model="qwen-plus", base_url=server.url + "/v1", api_key="k" * 12, display=False)
    assert result.answer == "a" and result.usage is not None and result.usage.total_tokens is None
    assert result.timings.tokens_per_second is None
