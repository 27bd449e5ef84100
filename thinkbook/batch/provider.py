"""``thinkbook.submit_batch`` and :class:`BatchJob`: the provider's own batch engine, at half price.

Flow (Bailian's OpenAI-compatible API; any server with the same ``/files`` + ``/batches`` works):
build every request with thinkbook's own request builder, split them into files by the limits
(:mod:`.lines`), upload each (``purpose=batch``), create one batch per file, and keep everything
needed afterwards in a **manifest** (JSON, next to the notebook): the job and file ids, the
``custom_id`` -> prompt table, and a local copy of each request file. The manifest is written
after every step, so a kernel restart at any point resumes where it stopped
(:meth:`BatchJob.load`), and a job the manifest holds is never submitted again: calling
``submit_batch`` with the same manifest and the same requests returns the existing job.
No key is ever written to the manifest; :meth:`BatchJob.load` takes it from the environment (or
``api_key=``) again.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._endpoints import resolve_endpoint
from .._errors import ConfigurationError, ThinkbookError
from .api import BatchAPI
from .lines import (
    BAILIAN_LIMITS,
    CHAT_URL,
    DRY_RUN_LIMITS,
    TEST_MODEL,
    TEST_URL,
    BatchLimits,
    request_line,
    split_files,
)
from .manifest import Manifest
from .prepare import plan_rows
from .progress import BatchStats, make_progress
from .result import BatchResult, BatchRow
from .vllm import export_requests, parse_output_line, read_lines, reasoning_note

__all__ = ["TERMINAL", "BatchJob", "BatchStatus", "submit_batch"]

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
# The order jobs move through; a run's status is its least advanced unfinished job's.
_ORDER = ("validating", "in_progress", "finalizing", "cancelling")
_WINDOW = re.compile(r"^(\d+)h$")
BATCH_PRICE_FACTOR = 0.5  # Bailian bills batch calls at 50% of the real-time price


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """Where a provider batch is: one status for the run, request counts, and each job's own."""

    status: str
    total: int
    completed: int
    failed: int
    jobs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def __str__(self) -> str:
        return f"{self.status}: {self.completed}/{self.total} completed, {self.failed} failed ({len(self.jobs)} job(s))"


def _check_window(window: str) -> str:
    match = _WINDOW.match(window) if isinstance(window, str) else None
    if match is None or not 24 <= int(match.group(1)) <= 336:
        raise ConfigurationError(f"completion_window must be '24h' to '336h' (hours), got {window!r}")
    return window


def _combined(statuses: list[str]) -> str:
    open_jobs = [s for s in statuses if s not in TERMINAL]
    if open_jobs:
        return min(open_jobs, key=lambda s: _ORDER.index(s) if s in _ORDER else 0)
    for bad in ("failed", "expired", "cancelled"):
        if bad in statuses:
            return bad
    return "completed"


class BatchJob:
    """A submitted provider batch, as its manifest records it. Build with :func:`submit_batch` or
    :meth:`load`.

    >>> job = thinkbook.submit_batch(questions, model="qwen-plus", manifest="runs/q-batch.json")  # doctest: +SKIP
    >>> job.wait(poll=60); r = job.results()  # doctest: +SKIP
    """

    def __init__(self, manifest: Manifest, api: BatchAPI) -> None:
        self.manifest = manifest
        self._api = api

    # --- loading and submitting -----------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, api_key: str | None = None) -> BatchJob:
        """The job a manifest holds (after a kernel restart); the key comes from the environment."""
        manifest = Manifest.read(Path(path))
        endpoint = resolve_endpoint(
            manifest.data["model"], base_url=manifest.data["base_url"], api_key=api_key, env=os.environ
        )
        return cls(manifest, BatchAPI(manifest.data["base_url"], endpoint.api_key))

    def _submit_pending(self) -> None:
        """Upload and create whatever the manifest does not hold yet (idempotent)."""
        data = self.manifest.data
        for number, job in enumerate(data["jobs"], 1):
            if not job.get("input_file_id"):
                payload = self.manifest.request_file(job).read_bytes()
                uploaded = self._api.upload(f"{self.manifest.path.stem}-{number}.jsonl", payload)
                job["input_file_id"] = str(uploaded.get("id") or "")
                if not job["input_file_id"]:
                    raise ThinkbookError("the file upload answered without a file id; nothing was created")
                self.manifest.write()
            if not job.get("batch_id"):
                created = self._api.create(
                    job["input_file_id"], data["endpoint"], data["completion_window"], dict(data.get("metadata") or {})
                )
                job["batch_id"] = str(created.get("id") or "")
                job["status"] = str(created.get("status") or "validating")
                self.manifest.write()

    # --- status ---------------------------------------------------------------------------------

    @property
    def ids(self) -> list[str]:
        """The provider's batch ids (one per input file)."""
        return [job["batch_id"] for job in self.manifest.data["jobs"] if job.get("batch_id")]

    def status(self) -> BatchStatus:
        """Ask the provider where every job is (finished jobs are not asked again)."""
        jobs = self.manifest.data["jobs"]
        changed = False
        for job in jobs:
            if job.get("status") in TERMINAL or not job.get("batch_id"):
                continue
            remote = self._api.retrieve(job["batch_id"])
            for name in ("status", "output_file_id", "error_file_id", "request_counts", "errors"):
                if remote.get(name) is not None and job.get(name) != remote.get(name):
                    job[name] = remote[name]
                    changed = True
        if changed:
            self.manifest.write()
        return self._status()

    def _status(self) -> BatchStatus:
        jobs = self.manifest.data["jobs"]
        completed = failed = 0
        for job in jobs:
            counts = job.get("request_counts") or {}
            completed += int(counts.get("completed") or 0)
            failed += int(counts.get("failed") or 0)
        views = [
            {k: job.get(k) for k in ("batch_id", "status", "model", "enable_thinking", "lines", "request_counts")}
            for job in jobs
        ]
        return BatchStatus(
            _combined([str(job.get("status") or "validating") for job in jobs]),
            total=len(self.manifest.data["rows"]),
            completed=completed,
            failed=failed,
            jobs=views,
        )

    def wait(self, poll: float = 60, *, timeout: float | None = None, progress: bool = True) -> BatchStatus:
        """Poll every ``poll`` seconds until every job has finished (or ``timeout`` seconds passed).

        Ctrl-C stops waiting, not the jobs: they go on at the provider (:meth:`cancel` stops them).
        """
        if not isinstance(poll, int | float) or isinstance(poll, bool) or poll <= 0:
            raise ConfigurationError(f"poll must be a positive number of seconds, got {poll!r}")
        started = time.monotonic()
        status = self.status()
        stats = BatchStats(total=status.total, label=f"batch {', '.join(self.ids) or '(not created)'}")
        painter = make_progress(progress, stats)
        while True:
            stats.done, stats.failed = status.completed, status.failed
            stats.running = max(status.total - status.completed - status.failed, 0) if not status.done else 0
            painter.update(stats)
            if status.done or (timeout is not None and time.monotonic() - started >= timeout):
                painter.finish(stats)
                return status
            time.sleep(poll)
            status = self.status()

    def cancel(self) -> BatchStatus:
        """Ask the provider to cancel every unfinished job (they end as ``cancelled``)."""
        for job in self.manifest.data["jobs"]:
            if job.get("batch_id") and job.get("status") not in TERMINAL:
                remote = self._api.cancel(job["batch_id"])
                job["status"] = str(remote.get("status") or "cancelling")
        self.manifest.write()
        return self._status()

    # --- results --------------------------------------------------------------------------------

    def _outcomes(self) -> dict[str, Any]:
        """custom_id -> ThinkResult or error, from every finished job's output and error files."""
        outcomes: dict[str, Any] = {}
        for number, job in enumerate(self.manifest.data["jobs"], 1):
            for kind in ("error_file_id", "output_file_id"):  # output last: a success wins
                file_id = job.get(kind)
                if not file_id:
                    continue
                local = self.manifest.download_path(number, kind)
                if not local.exists():
                    local.write_bytes(self._api.content(file_id))
                thinking_off = job.get("enable_thinking") is False
                for line in read_lines(local, "batch output file"):
                    custom_id = line.get("custom_id")
                    if isinstance(custom_id, str):
                        outcomes[custom_id] = parse_output_line(line, thinking_off=thinking_off)
        return outcomes

    def results(self) -> BatchResult:
        """Every row's result, merging the output and error files (a non-200 line is a failed row).

        Rows of an expired or cancelled job that never ran are failed rows saying so. Costs use
        half the real-time price (Bailian's batch price). Answers of a retry
        (:meth:`retry_failed`) replace the failures they retried once that retry has finished.
        """
        status = self.status()
        if not status.done:
            raise ConfigurationError(f"the batch is not finished ({status}): call .wait() first, or .status()")
        outcomes = self._outcomes()
        retry = self._finished_retry()
        if retry is not None:
            for custom_id, outcome in retry._outcomes().items():
                if not isinstance(outcome, ThinkbookError):
                    outcomes[custom_id] = outcome
        rows: list[BatchRow] = []
        job_status = {
            row["custom_id"]: job.get("status")
            for job in self.manifest.data["jobs"]
            for row in self.manifest.rows_of(job)
        }
        for entry in self.manifest.data["rows"]:
            custom_id = entry["custom_id"]
            row = BatchRow(
                entry.get("label"), entry.get("prompt"), entry.get("variant"), entry["model"], custom_id=custom_id
            )
            outcome = outcomes.get(custom_id)
            if outcome is None:
                row.error = ThinkbookError(_not_run(job_status.get(custom_id)))
            elif isinstance(outcome, ThinkbookError):
                row.error = outcome
            else:
                row.result = outcome
            rows.append(row)
        return BatchResult(rows, price_factor=BATCH_PRICE_FACTOR, note=reasoning_note(rows))

    def _finished_retry(self) -> BatchJob | None:
        path = self.manifest.data.get("retry")
        if not path:
            return None
        retry = BatchJob(Manifest.read(self.manifest.path.parent / path), self._api)
        return retry if retry.status().done else None

    def retry_failed(self) -> BatchJob:
        """Submit the failed and never-run rows again, as a new job with its own manifest.

        Asked twice, it returns the retry it already submitted (recorded in this manifest).
        """
        existing = self.manifest.data.get("retry")
        if existing:
            return BatchJob(Manifest.read(self.manifest.path.parent / existing), self._api)
        failed = {row.custom_id for row in self.results().rows if row.error is not None}
        if not failed:
            raise ConfigurationError("no row of this batch failed: there is nothing to retry")
        lines = [line for line in self.manifest.request_lines() if line["custom_id"] in failed]
        rows = [row for row in self.manifest.data["rows"] if row["custom_id"] in failed]
        path = self.manifest.path.with_name(f"{self.manifest.path.stem}.retry.json")
        limits = BatchLimits(**self.manifest.data["limits"])
        manifest = Manifest.create(
            path, {**self.manifest.data, "retry": None, "rows": rows}, split_files(lines, limits)
        )
        self.manifest.data["retry"] = path.name
        self.manifest.write()
        job = BatchJob(manifest, self._api)
        job._submit_pending()
        return job

    def export(self, path: str | os.PathLike[str], *, model: str | None = None) -> Path:
        """Write the requests as a ``vllm run-batch -i`` file (``model=`` names the served model)."""
        return export_requests(self.manifest.request_lines(), path, model=model)

    def __repr__(self) -> str:
        status = self._status()
        return f"<BatchJob {', '.join(self.ids) or '(not created)'} {status} manifest={self.manifest.path.name}>"


def _not_run(status: str | None) -> str:
    if status == "expired":
        return "not run: the batch expired (its completion_window ended) first; retry_failed() sends it again"
    if status == "cancelled":
        return "not run: the batch was cancelled before this request ran"
    if status == "failed":
        return "not run: the batch failed (see .status().jobs for the provider's errors)"
    return "no output line for this request"


def submit_batch(
    prompts: Any,
    *,
    model: str,
    region: str | None = None,
    completion_window: str = "24h",
    manifest: str | os.PathLike[str] = "thinkbook-batch.json",
    dry_run: bool = False,
    variants: dict[str, dict[str, Any]] | None = None,
    limits: BatchLimits | None = None,
    metadata: Mapping[str, str] | None = None,
    **options: Any,
) -> BatchJob:
    """Send ``prompts`` to the provider's batch API and return the :class:`BatchJob` at once.

    Options and variants are those of :func:`thinkbook.batch` (every request is built exactly as
    ``think()`` builds it, ``enable_thinking`` top-level in each body); ``region`` as in
    ``think()``. Requests are split into one file per model and thinking mode, and by Bailian's
    limits (50,000 lines, 500 MB per file, 6 MB per line: ``limits=`` to change them). The manifest
    (written next to the notebook) holds what :meth:`BatchJob.load` needs after a restart; with a
    manifest that already holds these requests, the existing job is returned, never resubmitted.
    ``dry_run=True`` sends the lines to Bailian's free ``batch-test-model`` (test URL
    ``/v1/chat/ds-test``, at most 100 lines of 1 MB): it checks the format, not the answers.
    """
    _check_window(completion_window)
    if options.get("protocol") not in (None, "openai"):
        raise ConfigurationError("the batch API takes OpenAI-compatible requests: leave protocol= out (or 'openai')")
    endpoint = resolve_endpoint(
        model,
        base_url=options.get("base_url"),
        api_key=options.get("api_key"),
        region=region,
        dialect=options.get("dialect"),
        env=os.environ,
    )
    if not endpoint.url.endswith("/chat/completions"):
        raise ConfigurationError(f"{endpoint.base_url} is not an OpenAI-compatible endpoint; the batch API needs one")
    base = endpoint.url[: -len("/chat/completions")]
    planned, _index_name, _notes = plan_rows(
        prompts, model=model, variants=variants, options={**options, "region": region}
    )
    url = TEST_URL if dry_run else CHAT_URL
    lines = []
    for row in planned:
        assert row.request is not None
        body = dict(row.request.body)
        if dry_run:
            body["model"] = TEST_MODEL
        lines.append(request_line(f"row-{row.position}", body, url))
    chosen = limits or (DRY_RUN_LIMITS if dry_run else BAILIAN_LIMITS)
    files = split_files(lines, chosen)
    fingerprint = hashlib.sha256(
        b"".join(f.data() for f in files) + f"{base}|{completion_window}|{url}".encode()
    ).hexdigest()
    path = Path(manifest).expanduser()
    api = BatchAPI(base, endpoint.api_key)
    if path.exists():
        job = BatchJob(Manifest.read(path), api)
        if job.manifest.data.get("fingerprint") != fingerprint:
            raise ConfigurationError(
                f"the manifest {path} holds another batch (other prompts or options): pass another manifest=, "
                "or BatchJob.load() it to follow that batch"
            )
        job._submit_pending()  # resumes a submit a crash interrupted; never creates a job twice
        return job
    data = {
        "thinkbook_batch": 1,
        "created_at": datetime.now(UTC).isoformat(),
        "model": model,
        "base_url": endpoint.base_url,
        "endpoint": url,
        "completion_window": completion_window,
        "dry_run": bool(dry_run),
        "fingerprint": fingerprint,
        "limits": {
            "max_lines": chosen.max_lines,
            "max_file_bytes": chosen.max_file_bytes,
            "max_line_bytes": chosen.max_line_bytes,
        },
        "metadata": dict(metadata or {}),
        "retry": None,
        "rows": [
            {
                "custom_id": f"row-{row.position}",
                "label": row.label,
                "variant": row.variant,
                "model": row.model,
                "prompt": row.prompt,
            }
            for row in planned
        ],
    }
    job = BatchJob(Manifest.create(path, data, files), api)
    job._submit_pending()
    return job
