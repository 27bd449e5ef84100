"""Google Gemini API: ``POST {base}/models/{model}:streamGenerateContent?alt=sse``.

Request (built in :mod:`.gemini_body`): ``contents`` with roles ``user`` / ``model``, the system
prompt as ``systemInstruction``, thinking as ``generationConfig.thinkingConfig``; the key goes in
``x-goog-api-key`` (never ``Authorization``). ``effort`` maps to ``thinkingLevel`` on Gemini 3+
and to ``thinkingBudget`` 1,024 / 8,192 / 24,576 elsewhere (the full table is in that module).

Stream: every SSE ``data`` is a whole ``GenerateContentResponse`` holding the parts generated
since the previous one (googleapis/python-genai ``types.py``):

* ``candidates[0].content.parts[]``: a part with ``"thought": true`` is thought-summary text,
  any other ``text`` is answer text;
* a ``functionCall`` part is a requested call, sent whole: one ``tool_calls`` delta with its
  ``args`` as JSON text and its ``thoughtSignature`` (and ``id``) as the call's own state
  (:mod:`.gemini_tools`);
* ``candidates[0].finishReason`` (``STOP``, ``MAX_TOKENS``, ``SAFETY``...) ends the response:
  it becomes ``finish_reason``: ``"stop"``, ``"length"`` for ``MAX_TOKENS`` (as OpenAI and Anthropic
  are told), others lower-cased (``"safety"``), and
  ``"tool_calls"`` for a ``STOP`` after function calls (Gemini has no finish reason of its own
  for them); there is no ``[DONE]``;
* ``usageMetadata`` is cumulative (each chunk carries the totals so far): ``promptTokenCount``
  (cache included) -> prompt tokens, ``candidatesTokenCount`` + ``thoughtsTokenCount`` ->
  completion tokens (the answer count excludes thoughts, thinkbook's includes them),
  ``thoughtsTokenCount`` -> reasoning tokens, ``cachedContentTokenCount`` -> cached tokens;
* ``responseId`` -> request id, ``modelVersion`` -> model;
* ``promptFeedback.blockReason`` without candidates: the prompt was blocked (an in-stream error,
  code ``PROMPT_BLOCKED``); ``{"error": {"code", "message", "status"}}`` is an error, before
  the stream or as a data line inside it.

Thought tokens reported while no thought text came (Gemini 3 often thinks without summaries)
set ``reasoning_hidden``. ``thoughtSignature``s (on text and ``functionCall`` parts, in streams
possibly on a final part with empty text) must go back to the model: the parser keeps the turn's
parts as received, joining only adjacent plain text parts of the same kind (never a part that
carries a signature, as the thought-signature docs require), and :meth:`turn_state` returns them
when one carries a signature. The next request sends them as that turn's ``model`` content,
unchanged (unless the answer was edited since); unsigned thought-summary parts go back only with
``preserve_thinking=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._errors import ConfigurationError
from .._sse import ServerSentEvent
from .._types import Usage
from .._usage import MAX_TOKENS
from .._wire import WireChunk, loads_json
from .base import EFFORTS, BodyInput, ErrorFields, Message, ProviderSpec, ThinkingOptions, WireProtocol
from .gemini_body import contents_and_system, model_id, thinking_config
from .gemini_tools import call_delta, tool_fields
from .openai import error_status, response_format_error
from .tool_specs import refuse_search

__all__ = ["PROTOCOL", "GeminiChunkParser", "GeminiProtocol"]

# The reasons every other protocol spells the OpenAI way (so a cut answer says "length" whatever the API).
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length"}

HOST = "generativelanguage.googleapis.com"
DEFAULT_BASE_URL = f"https://{HOST}/v1beta"
EXPECTED = "a Gemini GenerateContentResponse (streamGenerateContent?alt=sse)"

_loads = loads_json
# Keys a GenerateContentResponse may have: a JSON object with none of them is another protocol's.
_RESPONSE_KEYS = ("candidates", "usageMetadata", "modelVersion", "responseId", "promptFeedback", "createTime")
# A part with only these keys carries nothing but text: the one kind safe to join with its neighbour.
_PLAIN = frozenset(("text", "thought"))
# ErrorInfo reasons that say more than the RPC status (an invalid key is a 400 INVALID_ARGUMENT).
_REASONS = frozenset(("API_KEY_INVALID",))


def _count(value: object) -> int | None:
    if type(value) is int and 0 <= value <= MAX_TOKENS:
        return value
    return None


def _usage(raw: dict[str, Any]) -> Usage:
    """``usageMetadata`` as :class:`Usage` (see the module docstring for the mapping).

    It comes on every chunk, so the two counts always present are checked inline.
    """
    get = raw.get
    prompt = get("promptTokenCount")
    if type(prompt) is not int or not 0 <= prompt <= MAX_TOKENS:
        prompt = None
    total = get("totalTokenCount")
    if type(total) is not int or not 0 <= total <= MAX_TOKENS:
        total = None
    answer = _count(get("candidatesTokenCount")) if "candidatesTokenCount" in raw else None
    thoughts = _count(get("thoughtsTokenCount")) if "thoughtsTokenCount" in raw else None
    if "toolUsePromptTokenCount" in raw:
        tool_prompt = _count(get("toolUsePromptTokenCount"))
        if prompt is not None and tool_prompt:
            # Tool results are input too: keeps prompt + completion = totalTokenCount.
            prompt += tool_prompt
    completion = None if answer is None and thoughts is None else (answer or 0) + (thoughts or 0)
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    cached = _count(get("cachedContentTokenCount")) if "cachedContentTokenCount" in raw else None
    return Usage(prompt, completion, total, thoughts, cached, raw)


def _blocked(feedback: dict[str, Any]) -> dict[str, Any]:
    """The error for a prompt Gemini refused to answer (``promptFeedback.blockReason``)."""
    reason = feedback.get("blockReason")
    detail = feedback.get("blockReasonMessage")
    message = f"Gemini blocked the prompt (blockReason {reason})"
    if isinstance(detail, str) and detail:
        message += f": {detail}"
    message += "; rephrase the prompt (or check the request's safetySettings)"
    error = {"code": "PROMPT_BLOCKED", "status": "PROMPT_BLOCKED", "message": message}
    return {"error": error, "promptFeedback": feedback}


class GeminiChunkParser:
    """Parses the SSE events of one ``streamGenerateContent`` response, in order.

    Returns a :class:`WireChunk` per event with text, usage, a finish reason, a model or an id;
    ``None`` for an empty one; raises :class:`~thinkbook.ResponseFormatError` for data that is
    not a Gemini response.

    >>> p = GeminiChunkParser()
    >>> p.parse(ServerSentEvent('{"candidates":[{"content":{"parts":[{"text":"hm","thought":true}]}}]}')).reasoning
    'hm'
    >>> p.parse(ServerSentEvent('{"candidates":[{"content":{"parts":[]},"finishReason":"STOP"}]}')).finish_reason
    'stop'
    """

    __slots__ = ("_answer_seen", "_calls", "_parts", "_run", "_run_thought", "_signed", "_thought_seen")

    def __init__(self) -> None:
        self._parts: list[dict[str, Any]] = []  # the turn's parts so far, run of plain text excluded
        self._run: list[str] = []  # texts of the open run of plain parts (joined once, at the end)
        self._run_thought = False
        self._signed = False
        self._thought_seen = False
        self._answer_seen = False
        self._calls = 0  # functionCall parts seen

    def parse(self, event: ServerSentEvent) -> WireChunk | None:
        """Decode one event (see the class docstring)."""
        data = event.data
        try:
            obj = _loads(data)
        except ValueError:
            if not data.strip():
                return None
            raise response_format_error(data, EXPECTED) from None
        if type(obj) is not dict:
            raise response_format_error(data, EXPECTED)
        if "error" in obj:
            error = obj["error"]
            if type(error) is not dict:
                obj = {"error": {"message": error if type(error) is str else data}}
                error = obj["error"]
            return WireChunk(error=obj, error_status=error_status(error.get("code")))

        reasoning = content = ""
        finish: str | None = None
        tool_calls: list[dict[str, Any]] | None = None
        candidates = obj.get("candidates")
        if candidates and type(candidates) is list:
            candidate = candidates[0]
            if type(candidate) is dict:
                body = candidate.get("content")
                parts = body.get("parts") if type(body) is dict else None
                if parts and type(parts) is list:
                    for part in parts:
                        if type(part) is not dict:
                            continue
                        text = part.get("text")
                        if text and type(text) is str:
                            if part.get("thought") is True:
                                reasoning += text
                            else:
                                content += text
                        elif "functionCall" in part:
                            delta = call_delta(part, self._calls)
                            if delta is not None:
                                self._calls += 1
                                tool_calls = [*(tool_calls or ()), delta]
                        self._keep(part, text)
                reason = candidate.get("finishReason")
                if reason and type(reason) is str:
                    finish = "tool_calls" if reason == "STOP" and self._calls else _FINISH.get(reason, reason.lower())
        else:
            feedback = obj.get("promptFeedback")
            if type(feedback) is dict and feedback.get("blockReason"):
                request_id = obj.get("responseId")
                return WireChunk(
                    request_id=request_id if type(request_id) is str and request_id else None,
                    error=_blocked(feedback),
                )

        raw_usage = obj.get("usageMetadata")
        usage = _usage(raw_usage) if raw_usage and type(raw_usage) is dict else None
        model = obj.get("modelVersion")
        if type(model) is not str or not model:
            model = None
        request_id = obj.get("responseId")
        if type(request_id) is not str or not request_id:
            request_id = None
        if not (reasoning or content or finish or usage or model or request_id or tool_calls):
            if obj and not any(key in obj for key in _RESPONSE_KEYS):
                raise response_format_error(data, EXPECTED)
            return None
        if reasoning:
            self._thought_seen = True
        if content:
            self._answer_seen = True
        chunk = WireChunk(reasoning, content, usage, finish, model, request_id)
        chunk.tool_calls = tool_calls
        if (
            usage is not None
            and usage.reasoning_tokens
            and not self._thought_seen
            and (self._answer_seen or finish is not None)
        ):
            # Thought tokens were spent and the answer has begun (or ended) without any summary.
            chunk.reasoning_hidden = True
        return chunk

    def _keep(self, part: dict[str, Any], text: object) -> None:
        """Record ``part`` for :meth:`turn_state`: plain text joins the open run of its kind."""
        if type(text) is str and part.keys() <= _PLAIN:
            thought = part.get("thought") is True
            if self._run and thought != self._run_thought:
                self._close_run()
            if text:
                self._run.append(text)
                self._run_thought = thought
            return
        self._close_run()
        if "thoughtSignature" in part:
            self._signed = True
        self._parts.append(part)

    def _close_run(self) -> None:
        if self._run:
            self._parts.append(self._run_part())
            self._run = []

    def _run_part(self) -> dict[str, Any]:
        part: dict[str, Any] = {"text": "".join(self._run)}
        if self._run_thought:
            part["thought"] = True
        return part

    def turn_state(self) -> dict[str, Any] | None:
        """``{"protocol": "gemini", "parts": [...]}`` when a part carried a ``thoughtSignature``
        (the model turn as received, to send back), else None: plain text needs no state."""
        if not self._signed:
            return None
        parts = [*self._parts, self._run_part()] if self._run else list(self._parts)
        return {"protocol": "gemini", "parts": parts}


def error_fields(body: Any) -> ErrorFields:
    """(code, message, None) from ``{"error": {"code": 429, "message", "status":
    "RESOURCE_EXHAUSTED", "details": [...]}}`` (also wrapped in a list, as non-SSE streams send
    it, or the inner object alone). The code is the RPC ``status``; an ``ErrorInfo`` reason in
    :data:`_REASONS` wins (``API_KEY_INVALID`` arrives as a 400 ``INVALID_ARGUMENT``)."""
    if type(body) is list and body:
        body = body[0]
    if not isinstance(body, dict):
        return None, None, None
    error = body.get("error")
    if isinstance(error, str):
        return None, error or None, None
    if not isinstance(error, dict):
        error = body
    code: object = error.get("status") or error.get("code")
    details = error.get("details")
    if isinstance(details, list):
        for detail in details:
            if isinstance(detail, dict) and detail.get("reason") in _REASONS:
                code = detail["reason"]
    message = error.get("message")
    return (
        str(code) if code not in (None, "") else None,
        str(message) if message not in (None, "") else None,
        None,
    )


def _is_google_host(host: str) -> bool:
    return host == HOST


class GeminiProtocol(WireProtocol):
    """The Gemini API's ``streamGenerateContent`` (see the module docstring)."""

    name: ClassVar[str] = "gemini"
    title: ClassVar[str] = "Google Gemini API (streamGenerateContent)"
    expected: ClassVar[str] = EXPECTED
    providers: ClassVar[tuple[ProviderSpec, ...]] = (
        ProviderSpec(
            name="google",
            protocol="gemini",
            default_base_url=DEFAULT_BASE_URL,
            key_variables=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            owns_host=_is_google_host,
            model_prefixes=("gemini-",),
        ),
    )

    def path(self, model: str, *, base_url: str) -> str:
        """``/models/{model}:streamGenerateContent?alt=sse`` (``alt=sse`` asks for SSE framing)."""
        return f"/models/{model_id(model)}:streamGenerateContent?alt=sse"

    def headers(self, api_key: str | None) -> dict[str, str]:
        """JSON in, SSE out; the key in ``x-goog-api-key``."""
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            headers["x-goog-api-key"] = api_key
        return headers

    def build_body(self, request: BodyInput) -> dict[str, Any]:
        """``contents``, ``systemInstruction``, ``tools`` / ``toolConfig`` and
        ``generationConfig.thinkingConfig``."""
        refuse_search(request.search, self.title)
        tools = tool_fields(request.tools, request.tool_choice)
        contents, system = contents_and_system(request)
        body: dict[str, Any] = {"contents": contents}
        if system is not None:
            body["systemInstruction"] = system
        body.update(tools)
        body["generationConfig"] = {"thinkingConfig": thinking_config(request.model, request.thinking)}
        return body

    def new_parser(self) -> GeminiChunkParser:
        return GeminiChunkParser()

    def recorded_history(self, body: Mapping[str, Any]) -> list[Message]:
        """``contents`` as chat messages: ``model`` turns are the assistant's, text parts joined."""
        contents = body.get("contents")
        history: list[Message] = []
        for turn in contents if isinstance(contents, list) else []:
            if isinstance(turn, dict):
                parts = turn.get("parts")
                text = [p for p in parts if isinstance(p, dict) and "text" in p] if isinstance(parts, list) else []
                role = "assistant" if turn.get("role") == "model" else str(turn.get("role", "user"))
                history.append({"role": role, "content": text})
        return history

    def recorded_thinking(self, body: Mapping[str, Any]) -> ThinkingOptions:
        """A ``thinkingBudget`` of 0 is thinking off, a positive one the user's budget; anything
        else leaves it to the model. A ``thinkingLevel`` thinkbook sends is an effort."""
        config = body.get("generationConfig")
        thinking = config.get("thinkingConfig") if isinstance(config, Mapping) else None
        if not isinstance(thinking, Mapping):
            return ThinkingOptions()
        budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
        budget = budget if isinstance(budget, int) and not isinstance(budget, bool) else None
        return ThinkingOptions(
            enable=False if budget == 0 else True if budget is not None and budget > 0 else None,
            budget=budget if budget is not None and budget > 0 else None,
            effort=level if level in EFFORTS else None,
        )

    def error_fields(self, body: Any) -> ErrorFields:
        return error_fields(body)

    def check_base(self, base_url: str, provider: ProviderSpec, *, shown: str) -> None:
        """Refuse a base URL that already holds a model path, and Google's host without an API
        version or at its OpenAI-compatible path (both would only ever answer 404)."""
        parts = urlsplit(base_url)
        path = parts.path.rstrip("/")
        if "/models/" in path + "/" or ":generatecontent" in path.lower() or ":streamgeneratecontent" in path.lower():
            raise ConfigurationError(
                f"base_url {shown} already holds a model path: pass the part before /models/, e.g. {DEFAULT_BASE_URL}, "
                "and the model as model=..."
            )
        if (parts.hostname or "").lower() != HOST:
            return
        if not path:
            raise ConfigurationError(f"base_url {shown} has no API version: use {DEFAULT_BASE_URL}")
        if "openai" in path.lower().split("/"):
            raise ConfigurationError(
                f"{shown} is Gemini's OpenAI-compatible endpoint: use protocol='openai' with it, or "
                f"protocol='gemini' with {DEFAULT_BASE_URL}"
            )

    def claims(self, host: str, path: str) -> bool:
        """Google's API host, except its OpenAI-compatible ``/v1beta/openai`` (the openai protocol's)."""
        return host == HOST and "openai" not in path.lower().split("/")


PROTOCOL = GeminiProtocol()
