"""A loopback chat-completions server that counts concurrent streams and can throttle above N.

Built on :class:`thinkbook.testing.LoopbackServer`: each request is answered with a streamed
answer that names its prompt (``answer to <prompt>``), so tests can check the order of results.
``throttle_above=N`` answers 429 (Bailian's ``Throttling.RateQuota`` body, with ``Retry-After``)
to any request that arrives while N streams are already open.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from thinkbook.testing import LoopbackServer, RecordedRequest, ScriptedResponse, openai_events, sse_chunks


def prompt_of(request: RecordedRequest) -> str:
    body = request.json()
    return str(body["messages"][-1]["content"])


class CountingServer(LoopbackServer):
    """Streams ``pieces`` answer chunks ``delay`` seconds apart; counts streams open at once."""

    def __init__(
        self,
        *,
        delay: float = 0.01,
        pieces: int = 3,
        first_byte_delay: float = 0.0,
        throttle_above: int | None = None,
        retry_after: str | None = "0.05",
        fail: dict[str, int] | None = None,
    ) -> None:
        super().__init__(self._respond)
        self.delay = delay
        self.pieces = pieces
        self.first_byte_delay = first_byte_delay
        self.throttle_above = throttle_above
        self.retry_after = retry_after
        self.fail = dict(fail or {})  # prompt -> number of 500s to answer first
        self.active = 0
        self.peak = 0
        self.throttled = 0
        self.streams = 0
        self._lock = threading.Lock()

    def _respond(self, request: RecordedRequest) -> ScriptedResponse:
        prompt = prompt_of(request)
        with self._lock:
            if self.fail.get(prompt, 0) > 0:
                self.fail[prompt] -= 1
                return ScriptedResponse.from_json({"error": {"message": "boom", "code": "internal_error"}}, status=500)
        body = request.json()
        thinking = body.get("enable_thinking")
        reasoning = [f"thinking about {prompt}"] if thinking is not False else []
        text = f"answer to {prompt}"
        size = max(1, -(-len(text) // self.pieces))  # ceil: at most `pieces` chunks
        answer = [text[i : i + size] for i in range(0, len(text), size)]
        usage = {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": 3}  # type: ignore[assignment]
        events = openai_events(reasoning, answer, usage, model=str(body.get("model")))
        return ScriptedResponse(body=sse_chunks(events), delay=self.delay, first_byte_delay=self.first_byte_delay)

    async def _send(self, conn: Any, request: RecordedRequest, response: ScriptedResponse, close: bool) -> bool:
        with self._lock:
            throttle = self.throttle_above is not None and self.active >= self.throttle_above
            if throttle:
                self.throttled += 1
            else:
                self.active += 1
                self.streams += 1
                self.peak = max(self.peak, self.active)
        if throttle:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            body = {"error": {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded"}}
            throttled = ScriptedResponse(status=429, body=json.dumps(body).encode(), headers=headers)
            return await super()._send(conn, request, throttled, close)  # type: ignore[misc]
        try:
            return await super()._send(conn, request, response, close)  # type: ignore[misc]
        finally:
            with self._lock:
                self.active -= 1

    def base_url(self) -> str:
        # "/compatible-mode/" makes thinkbook spell the thinking options the Bailian way.
        return f"{self.url}/compatible-mode/v1"
