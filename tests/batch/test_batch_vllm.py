"""The vllm run-batch file round trip, and reading reasoning wherever a batch output puts it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import thinkbook
from thinkbook import BadRequestError, ConfigurationError
from thinkbook.batch.vllm import parse_output_line, result_from_completion

from .fake_batch_api import FakeBatchAPI

MODES = {"on": {"enable_thinking": True}, "off": {"enable_thinking": False}}


def _completion(message: dict[str, Any], reasoning_tokens: int | None = 5) -> dict[str, Any]:
    usage: dict[str, Any] = {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}
    if reasoning_tokens is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "model": "Qwen/Qwen3-8B",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        "usage": usage,
    }


@pytest.mark.parametrize(
    "message",
    [
        {"content": "42", "reasoning": "six times seven"},  # vLLM since Jan 2026
        {"content": "42", "reasoning_content": "six times seven"},  # older vLLM, Bailian
        {"content": "<think>\nsix times seven\n</think>\n\n42"},  # no reasoning parser
        {"content": "six times seven\n</think>\n\n42"},  # template pre-filled <think>
    ],
)
def test_reasoning_is_read_from_every_place_servers_put_it(message: dict[str, Any]) -> None:
    result = result_from_completion(_completion(message))
    assert (result.reasoning, result.answer) == ("six times seven", "42")
    assert result.usage is not None and result.usage.reasoning_tokens == 5 and not result.reasoning_hidden


def test_no_reasoning_text_with_reasoning_tokens_is_marked_hidden() -> None:
    assert result_from_completion(_completion({"content": "42"})).reasoning_hidden
    assert not result_from_completion(_completion({"content": "42"}, reasoning_tokens=None)).reasoning_hidden


def test_error_lines_are_failed_rows() -> None:
    error = {"code": "invalid_request_error", "message": "too long"}
    inline = parse_output_line({"custom_id": "r", "response": {"status_code": 400, "body": {"error": error}}})
    assert isinstance(inline, BadRequestError) and inline.status_code == 400
    only_error = parse_output_line({"custom_id": "r", "response": None, "error": error})
    assert isinstance(only_error, thinkbook.ThinkbookError) and "too long" in str(only_error)


def _fake_vllm_run_batch(requests: Path, output: Path, skip: str) -> None:
    """What `vllm run-batch --reasoning-parser qwen3` writes: one line per input, in order."""
    out = []
    for raw in requests.read_text().splitlines():
        line = json.loads(raw)
        if line["custom_id"] == skip:
            continue
        body = line["body"]
        thinks = body.get("chat_template_kwargs", {}).get("enable_thinking", True)
        prompt = body["messages"][-1]["content"]
        message = {"content": f"answer to {prompt}", "reasoning": f"thinking about {prompt}" if thinks else None}
        response = {"status_code": 200, "request_id": "vllm-batch-1", "body": _completion(message)}
        out.append(json.dumps({"id": "vllm-1", "custom_id": line["custom_id"], "response": response, "error": None}))
    output.write_text("\n".join(out) + "\n")


def test_export_for_vllm_then_load_its_output(tmp_path: Path) -> None:
    with FakeBatchAPI() as api:
        job = thinkbook.submit_batch(
            ["a", "b"],
            model="qwen-plus",
            base_url=api.base_url,
            api_key="sk-batch-test",
            manifest=tmp_path / "b.json",
            variants={"on": {"enable_thinking": True, "thinking_budget": 100}, "off": {"enable_thinking": False}},
        )
        requests = job.export(tmp_path / "vllm-in.jsonl", model="Qwen/Qwen3-8B")
    lines = [json.loads(line) for line in requests.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == ["row-0", "row-2", "row-1", "row-3"]  # file order: by mode
    on, off = lines[0]["body"], lines[2]["body"]
    assert on["chat_template_kwargs"] == {"enable_thinking": True} and on["thinking_token_budget"] == 100
    assert off["chat_template_kwargs"] == {"enable_thinking": False}
    assert "enable_thinking" not in on and on["model"] == "Qwen/Qwen3-8B" and lines[0]["url"] == "/v1/chat/completions"

    output = tmp_path / "vllm-out.jsonl"
    _fake_vllm_run_batch(requests, output, skip="row-3")
    result = thinkbook.load_batch_output(output, requests=requests)
    assert [row.custom_id for row in result.rows] == ["row-0", "row-2", "row-1", "row-3"]
    assert result.rows[0].prompt == "a" and result.rows[0].result.reasoning == "thinking about a"  # type: ignore[union-attr]
    assert result.rows[2].result.reasoning == "" and result.rows[2].result.answer == "answer to a"  # type: ignore[union-attr]
    assert [row.custom_id for row in result.errors] == ["row-3"] and "no output line" in str(result.errors[0].error)
    alone = thinkbook.load_batch_output(output)
    assert [row.label for row in alone.rows] == ["row-0", "row-2", "row-1"] and not alone.errors


def test_unreadable_files_say_which_line(tmp_path: Path) -> None:
    bad = tmp_path / "out.jsonl"
    bad.write_text('{"custom_id": "a"}\nnot json\n')
    with pytest.raises(ConfigurationError, match="line 2"):
        thinkbook.load_batch_output(bad)
    with pytest.raises(ConfigurationError, match="cannot read"):
        thinkbook.load_batch_output(tmp_path / "missing.jsonl")
