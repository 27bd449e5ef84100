"""``%%think --tools``, ``--search``, ``--search-strategy``, ``--citations`` and ``--image``."""

# ruff: noqa: F811  (the tests take test_magic's fixtures as parameters of the same names)

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_magic import bailian, key, shell, think  # noqa: F401  (key and shell are fixtures)
from wire_tools import native_answer, openai_answer, openai_tool_round

from thinkbook import ConfigurationError
from thinkbook.testing import LoopbackServer

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f80f0000010100005d1a2d0a0000000049454e44ae426082"
)


def weather_tool(ran: list[str]) -> Any:
    """A tool that notes each city it is asked about in ``ran``."""

    def get_weather(city: str) -> dict[str, Any]:
        """The weather now.

        Args:
            city: the city's name
        """
        ran.append(city)
        return {"city": city, "temp_c": 21}

    return get_weather


def oslo_loop(shell: InteractiveShell, server: LoopbackServer) -> list[str]:
    """``get_weather`` in the notebook and a two-round loop (call it for Oslo, then answer) queued;
    the cities it ran for."""
    ran: list[str] = []
    shell.user_ns["get_weather"] = weather_tool(ran)
    server.enqueue(
        openai_tool_round("Need the weather.", [("call_1", "get_weather", {"city": "Oslo"})]),
        openai_answer("Known now.", "Oslo is 21 °C."),
    )
    return ran


def test_tools_named_in_the_cell_line_run_from_the_notebook(
    shell: InteractiveShell, server: LoopbackServer, key: str
) -> None:
    ran = oslo_loop(shell, server)
    think(shell, f"-m qwen-plus --tools get_weather {bailian(server)}", "Weather in Oslo?")
    result = shell.user_ns["_think"]
    assert ran == ["Oslo"] and result.answer == "Oslo is 21 °C."
    assert [call.name for call in result.tool_calls] == ["get_weather"]
    first, second = (request.json() for request in server.requests)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    tool_message = {"role": "tool", "tool_call_id": "call_1", "content": '{"city": "Oslo", "temp_c": 21}'}
    assert second["messages"][-1] == tool_message


def test_a_tool_name_not_in_the_notebook_is_refused_before_sending(
    shell: InteractiveShell, server: LoopbackServer, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["not_a_function"] = 42
    think(shell, f"-m qwen-plus --tools nowhere {bailian(server)}")
    assert "no 'nowhere' in this notebook" in capsys.readouterr().err
    think(shell, f"-m qwen-plus --tools not_a_function {bailian(server)}")
    assert "not a function" in capsys.readouterr().err
    assert server.requests == []


def test_search_flags_put_bailian_search_in_the_native_body(
    shell: InteractiveShell, server: LoopbackServer, key: str
) -> None:
    server.enqueue(
        native_answer(
            "搜索一下", "明天晴 [1]。", sources=[{"index": 1, "title": "天气", "url": "https://w.example/hz"}]
        )
    )
    think(
        shell,
        f"-m qwen-plus --protocol dashscope --search-strategy max --citations --base-url {server.url}/api/v1 "
        "--api-key-env THINKBOOK_TEST_KEY",
        "杭州明天天气？",
    )
    parameters = server.requests[0].json()["parameters"]
    assert parameters["enable_search"] is True
    assert parameters["search_options"]["search_strategy"] == "max"
    assert parameters["search_options"]["enable_citation"] is True
    assert [s.url for s in shell.user_ns["_think"].search_results] == ["https://w.example/hz"]


def test_image_from_a_file_and_from_a_variable(
    shell: InteractiveShell, server: LoopbackServer, key: str, tmp_path: Path
) -> None:
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    shell.user_ns["raw_png"] = PNG
    server.enqueue(openai_answer("看图", "一个点。"))
    think(shell, f"-m qwen3-vl-plus --image {picture} --image {{raw_png}} {bailian(server)}", "图里是什么？")
    content = server.requests[0].json()["messages"][-1]["content"]
    kinds = [part["type"] for part in content]
    assert kinds == ["image_url", "image_url", "text"]
    assert all(part["image_url"]["url"].startswith("data:image/png;base64,") for part in content[:2])


def test_tools_do_not_combine_with_compare(
    shell: InteractiveShell, server: LoopbackServer, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["f"] = lambda: 1
    think(shell, f"--compare qwen-plus,qwen-plus:off --tools f {bailian(server)}")
    assert "--tools works on a single cell" in capsys.readouterr().err
    with pytest.raises(ConfigurationError, match="--image"):
        from thinkbook._magic import _think_function
        from thinkbook._magic_args import parse_line

        parse_line(_think_function().parser, "--replay x.jsonl --image a.png")


def test_record_a_tool_loop_then_replay_every_round_offline(
    shell: InteractiveShell, server: LoopbackServer, key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--record of a tool loop writes one file per round, each with the request it sent: offline, the
    same cell replays the whole loop (the tool runs again) from ./recordings."""
    ran = oslo_loop(shell, server)
    (tmp_path / "recordings").mkdir()
    path = tmp_path / "recordings" / "weather.jsonl"
    think(shell, f"-m qwen-plus --tools get_weather --record {path} {bailian(server)}", "Weather in Oslo?")
    live = shell.user_ns["_think"]
    second = tmp_path / "recordings" / "weather.round2.jsonl"
    assert path.exists() and second.exists() and len(server.requests) == 2
    first_header, second_header = (json.loads(p.read_text(encoding="utf-8").splitlines()[0]) for p in (path, second))
    assert first_header["request"] == server.requests[0].json()  # each round with its own request
    assert second_header["request"] == server.requests[1].json()
    assert "Need the weather." in path.read_text(encoding="utf-8") and "Oslo is 21" in second.read_text(
        encoding="utf-8"
    )

    monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the later round is found on the engine's thread: no warning there
        think(shell, "-m qwen-plus --tools get_weather", "Weather in Oslo?")
    replayed = shell.user_ns["_think"]
    assert len(server.requests) == 2  # nothing sent
    assert ran == ["Oslo", "Oslo"] and replayed.answer == live.answer == "Oslo is 21 °C."
    assert [c.result for c in replayed.tool_calls] == [{"city": "Oslo", "temp_c": 21}]
