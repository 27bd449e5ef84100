"""thinkbook.batch against a loopback server that counts the streams it has open at once."""

from __future__ import annotations

import _thread
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import thinkbook
from thinkbook import ConfigurationError, InternalServerError, StreamStoppedError
from thinkbook._engine import Engine
from thinkbook.batch import BatchInterrupted

from .stream_server import CountingServer

KEY = "sk-batch-runner-test"


@pytest.fixture
def make_server(engine: Engine) -> Iterator[type[CountingServer]]:
    started: list[CountingServer] = []

    def build(**options: object) -> CountingServer:
        server = CountingServer(**options)  # type: ignore[arg-type]
        server.start()
        started.append(server)
        return server

    yield build  # type: ignore[misc]
    for server in started:
        server.stop()


def run(server: CountingServer, prompts: list[str], **options: object) -> thinkbook.BatchResult:
    options.setdefault("progress", False)
    return thinkbook.batch(prompts, model="qwen-plus", base_url=server.base_url(), api_key=KEY, **options)  # type: ignore[arg-type]


def test_concurrency_never_exceeds_the_limit_and_order_is_kept(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(delay=0.01, pieces=4)
    prompts = [f"q{i}" for i in range(40)]
    result = run(server, prompts, concurrency=5)
    assert server.peak <= 5
    assert server.peak >= 3  # it did run several at once
    assert [r.answer for r in result] == [f"answer to {p}" for p in prompts]  # type: ignore[union-attr]
    assert len(result) == 40 and not result.errors and result.sent == 40
    assert result.usage.total_tokens == 40 * 17
    assert result.concurrency["peak"] <= 5


def test_a_429_storm_lowers_concurrency_and_every_row_finishes(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(delay=0.01, pieces=3, throttle_above=3, retry_after="0.02")
    prompts = [f"q{i}" for i in range(30)]
    result = run(server, prompts, concurrency=12, max_retries=2)
    assert not result.errors, [row.error for row in result.errors]
    assert [r.answer for r in result] == [f"answer to {p}" for p in prompts]  # type: ignore[union-attr]
    assert server.throttled > 0
    assert result.concurrency["lowered"] >= 1 and result.concurrency["final"] < 12
    assert server.peak <= 3


def test_5xx_is_retried_and_one_failing_row_never_fails_the_batch(make_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys.modules["thinkbook.batch.runner"], "backoff_delay", lambda attempt, after=None: 0.01)
    server = make_server(fail={"q1": 2, "q2": 99})
    result = run(server, ["q0", "q1", "q2", "q3"], max_retries=2)
    assert [type(r).__name__ for r in result] == ["ThinkResult", "ThinkResult", "InternalServerError", "ThinkResult"]
    assert [row.label for row in result.errors] == [2]
    assert isinstance(result.errors[0].error, InternalServerError)
    assert result.sent == 1 + 3 + 3 + 1  # q1 succeeded on its third try; q2 gave up after 2 retries


def test_variants_run_prompt_major_with_their_own_options(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server()
    variants = {"on": {"enable_thinking": True}, "off": {"enable_thinking": False}}
    result = run(server, ["a", "b"], variants=variants)
    assert [row.variant for row in result.rows] == ["on", "off", "on", "off"]
    assert [row.label for row in result.rows] == [0, 0, 1, 1]
    bodies = sorted((r.json()["messages"][0]["content"], r.json()["enable_thinking"]) for r in server.requests)
    assert bodies == [("a", False), ("a", True), ("b", False), ("b", True)]
    assert result.rows[0].result.reasoning == "thinking about a"  # type: ignore[union-attr]
    assert result.rows[1].result.reasoning == ""  # type: ignore[union-attr]


def test_a_pandas_series_keeps_its_index(make_server) -> None:  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    server = make_server()
    prompts = pd.Series(["x", "y"], index=pd.Index(["id-7", "id-9"], name="qid"))
    frame = run(server, prompts, variants={"on": {}, "off": {"enable_thinking": False}}).to_dataframe()
    assert list(frame.index) == ["id-7", "id-7", "id-9", "id-9"] and frame.index.name == "qid"
    assert list(frame["answer"]) == ["answer to x", "answer to x", "answer to y", "answer to y"]
    assert {"prompt", "variant", "reasoning", "answer", "completion_tokens", "total_seconds", "error"} <= set(frame)


def test_bad_input_fails_before_anything_is_sent(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server()
    with pytest.raises(ConfigurationError, match=r"prompt 1.*empty.*nothing was sent"):
        run(server, ["fine", "   "])
    with pytest.raises(ConfigurationError, match="concurrency"):
        run(server, ["fine"], concurrency=0)
    with pytest.raises(ConfigurationError, match="one string"):
        run(server, "not a list")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="display"):
        run(server, ["fine"], display=True)
    assert server.requests == []


def test_cache_rerun_sends_no_request_and_a_changed_option_is_a_new_row(make_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = make_server()
    cache = tmp_path / "runs" / "eval.jsonl"
    prompts = ["a", "b", "a", "c"]  # the repeated "a" is a second sample, not a cache hit
    first = run(server, prompts, cache=cache)
    assert first.sent == 4 and first.cached == 0
    lines = [json.loads(line) for line in cache.read_text().splitlines()]
    assert len(lines) == 4 and len({line["key"] for line in lines}) == 4
    assert {line["prompt"] for line in lines} == {"a", "b", "c"}
    again = run(server, prompts, cache=cache)
    assert again.sent == 0 and again.cached == 4 and len(server.requests) == 4
    assert [r.answer for r in again] == [r.answer for r in first]  # type: ignore[union-attr]
    changed = run(server, prompts, cache=cache, enable_thinking=False)
    assert changed.sent == 4 and changed.cached == 0


def test_ctrl_c_stops_new_calls_closes_streams_and_keeps_finished_rows(make_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = make_server(delay=0.04, pieces=8)  # ~0.3 s per stream
    cache = tmp_path / "stop.jsonl"
    prompts = [f"q{i}" for i in range(16)]

    def press_ctrl_c_after_two_rows() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (cache.exists() and len(cache.read_bytes().splitlines()) >= 2):
            time.sleep(0.005)
        _thread.interrupt_main()

    threading.Thread(target=press_ctrl_c_after_two_rows, daemon=True).start()
    with pytest.raises(BatchInterrupted) as stopped:
        run(server, prompts, concurrency=4, cache=cache)
    sent = len(server.requests)
    partial = stopped.value.result
    finished = [row for row in partial.rows if row.result is not None]
    assert 2 <= len(finished) < 16
    assert all(isinstance(row.error, StreamStoppedError) for row in partial.rows if row.result is None)
    assert partial.interrupted and isinstance(stopped.value, KeyboardInterrupt)
    assert server.wait_for_disconnect(2)  # the running streams were closed
    time.sleep(0.2)
    assert len(server.requests) == sent  # nothing new started after Ctrl-C
    assert len(cache.read_text().splitlines()) == len(finished)
    rest = run(server, prompts, concurrency=8, cache=cache)
    assert rest.cached == len(finished) and rest.sent == 16 - len(finished)
    assert [r.answer for r in rest] == [f"answer to {p}" for p in prompts]  # type: ignore[union-attr]


def test_cost_uses_the_set_prices(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server()
    try:
        result = run(server, ["a", "b"])
        assert result.cost is None
        thinkbook.set_price("qwen-plus", input=1.0, output=2.0)
        cost = run(server, ["a", "b"]).cost
        assert cost is not None and cost.amount == pytest.approx(2 * (10 * 1.0 + 7 * 2.0) / 1e6)
    finally:
        thinkbook.clear_prices()
