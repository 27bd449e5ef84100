"""A small client for the OpenAI-compatible ``/files`` and ``/batches`` endpoints (Bailian's too).

These are a handful of short JSON calls per job, not streams, so a plain synchronous
``httpx.Client`` does them. Errors become thinkbook's own (:func:`error_for_status`, with the key
redacted from anything the server echoes); 429 and 5xx are retried a few times with backoff, but a
``create`` that timed out is not sent again (it may have created a job: the manifest would then not
know it, and a second one would be billed).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from .._errors import APIConnectionError, APITimeoutError, ResponseFormatError, error_for_status, redact
from .._retry import backoff_delay, is_retryable_status, parse_retry_after

__all__ = ["BatchAPI"]

_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
_ATTEMPTS = 4


class BatchAPI:
    """``base_url`` ends before ``/files`` (``.../compatible-mode/v1``). The key is never shown."""

    def __init__(self, base_url: str, api_key: str | None, *, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._client = httpx.Client(timeout=_TIMEOUT, transport=transport)

    def __repr__(self) -> str:
        return f"<BatchAPI {redact(self.base_url, self._key)}>"

    def close(self) -> None:
        self._client.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _send(self, method: str, path: str, *, resend_on_timeout: bool = True, **kwargs: Any) -> httpx.Response:
        url = self.base_url + path
        shown = redact(url, self._key)
        for attempt in range(_ATTEMPTS):
            try:
                response = self._client.request(method, url, headers=self._headers(), **kwargs)
            except httpx.TimeoutException as exc:
                if resend_on_timeout and attempt + 1 < _ATTEMPTS:
                    time.sleep(backoff_delay(attempt))
                    continue
                raise APITimeoutError(f"{method} {shown} timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                if attempt + 1 < _ATTEMPTS:
                    time.sleep(backoff_delay(attempt))
                    continue
                raise APIConnectionError(f"cannot reach {shown}: {redact(str(exc), self._key)}") from None
            if response.status_code < 400:
                return response
            if is_retryable_status(response.status_code) and attempt + 1 < _ATTEMPTS:
                time.sleep(backoff_delay(attempt, parse_retry_after(response.headers.get("retry-after"))))
                continue
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text[:2000]
            raise error_for_status(response.status_code, body, secrets=(self._key,))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            where, text = redact(str(response.url), self._key), redact(response.text[:120], self._key)
            raise ResponseFormatError(f"{where} did not answer with a JSON object: {text!r}")
        return data

    def upload(self, name: str, data: bytes) -> dict[str, Any]:
        """``POST /files`` (multipart, ``purpose=batch``): the file object (its ``id``)."""
        files = {"file": (name, data, "application/jsonl")}
        return self._json(self._send("POST", "/files", files=files, data={"purpose": "batch"}))

    def create(self, input_file_id: str, endpoint: str, window: str, metadata: dict[str, str]) -> dict[str, Any]:
        """``POST /batches``: the batch object (``id``, ``status``...)."""
        payload = {"input_file_id": input_file_id, "endpoint": endpoint, "completion_window": window}
        if metadata:
            payload["metadata"] = metadata  # type: ignore[assignment]
        return self._json(self._send("POST", "/batches", json=payload, resend_on_timeout=False))

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        return self._json(self._send("GET", f"/batches/{batch_id}"))

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return self._json(self._send("POST", f"/batches/{batch_id}/cancel"))

    def content(self, file_id: str) -> bytes:
        """``GET /files/{id}/content``: the raw JSON-lines bytes."""
        return self._send("GET", f"/files/{file_id}/content").content


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)
