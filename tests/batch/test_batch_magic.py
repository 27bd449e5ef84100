"""%%think --batch VAR through a real IPython shell against a loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from thinkbook._engine import Engine
from thinkbook.batch import BatchResult

from .stream_server import CountingServer


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "thinkbook")
    yield ip
    for name in ("_think_batch", "_think_error", "questions", "table", "graded"):
        ip.user_ns.pop(name, None)


@pytest.fixture
def server(engine: Engine) -> Iterator[CountingServer]:
    with CountingServer() as loopback:
        yield loopback


def line(server: CountingServer, extra: str = "") -> str:
    return f"--batch questions -m qwen-plus --base-url {server.base_url()} {extra}".strip()


def test_a_list_runs_the_cell_as_a_template_per_item(shell: InteractiveShell, server: CountingServer) -> None:
    shell.user_ns["questions"] = ["1+1", "2+2"]
    shell.user_ns["style"] = "briefly"
    shell.run_cell_magic("think", line(server, "--no-think --out graded"), "Answer {style}: {item}")
    result: BatchResult = shell.user_ns["_think_batch"]
    assert [r.answer for r in result] == ["answer to Answer briefly: 1+1", "answer to Answer briefly: 2+2"]  # type: ignore[union-attr]
    assert shell.user_ns["graded"] is result
    assert all(r.json()["enable_thinking"] is False for r in server.requests)


def test_a_dataframe_fills_fields_from_columns_and_keeps_its_index(
    shell: InteractiveShell, server: CountingServer
) -> None:
    pd = pytest.importorskip("pandas")
    shell.user_ns["questions"] = pd.DataFrame({"q": ["x", "y"], "unit": ["km", "kg"]}, index=["a", "b"])
    shell.run_cell_magic("think", line(server), "{q} in {unit}?")
    frame = shell.user_ns["_think_batch"].to_dataframe()
    assert list(frame.index) == ["a", "b"] and list(frame["prompt"]) == ["x in km?", "y in kg?"]


@pytest.mark.parametrize(
    ("setup", "extra", "message"),
    [
        (None, "", "no notebook variable 'questions'"),
        ("text", "", "needs a list"),
        ([], "", "is empty"),
        (["a"], "--chat c", "cannot be combined with --chat"),
        (["a"], "", "not a valid template"),
    ],
)
def test_bad_cells_send_nothing(
    shell: InteractiveShell,
    server: CountingServer,
    capsys: pytest.CaptureFixture[str],
    setup: Any,
    extra: str,
    message: str,
) -> None:
    if setup is not None:
        shell.user_ns["questions"] = setup
    cell = "{item" if "template" in message else "{item}"
    shell.run_cell_magic("think", line(server, extra), cell)
    assert message in capsys.readouterr().err
    assert server.requests == []
