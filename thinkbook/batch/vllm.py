"""Batch files for ``vllm run-batch``, and reading any OpenAI-style batch output into a BatchResult.

``vllm run-batch -i requests.jsonl -o output.jsonl --model M --reasoning-parser qwen3`` takes the
same line format as the provider batch; thinking is switched per line through
``body.chat_template_kwargs.enable_thinking`` (vLLM passes it to the chat template), so
:func:`export_requests` re-spells Bailian's top-level ``enable_thinking`` / ``thinking_budget``
that way. Output lines are ``{"id", "custom_id", "response": {"status_code", "request_id", "body"},
"error"}``. Where the reasoning is depends on the server and its version: ``reasoning`` (vLLM's
name since Jan 2026), ``reasoning_content`` (older vLLM, Bailian), or inline ``<think>`` tags
when no reasoning parser ran; all three are read. Bailian does not document whether its batch
output carries ``reasoning_content``: a row whose usage counts reasoning tokens but which carries
no reasoning text is marked ``reasoning_hidden`` (views say "not shown by the provider").
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError, ResponseFormatError, ThinkbookError, error_for_status, redact
from .._think_tags import ThinkTagSplitter
from .._types import AnswerDelta, AnswerWasReasoning, ReasoningDelta, ThinkResult
from .._usage import parse_usage
from .lines import encode_line
from .result import BatchResult, BatchRow

__all__ = ["export_requests", "load_batch_output", "parse_output_line", "result_from_completion"]


def _split_tags(content: str, *, bare_close: bool) -> tuple[str, str]:
    reasoning: list[str] = []
    answer: list[str] = []
    splitter = ThinkTagSplitter(bare_close=bare_close)
    for event in [*splitter.feed(content), *splitter.flush()]:
        if isinstance(event, ReasoningDelta):
            reasoning.append(event.text)
        elif isinstance(event, AnswerDelta):
            answer.append(event.text)
        elif isinstance(event, AnswerWasReasoning):
            reasoning.append("".join(answer))
            answer.clear()
    return "".join(reasoning), "".join(answer)


def result_from_completion(body: Any, *, thinking_off: bool = False) -> ThinkResult:
    """A :class:`ThinkResult` from one (non-streamed) ``chat.completion`` object."""
    if not isinstance(body, Mapping):
        raise ResponseFormatError(f"a batch answer must be a chat.completion object, got {type(body).__name__}")
    choices = body.get("choices")
    message: Mapping[str, Any] = {}
    finish_reason = None
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        found = choices[0].get("message")
        message = found if isinstance(found, Mapping) else {}
        finish = choices[0].get("finish_reason")
        finish_reason = finish if isinstance(finish, str) else None
    content = message.get("content")
    answer = content if isinstance(content, str) else ""
    reasoning = ""
    for name in ("reasoning_content", "reasoning"):
        value = message.get(name)
        if isinstance(value, str) and value:
            reasoning = value
            break
    if not reasoning and "</think>" in answer:
        reasoning, answer = _split_tags(answer, bare_close=not thinking_off)
    raw_usage = body.get("usage")
    usage = parse_usage(dict(raw_usage)) if isinstance(raw_usage, Mapping) else None
    hidden = not reasoning and usage is not None and bool(usage.reasoning_tokens)
    model, request_id = body.get("model"), body.get("id")
    return ThinkResult(
        reasoning=reasoning,
        answer=answer,
        usage=usage,
        finish_reason=finish_reason,
        model=model if isinstance(model, str) else None,
        request_id=request_id if isinstance(request_id, str) else None,
        reasoning_hidden=hidden,
    )


def parse_output_line(line: Mapping[str, Any], *, thinking_off: bool = False) -> ThinkResult | ThinkbookError:
    """One output (or error-file) line: a non-200 response or an ``error`` is a failed row."""
    error = line.get("error")
    response = line.get("response") if isinstance(line.get("response"), Mapping) else None
    status = response.get("status_code") if response is not None else None
    status = status if type(status) is int else None
    request_id = response.get("request_id") if response is not None else None
    request_id = request_id if isinstance(request_id, str) else None
    if error:
        return error_for_status(status if status and status >= 400 else None, {"error": error}, request_id=request_id)
    if response is None:
        return ResponseFormatError("the batch output line has neither a response nor an error")
    if status != 200:
        return error_for_status(status, response.get("body"), request_id=request_id)
    try:
        return result_from_completion(response.get("body"), thinking_off=thinking_off)
    except ResponseFormatError as problem:
        return problem


def read_lines(path: Path, what: str) -> list[dict[str, Any]]:
    """Every JSON line of ``path``; a line that is not a JSON object is an error naming its number."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        if not isinstance(line, dict):
            raise ConfigurationError(f"line {number} of the {what} {path} is not a JSON object: {redact(raw[:80])!r}")
        lines.append(line)
    return lines


def _prompt_of(body: Mapping[str, Any]) -> Any:
    messages = body.get("messages")
    if isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], Mapping):
        content = messages[0].get("content")
        if messages[0].get("role") == "user" and isinstance(content, str):
            return content
    return messages


def load_batch_output(path: str | os.PathLike[str], *, requests: str | os.PathLike[str] | None = None) -> BatchResult:
    """Read a batch output file (``vllm run-batch -o``, or a provider's) into a :class:`BatchResult`.

    With ``requests=`` (the input file), rows follow the input's order and carry its prompts and
    models, and a request with no output line is a failed row; without it, rows follow the output
    file and are labelled by ``custom_id``.

    >>> r = thinkbook.load_batch_output("out.jsonl", requests="requests.jsonl")  # doctest: +SKIP
    """
    outputs = read_lines(Path(path), "batch output file")
    by_id: dict[str, dict[str, Any]] = {}
    for line in outputs:
        custom_id = line.get("custom_id")
        if isinstance(custom_id, str):
            by_id[custom_id] = line
    rows: list[BatchRow] = []
    if requests is None:
        for custom_id, line in by_id.items():
            response = line.get("response")
            answer = response.get("body") if isinstance(response, Mapping) else None
            model = answer.get("model") if isinstance(answer, Mapping) else None
            row = BatchRow(custom_id, custom_id, None, model if isinstance(model, str) else "", custom_id=custom_id)
            _fill(row, parse_output_line(line))
            rows.append(row)
        return BatchResult(rows)
    for request in read_lines(Path(requests), "batch request file"):
        custom_id = str(request.get("custom_id"))
        given = request.get("body")
        body: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        row = BatchRow(custom_id, _prompt_of(body), None, str(body.get("model", "")), custom_id=custom_id)
        output = by_id.get(custom_id)
        thinking_off = _thinking_off(body)
        _fill(row, parse_output_line(output, thinking_off=thinking_off) if output is not None else None)
        rows.append(row)
    return BatchResult(rows, note=reasoning_note(rows))


def _thinking_off(body: Mapping[str, Any]) -> bool:
    kwargs = body.get("chat_template_kwargs")
    value = body.get("enable_thinking", kwargs.get("enable_thinking") if isinstance(kwargs, Mapping) else None)
    return value is False


def _fill(row: BatchRow, outcome: ThinkResult | ThinkbookError | None) -> None:
    if outcome is None:
        row.error = ThinkbookError(f"no output line for {row.custom_id}: the request did not run")
    elif isinstance(outcome, ThinkResult):
        row.result = outcome
    else:
        row.error = outcome


def reasoning_note(rows: Iterable[BatchRow]) -> str | None:
    """Say honestly when answers came back without their reasoning text."""
    done = [row.result for row in rows if row.result is not None]
    hidden = sum(1 for result in done if not result.reasoning and result.reasoning_hidden)
    if not hidden:
        return None
    return (
        f"{hidden} of {len(done)} answers used reasoning tokens but the batch output carries no reasoning text "
        "(batch output may leave out reasoning_content for some models): their reasoning is not shown"
    )


def vllm_body(body: Mapping[str, Any], model: str | None = None) -> dict[str, Any]:
    """``body`` with the thinking options spelled for vLLM (``chat_template_kwargs``)."""
    out = dict(body)
    enable = out.pop("enable_thinking", None)
    budget = out.pop("thinking_budget", None)
    out.pop("preserve_thinking", None)
    if enable is not None:
        out["chat_template_kwargs"] = {**(out.get("chat_template_kwargs") or {}), "enable_thinking": enable}
    if budget is not None:
        out["thinking_token_budget"] = budget
    if model is not None:
        out["model"] = model
    return out


def export_requests(
    lines: Iterable[Mapping[str, Any]], path: str | os.PathLike[str], *, model: str | None = None
) -> Path:
    """Write ``lines`` as a ``vllm run-batch -i`` file (thinking options re-spelled for vLLM)."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise ConfigurationError(f"{target} is a folder: name the file to write, e.g. {target / 'requests.jsonl'}")
    if not target.parent.is_dir():
        raise ConfigurationError(f"the folder {target.parent} does not exist")
    data = b"".join(
        encode_line({**line, "url": "/v1/chat/completions", "body": vllm_body(line["body"], model)}) for line in lines
    )
    target.write_bytes(data)
    return target
