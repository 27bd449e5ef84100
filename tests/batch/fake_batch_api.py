"""A loopback emulation of the OpenAI-compatible ``/files`` + ``/batches`` API (Bailian's shape).

Each ``GET /batches/{id}`` moves a job one step along validating -> in_progress -> finalizing ->
completed (or, with ``expire=True``, validating -> in_progress -> expired after answering only the
first ``expire_after`` lines). At the end the job's output file answers every input line with a
chat.completion naming the prompt; a prompt containing ``FAIL`` goes to the error file instead, and
one containing ``BAD`` is a non-200 line *inside* the output file. ``reasoning_field`` picks where
the reasoning goes (``reasoning_content``, ``reasoning``, ``think_tags`` in the content, or None).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import threading
from typing import Any

from thinkbook.testing import LoopbackServer, RecordedRequest, ScriptedResponse

_STEPS = ("validating", "in_progress", "finalizing", "completed")


def _multipart(request: RecordedRequest) -> dict[str, tuple[str | None, bytes]]:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        parts[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return parts


class FakeBatchAPI:
    def __init__(
        self, *, expire: bool = False, expire_after: int = 1, reasoning_field: str | None = "reasoning_content"
    ) -> None:
        self.files: dict[str, bytes] = {}
        self.file_purposes: dict[str, str] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.expire = expire
        self.expire_after = expire_after
        self.reasoning_field = reasoning_field
        self.created = 0
        self.uploads = 0
        self._lock = threading.Lock()
        self.server = LoopbackServer(self._respond)

    def __enter__(self) -> FakeBatchAPI:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/compatible-mode/v1"

    # --- the endpoints --------------------------------------------------------------------------

    def _respond(self, request: RecordedRequest) -> ScriptedResponse:
        if request.headers.get("authorization") != "Bearer sk-batch-test":
            return ScriptedResponse.from_json({"error": {"code": "invalid_api_key", "message": "bad key"}}, status=401)
        path = request.path.split("/compatible-mode/v1", 1)[-1]
        with self._lock:
            if request.method == "POST" and path == "/files":
                return self._upload(request)
            if request.method == "POST" and path == "/batches":
                return self._create(request.json())
            match = re.fullmatch(r"/batches/([\w-]+)(/cancel)?", path)
            if match and request.method == "GET" and not match.group(2):
                return self._retrieve(match.group(1))
            if match and request.method == "POST" and match.group(2):
                return self._cancel(match.group(1))
            match = re.fullmatch(r"/files/([\w-]+)/content", path)
            if match and request.method == "GET":
                data = self.files.get(match.group(1))
                if data is None:
                    return ScriptedResponse.from_json({"error": {"message": "no such file"}}, status=404)
                return ScriptedResponse(body=data, headers={"Content-Type": "application/jsonl"})
        return ScriptedResponse.from_json({"error": {"message": f"unknown {request.method} {path}"}}, status=404)

    def _upload(self, request: RecordedRequest) -> ScriptedResponse:
        parts = _multipart(request)
        purpose = parts.get("purpose", (None, b""))[1].decode()
        if purpose != "batch" or "file" not in parts:
            return ScriptedResponse.from_json({"error": {"message": "purpose must be batch"}}, status=400)
        self.uploads += 1
        file_id = f"file-batch-{self.uploads}"
        self.files[file_id] = parts["file"][1]
        self.file_purposes[file_id] = purpose
        return ScriptedResponse.from_json(
            {
                "id": file_id,
                "object": "file",
                "bytes": len(parts["file"][1]),
                "filename": parts["file"][0],
                "purpose": "batch",
            }
        )

    def _create(self, payload: dict[str, Any]) -> ScriptedResponse:
        file_id = payload.get("input_file_id")
        if file_id not in self.files:
            return ScriptedResponse.from_json({"error": {"message": "unknown input_file_id"}}, status=400)
        lines = [json.loads(line) for line in self.files[file_id].decode().splitlines() if line.strip()]
        for line in lines:
            if line["url"] != payload["endpoint"]:
                return ScriptedResponse.from_json({"error": {"message": "line url differs from endpoint"}}, status=400)
        models = {line["body"]["model"] for line in lines}
        modes = {line["body"].get("enable_thinking") for line in lines}
        if len(models) > 1 or len(modes) > 1:
            return ScriptedResponse.from_json(
                {"error": {"message": "one model and one thinking mode per file"}}, status=400
            )
        self.created += 1
        batch = {
            "id": f"batch_{self.created}",
            "object": "batch",
            "endpoint": payload["endpoint"],
            "input_file_id": file_id,
            "completion_window": payload["completion_window"],
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": payload.get("metadata"),
            "_lines": lines,
        }
        self.batches[batch["id"]] = batch
        return ScriptedResponse.from_json(self._public(batch))

    @staticmethod
    def _public(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    def _retrieve(self, batch_id: str) -> ScriptedResponse:
        batch = self.batches.get(batch_id)
        if batch is None:
            return ScriptedResponse.from_json({"error": {"message": "no such batch"}}, status=404)
        status = batch["status"]
        if status == "cancelling":
            batch["status"] = "cancelled"
        elif status in _STEPS[:-1]:
            following = _STEPS[_STEPS.index(status) + 1]
            if self.expire and following == "finalizing":
                self._finish(batch, batch["_lines"][: self.expire_after])
                batch["status"] = "expired"
            else:
                if following == "completed":
                    self._finish(batch, batch["_lines"])
                batch["status"] = following
        return ScriptedResponse.from_json(self._public(batch))

    def _cancel(self, batch_id: str) -> ScriptedResponse:
        batch = self.batches.get(batch_id)
        if batch is None:
            return ScriptedResponse.from_json({"error": {"message": "no such batch"}}, status=404)
        if batch["status"] not in ("completed", "failed", "expired", "cancelled"):
            batch["status"] = "cancelling"
        return ScriptedResponse.from_json(self._public(batch))

    # --- answering ------------------------------------------------------------------------------

    def _answer(self, line: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        prompt = line["body"]["messages"][-1]["content"]
        custom_id = line["custom_id"]
        if "FAIL" in prompt:
            error = {"code": "InvalidParameter", "message": f"cannot answer {prompt}"}
            return "error", {"id": f"r-{custom_id}", "custom_id": custom_id, "response": None, "error": error}
        if "BAD" in prompt:
            body = {"error": {"code": "DataInspectionFailed", "message": "inappropriate content"}}
            response = {"status_code": 400, "request_id": f"req-{custom_id}", "body": body}
            return "output", {"id": f"r-{custom_id}", "custom_id": custom_id, "response": response, "error": None}
        thinking = line["body"].get("enable_thinking", True) is not False
        message: dict[str, Any] = {"role": "assistant", "content": f"answer to {prompt}"}
        if thinking and self.reasoning_field == "think_tags":
            message["content"] = f"<think>thinking about {prompt}</think>\n\nanswer to {prompt}"
        elif thinking and self.reasoning_field:
            message[self.reasoning_field] = f"thinking about {prompt}"
        usage = {"prompt_tokens": 12, "completion_tokens": 20, "total_tokens": 32}
        if thinking:
            usage["completion_tokens_details"] = {"reasoning_tokens": 8}  # type: ignore[assignment]
        body = {
            "id": f"chatcmpl-{custom_id}",
            "object": "chat.completion",
            "model": line["body"]["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
        response = {"status_code": 200, "request_id": f"req-{custom_id}", "body": body}
        return "output", {"id": f"r-{custom_id}", "custom_id": custom_id, "response": response, "error": None}

    def _finish(self, batch: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        output: list[str] = []
        errors: list[str] = []
        completed = failed = 0
        for line in lines:
            kind, answer = self._answer(line)
            text = json.dumps(answer, ensure_ascii=False)
            if kind == "error":
                errors.append(text)
                failed += 1
            else:
                output.append(text)
                ok = answer["response"]["status_code"] == 200
                completed += ok
                failed += not ok
        if output:
            file_id = f"file-out-{batch['id']}"
            self.files[file_id] = ("\n".join(output) + "\n").encode()
            batch["output_file_id"] = file_id
        if errors:
            file_id = f"file-err-{batch['id']}"
            self.files[file_id] = ("\n".join(errors) + "\n").encode()
            batch["error_file_id"] = file_id
        batch["request_counts"] = {"total": len(batch["_lines"]), "completed": completed, "failed": failed}
