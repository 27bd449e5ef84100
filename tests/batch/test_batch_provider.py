"""submit_batch / BatchJob against a loopback emulation of the /files + /batches API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import thinkbook
from thinkbook import APIConnectionError, BadRequestError, BatchJob, ConfigurationError, MissingAPIKeyError
from thinkbook.batch import BatchLimits
from thinkbook.batch.api import BatchAPI
from thinkbook.batch.prepare import prepare_call

from .fake_batch_api import FakeBatchAPI

KEY = "sk-batch-test"
MODES = {"on": {"enable_thinking": True}, "off": {"enable_thinking": False}}


@pytest.fixture
def api() -> Iterator[FakeBatchAPI]:
    with FakeBatchAPI() as fake:
        yield fake


def submit(api: FakeBatchAPI, prompts: list[str], manifest: Path, **options: object) -> BatchJob:
    options.update(model="qwen-plus", base_url=api.base_url, api_key=KEY, manifest=manifest)
    return thinkbook.submit_batch(prompts, **options)  # type: ignore[arg-type]


def test_the_whole_lifecycle(api: FakeBatchAPI, tmp_path: Path) -> None:
    manifest = tmp_path / "runs" / "q-batch.json"
    job = submit(api, ["q1", "q2 FAIL", "q3 BAD", "q4"], manifest, variants=MODES)
    assert api.uploads == 2 and api.created == 2  # one file per thinking mode
    assert set(api.file_purposes.values()) == {"batch"}
    lines = [json.loads(line) for data in api.files.values() for line in data.decode().splitlines()]
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    first = next(line for line in lines if line["custom_id"] == "row-0")
    expected = prepare_call("q1", "qwen-plus", {"base_url": api.base_url, "api_key": KEY, "enable_thinking": True}).body
    assert first["body"] == {k: v for k, v in expected.items() if k not in ("stream", "stream_options")}
    assert first["body"]["enable_thinking"] is True and "stream" not in first["body"]

    seen = [job.status().status for _ in range(3)]
    assert seen == ["in_progress", "finalizing", "completed"]
    final = job.wait(poll=0.01, progress=False)
    assert final.done and final.total == 8 and final.completed == 4 and final.failed == 4

    thinkbook.set_price("qwen-plus", input=1.0, output=2.0)
    try:
        result = job.results()
        assert result.cost is not None and result.cost.amount == pytest.approx(4 * (12 + 40) / 1e6 * 0.5)
    finally:
        thinkbook.clear_prices()
    assert [row.custom_id for row in result.rows] == [f"row-{i}" for i in range(8)]
    assert [row.variant for row in result.rows][:2] == ["on", "off"]
    assert result.rows[0].result.reasoning == "thinking about q1" and result.rows[0].prompt == "q1"  # type: ignore[union-attr]
    assert result.rows[1].result.reasoning == ""  # type: ignore[union-attr]
    errors = {row.custom_id: row.error for row in result.errors}
    assert set(errors) == {"row-2", "row-3", "row-4", "row-5"}
    assert isinstance(errors["row-2"], BadRequestError) and "cannot answer" in str(errors["row-2"])  # error file
    assert isinstance(errors["row-4"], BadRequestError) and errors["row-4"].status_code == 400  # non-200 line
    assert KEY not in manifest.read_text() and all(KEY not in p.read_text() for p in tmp_path.glob("runs/*"))


def test_manifest_reload_and_no_resubmit(api: FakeBatchAPI, tmp_path: Path) -> None:
    manifest = tmp_path / "b.json"
    job = submit(api, ["a", "b"], manifest)
    again = submit(api, ["a", "b"], manifest)
    assert again.ids == job.ids and api.created == 1 and api.uploads == 1
    loaded = BatchJob.load(manifest, api_key=KEY)
    assert loaded.ids == job.ids
    loaded.wait(poll=0.01, progress=False)
    assert [r.answer for r in loaded.results()] == ["answer to a", "answer to b"]  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError, match="holds another batch"):
        submit(api, ["a", "c"], manifest)
    with pytest.raises(ConfigurationError, match="no batch manifest"):
        BatchJob.load(tmp_path / "missing.json", api_key=KEY)


def test_a_submit_interrupted_after_the_upload_resumes_without_a_second_upload(
    api: FakeBatchAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "b.json"
    real_create = BatchAPI.create

    def broken(self: BatchAPI, *args: object) -> dict[str, object]:
        raise APIConnectionError("network gone")

    monkeypatch.setattr(BatchAPI, "create", broken)
    with pytest.raises(APIConnectionError):
        submit(api, ["a", "b"], manifest)
    saved = json.loads(manifest.read_text())["jobs"][0]
    assert saved["input_file_id"] and not saved["batch_id"] and api.uploads == 1
    monkeypatch.setattr(BatchAPI, "create", real_create)
    job = submit(api, ["a", "b"], manifest)
    assert api.uploads == 1 and api.created == 1 and len(job.ids) == 1


def test_an_expired_job_fails_the_rows_it_never_ran_and_retry_failed_sends_them_once(tmp_path: Path) -> None:
    with FakeBatchAPI(expire=True, expire_after=1) as api:
        job = submit(api, ["a", "b", "c"], tmp_path / "b.json")
        assert job.wait(poll=0.01, progress=False).status == "expired"
        result = job.results()
        assert result.rows[0].ok and [str(row.error)[:18] for row in result.errors] == ["not run: the batch"] * 2
        api.expire = False
        retry = job.retry_failed()
        assert api.created == 2 and retry.manifest.data["rows"][0]["prompt"] == "b"
        assert job.retry_failed().ids == retry.ids and api.created == 2  # never twice
        retry.wait(poll=0.01, progress=False)
        merged = BatchJob.load(tmp_path / "b.json", api_key=KEY).results()
        assert not merged.errors and [r.answer for r in merged] == ["answer to a", "answer to b", "answer to c"]  # type: ignore[union-attr]


def test_cancel(api: FakeBatchAPI, tmp_path: Path) -> None:
    job = submit(api, ["a", "b"], tmp_path / "b.json")
    assert job.cancel().status == "cancelling"
    assert job.status().status == "cancelled"
    assert all("cancelled" in str(row.error) for row in job.results().errors)


def test_files_are_split_by_model_thinking_mode_and_limits(api: FakeBatchAPI, tmp_path: Path) -> None:
    prompts = [f"q{i}" for i in range(7)]
    job = submit(api, prompts, tmp_path / "b.json", limits=BatchLimits(max_lines=3))
    assert [j["lines"] for j in job.manifest.data["jobs"]] == [3, 3, 1] and api.created == 3
    small = BatchLimits(max_file_bytes=600)
    job = submit(api, prompts, tmp_path / "c.json", limits=small)
    assert all(j["bytes"] <= 600 for j in job.manifest.data["jobs"]) and len(job.ids) > 1
    uploads = api.uploads
    with pytest.raises(ConfigurationError, match=r"row-1 is .* bytes, above"):
        submit(api, ["short", "long " * 200], tmp_path / "d.json", limits=BatchLimits(max_line_bytes=500))
    assert api.uploads == uploads and not (tmp_path / "d.json").exists()


def test_dry_run_uses_the_free_test_model_and_url(api: FakeBatchAPI, tmp_path: Path) -> None:
    job = submit(api, ["a"], tmp_path / "b.json", dry_run=True)
    line = json.loads(next(iter(api.files.values())).decode())
    assert line["url"] == "/v1/chat/ds-test" and line["body"]["model"] == "batch-test-model"
    assert api.batches[job.ids[0]]["endpoint"] == "/v1/chat/ds-test"
    assert job.manifest.data["limits"]["max_lines"] == 100


def test_bad_calls_fail_before_anything_is_sent(api: FakeBatchAPI, tmp_path: Path) -> None:
    with pytest.raises(MissingAPIKeyError):
        thinkbook.submit_batch(["a"], model="qwen-plus", region="singapore", manifest=tmp_path / "x.json")
    with pytest.raises(ConfigurationError, match="completion_window"):
        submit(api, ["a"], tmp_path / "x.json", completion_window="2d")
    with pytest.raises(ConfigurationError, match="protocol"):
        submit(api, ["a"], tmp_path / "x.json", protocol="dashscope")
    assert api.uploads == 0 and not (tmp_path / "x.json").exists()


def test_output_without_reasoning_text_is_said_honestly(tmp_path: Path) -> None:
    with FakeBatchAPI(reasoning_field=None) as api:
        job = submit(api, ["a"], tmp_path / "b.json", enable_thinking=True)
        job.wait(poll=0.01, progress=False)
        result = job.results()
        assert result.rows[0].result.reasoning_hidden  # type: ignore[union-attr]
        assert result.note is not None and "reasoning_content" in result.note
