"""The resumable cache: keys, torn lines, one writer, and a run killed with SIGKILL then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import thinkbook
from thinkbook import ConfigurationError, ThinkResult, Timings, Usage
from thinkbook._endpoints import Endpoint
from thinkbook._engine import Engine
from thinkbook._request import PreparedRequest
from thinkbook.batch.cache import ResultCache, request_key, result_from_dict, result_to_dict

from .stream_server import CountingServer

ROOT = Path(__file__).resolve().parents[2]


def _request(body: dict[str, object], url: str = "http://u:pw@127.0.0.1:1/v1/chat/completions") -> PreparedRequest:
    endpoint = Endpoint(url=url, base_url="http://***@127.0.0.1:1/v1", protocol="openai", provider="local")
    return PreparedRequest(endpoint=endpoint, model="m", body=body)


def test_the_key_ignores_streaming_fields_and_credentials_but_not_options() -> None:
    base = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    key = request_key(_request({**base, "stream": True, "stream_options": {"include_usage": True}}))
    assert key == request_key(_request(base))
    assert key == request_key(_request(base, url="http://other:secret@127.0.0.1:1/v1/chat/completions"))
    assert key != request_key(_request({**base, "enable_thinking": False}))
    assert key != request_key(_request(base), occurrence=1)
    assert key != request_key(_request(base, url="http://127.0.0.1:2/v1/chat/completions"))


def test_results_round_trip_and_untrusted_types_become_none() -> None:
    result = ThinkResult(
        reasoning="r",
        answer="a",
        usage=Usage(10, 5, 15, 3, None, {"x": 1}),
        finish_reason="stop",
        model="m",
        request_id="id",
        timings=Timings(0.1, 0.2, 0.1, 0.5, 30.0),
        reasoning_state={"protocol": "x"},
    )
    assert result_from_dict(json.loads(json.dumps(result_to_dict(result)))) == result
    odd = result_from_dict({"answer": "a", "usage": {"prompt_tokens": "10", "completion_tokens": True}, "model": 3})
    assert odd.usage == Usage() and odd.model is None
    with pytest.raises(ValueError):
        result_from_dict({"answer": 5})


def test_a_torn_last_line_is_cut_and_appending_goes_on_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with ResultCache(path) as cache:
        cache.append("k1", ThinkResult(answer="one"))
        cache.append("k2", ThinkResult(answer="two"))
    with path.open("ab") as file:
        file.write(b'{"key": "k3", "result": {"answ')  # a kill in the middle of a line
    with ResultCache(path) as cache:
        assert len(cache) == 2 and cache.get("k1") == ThinkResult(answer="one") and cache.get("k3") is None
        cache.append("k3", ThinkResult(answer="three"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["key"] for line in lines] == ["k1", "k2", "k3"]


def test_an_unreadable_middle_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    good = json.dumps({"key": "k1", "result": {"answer": "one"}})
    path.write_text(f"{good}\nnot json\n{json.dumps({'key': 'k2', 'result': {'answer': 5}})}\n")
    with pytest.warns(thinkbook.ThinkbookWarning, match="2 line"), ResultCache(path) as cache:
        assert len(cache) == 1


def test_one_writer_at_a_time_and_bad_paths(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with ResultCache(path), pytest.raises(ConfigurationError, match="another run is writing"):
        ResultCache(path)
    with pytest.raises(ConfigurationError, match="is a folder"):
        ResultCache(tmp_path)
    with pytest.raises(ConfigurationError, match="file path"):
        ResultCache(42)  # type: ignore[arg-type]


@pytest.fixture
def slow_server(engine: Engine) -> Iterator[CountingServer]:
    with CountingServer(delay=0.03, pieces=6) as server:
        yield server


_CHILD = textwrap.dedent(
    """
    import sys
    import thinkbook
    prompts = [f"q{i}" for i in range(int(sys.argv[3]))]
    thinkbook.batch(prompts, model="qwen-plus", base_url=sys.argv[1], api_key="sk-x", cache=sys.argv[2],
                    concurrency=3, progress=False)
    """
)


def test_a_run_killed_mid_way_resumes_with_no_duplicate_rows(slow_server: CountingServer, tmp_path: Path) -> None:
    cache = tmp_path / "killed.jsonl"
    count = 24
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, slow_server.base_url(), str(cache), str(count)], env=env)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if cache.exists() and len(cache.read_bytes().splitlines()) >= 4:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the child wrote no rows")
        child.send_signal(signal.SIGKILL)
        child.wait(5)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    with cache.open("ab") as file:
        file.write(b'{"key": "torn')  # as if the kill had landed in the middle of a write
    kept = sum(1 for line in cache.read_bytes().splitlines() if line.endswith(b"}"))
    assert 4 <= kept < count
    before = len(slow_server.requests)
    result = thinkbook.batch(
        [f"q{i}" for i in range(count)],
        model="qwen-plus",
        base_url=slow_server.base_url(),
        api_key="sk-x",
        cache=cache,
        concurrency=8,
        progress=False,
    )
    assert not result.errors
    assert result.cached == kept and result.sent == count - kept == len(slow_server.requests) - before
    assert [r.answer for r in result] == [f"answer to q{i}" for i in range(count)]  # type: ignore[union-attr]
    keys = [json.loads(line)["key"] for line in cache.read_text().splitlines()]
    assert len(keys) == count == len(set(keys))  # every row exactly once
