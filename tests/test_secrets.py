"""No credential of any shape leaks, whatever a hostile server echoes and wherever it echoes it.

The key is deliberately not ``sk-...`` (pattern-based redaction cannot catch it: only knowing the
request's own secrets can), and the base URL carries ``user:password@`` credentials. A loopback
server echoes both in every place a server can put text: the error message, the error code, the
``x-request-id`` header, the body's ``request_id``, an in-stream error event, the model name, the
chunk id, the usage object, a web page's title, a plain-text 5xx body, and the answer and
reasoning themselves.

The answer is model output the user asked for, so echoing the key there is arguably the user's
content. It is still redacted: a model never legitimately needs to hand the request's own key
back, the answer is what ends up in saved notebooks (output metadata, fallback HTML, widget
state), and the request's own secrets are known exactly, so the cost is one ``str.replace`` per
finished text with no false positives on other text.

Every text a user can see or save is checked: error ``str``/``repr``/``.message``/``.code``/
``.request_id``/``.body``/``.partial``, ``ThinkResult`` ``repr``/``to_dict()``, log records (DEBUG
on for httpx, httpcore and thinkbook), a ThinkView's synced state, and one saved ``.ipynb``
(nbclient) that uses the magic, ThinkView, ChatPanel and ComparePanel.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

import thinkbook
from thinkbook.testing import LoopbackServer, RecordedRequest, ScriptedResponse, openai_events, sse_chunks

KEY = "tbk_9fQ2xL7vR4mN8pW3zT6y"
USER = "tbuser"
PASSWORD = "pw-Hq4Zt8Lm2Xc7"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SECRETS = (KEY, PASSWORD, quote(PASSWORD, safe=""), BASIC)

# What a prompt asks the echoing server to do.
FAIL_STATUS = "please fail with a status"
FAIL_STREAM = "please fail in the stream"
FAIL_HTML = "please answer with a web page"
FAIL_TEXT = "please fail with plain text"


def _echo_of(request: RecordedRequest) -> str:
    """The credentials the request carried, as sent and decoded: what a hostile server echoes."""
    sent = request.headers.get("authorization", "")
    scheme, _, value = sent.partition(" ")
    decoded = base64.b64decode(value).decode() if scheme.lower() == "basic" else value
    return f"{sent} [{decoded}]"


def _status_error(echo: str) -> ScriptedResponse:
    body = {
        "error": {
            "code": f"invalid_api_key.{echo}",
            "message": f"Incorrect API key provided: {echo}.",
            "type": echo,
            "param": [{"seen": echo, echo: echo}],
        },
        "request_id": f"body-{echo}",
    }
    return ScriptedResponse(
        status=401, body=json.dumps(body).encode(), headers={"x-request-id": f"hdr-{echo}", "x-echo": echo}
    )


def _answer_events(echo: str) -> list[dict[str, Any]]:
    usage = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12, "note": echo}
    return openai_events([f"thinking about {echo}"], [f"the key is {echo}"], usage, model=f"m-{echo}", chunk_id=echo)


def echoing(request: RecordedRequest) -> ScriptedResponse:
    """The hostile server: echoes the credentials in every place a response can hold text."""
    echo = _echo_of(request)
    prompt = json.dumps(request.json(), ensure_ascii=False)
    headers = {"x-request-id": f"hdr-{echo}", "x-dashscope-request-id": f"ds-{echo}"}
    if FAIL_STATUS in prompt:
        return _status_error(echo)
    if FAIL_STREAM in prompt:
        events: list[dict[str, Any]] = _answer_events(echo)[:2]
        events.append({"error": {"code": f"InternalError.{echo}", "message": f"died: {echo}"}, "request_id": echo})
        return ScriptedResponse(body=sse_chunks(events, done=False), headers=headers)
    if FAIL_HTML in prompt:
        page = f"<html><head><title>Login {echo}</title></head><body>{echo}</body></html>"
        return ScriptedResponse(body=page.encode(), headers={**headers, "content-type": "text/html"})
    if FAIL_TEXT in prompt:
        return ScriptedResponse(status=503, body=f"upstream {echo} is down".encode(), headers=headers)
    return ScriptedResponse(body=sse_chunks(_answer_events(echo)), headers=headers)


@pytest.fixture
def echo_server(engine: object) -> Iterator[LoopbackServer]:
    with LoopbackServer(echoing) as server:
        yield server


def url_of(server: LoopbackServer, *, credentials: bool = True) -> str:
    userinfo = f"{USER}:{PASSWORD}@" if credentials else ""
    return f"http://{userinfo}127.0.0.1:{server.port}/v1"


def assert_clean(*texts: object) -> None:
    for text in texts:
        shown = text if isinstance(text, str) else repr(text)
        for secret in SECRETS:
            assert secret not in shown, f"{secret!r} leaked into {shown[:300]!r}"


def everything_shown_by(error: BaseException) -> list[object]:
    """Every text an error offers a user: its message, repr, fields and partial result."""
    shown: list[object] = [str(error), repr(error)]
    for name in ("message", "code", "request_id", "body"):
        shown.append(getattr(error, name, None))
    partial = getattr(error, "partial", None)
    if partial is not None:
        shown += [repr(partial), partial.to_dict()]
    return shown


def ask(server: LoopbackServer, prompt: str, *, credentials: bool = False, **options: Any) -> thinkbook.ThinkResult:
    return thinkbook.think(
        prompt,
        model="qwen-plus",
        base_url=url_of(server, credentials=credentials),
        api_key=KEY,
        display=False,
        max_retries=0,
        **options,
    )


# --- errors ------------------------------------------------------------------------------------


def test_status_error_echoing_the_key_everywhere_shows_none_of_it(echo_server: LoopbackServer) -> None:
    with pytest.raises(thinkbook.AuthenticationError) as caught:
        ask(echo_server, FAIL_STATUS)
    assert_clean(*everything_shown_by(caught.value))
    assert "Incorrect API key provided" in str(caught.value)  # the server's words are kept
    assert caught.value.request_id is not None and caught.value.request_id.startswith("hdr-")


def test_status_error_echoing_the_url_password_shows_none_of_it(echo_server: LoopbackServer) -> None:
    with pytest.raises(thinkbook.AuthenticationError) as caught:
        ask(echo_server, FAIL_STATUS, credentials=True)
    assert_clean(*everything_shown_by(caught.value))


def test_in_stream_error_after_text_shows_none_of_it(echo_server: LoopbackServer) -> None:
    with pytest.raises(thinkbook.APIStatusError) as caught:
        ask(echo_server, FAIL_STREAM)
    assert_clean(*everything_shown_by(caught.value))
    partial = caught.value.partial
    assert partial is not None and partial.reasoning == "thinking about Bearer *** [***]"


@pytest.mark.parametrize("prompt", [FAIL_HTML, FAIL_TEXT])
def test_other_server_texts_show_none_of_it(echo_server: LoopbackServer, prompt: str) -> None:
    with pytest.raises(thinkbook.ThinkbookError) as caught:
        ask(echo_server, prompt)
    assert_clean(*everything_shown_by(caught.value))


def test_unreachable_server_error_shows_no_url_credentials() -> None:
    with LoopbackServer() as closed:
        url = url_of(closed)
    with pytest.raises(thinkbook.APIConnectionError) as caught:
        thinkbook.think("hi", model="qwen-plus", base_url=url, api_key=KEY, display=False, max_retries=0)
    assert_clean(*everything_shown_by(caught.value))


# --- results -----------------------------------------------------------------------------------


def test_answer_echoing_the_key_is_returned_without_it(echo_server: LoopbackServer) -> None:
    result = ask(echo_server, "hello")
    assert_clean(repr(result), result.to_dict(), str(result))
    assert result.answer == "the key is Bearer *** [***]"


# --- logs --------------------------------------------------------------------------------------


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    names = ("httpx", "httpcore", "thinkbook")
    with caplog.at_level(logging.DEBUG):
        for name in names:
            caplog.set_level(logging.DEBUG, logger=name)
        yield caplog


def test_logs_hold_no_url_credentials(debug_logs: pytest.LogCaptureFixture, engine: object) -> None:
    with LoopbackServer([ScriptedResponse.from_sse(openai_events(["hm"], ["ok"]))]) as quiet:
        ask(quiet, "hello", credentials=True)
    assert "HTTP Request: POST http://***@127.0.0.1" in debug_logs.text  # httpx's own line, redacted
    assert_clean(debug_logs.text)


def test_logs_hold_no_echoed_key(echo_server: LoopbackServer, debug_logs: pytest.LogCaptureFixture) -> None:
    with pytest.raises(thinkbook.AuthenticationError):
        ask(echo_server, FAIL_STATUS, credentials=True)
    with pytest.raises(thinkbook.APIStatusError):
        ask(echo_server, FAIL_STREAM)
    assert debug_logs.records, "DEBUG logging was not captured"
    assert_clean(debug_logs.text)


def _split_echo(request: RecordedRequest) -> ScriptedResponse:
    """Echoes the key cut in two across reasoning deltas and in three across answer deltas."""
    half, third = len(KEY) // 2, len(KEY) // 3
    reasoning = [f"thinking about {KEY[:half]}", f"{KEY[half:]} and more"]
    answer = [f"the key is {KEY[:third]}", KEY[third : 2 * third], f"{KEY[2 * third :]}, done", " (tb"]
    return ScriptedResponse(body=sse_chunks(openai_events(reasoning, answer)))


def test_streamed_deltas_hold_no_key_even_split_across_deltas(engine: object) -> None:
    """What the live view shows while streaming (and a headless run saves) is each delta: none may
    carry a piece of the key that, joined with the next, spells it."""
    with LoopbackServer(_split_echo) as server:
        events = list(thinkbook.stream("hello", model="qwen-plus", base_url=url_of(server), api_key=KEY, max_retries=0))
    reasoning = "".join(e.text for e in events if isinstance(e, thinkbook.ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, thinkbook.AnswerDelta))
    assert_clean(reasoning, answer)
    done = events[-1]
    assert isinstance(done, thinkbook.Done)
    # The live text is the finished text: nothing held back is lost, nothing else changed.
    assert (reasoning, answer) == (done.result.reasoning, done.result.answer)
    assert answer == "the key is ***, done (tb"


# --- widget state (in process) ------------------------------------------------------------------


def test_think_view_state_holds_no_echoed_key(echo_server: LoopbackServer) -> None:
    """The view's final synced state (what a saved notebook keeps) after a streamed answer and an error.

    Every message the view sent is checked, not only its last state: a headless run (nbclient)
    saves the state as the messages left it, and a stream's deltas are redacted as they arrive.
    """
    from thinkbook import ThinkView
    from thinkbook.testing import recording_comms

    url = url_of(echo_server, credentials=False)
    with recording_comms() as comms:
        view = ThinkView(model="qwen-plus")
        result = None
        for event in thinkbook.stream("hello", model="qwen-plus", base_url=url, api_key=KEY, max_retries=0):
            view.push([event])
            view.flush()  # each delta goes out as it would live
            if isinstance(event, thinkbook.Done):
                result = event.result
        view.end(result)
        failed = ThinkView(model="qwen-plus")
        with pytest.raises(thinkbook.APIStatusError) as caught:
            for event in thinkbook.stream(FAIL_STREAM, model="qwen-plus", base_url=url, api_key=KEY, max_retries=0):
                failed.push([event])
                failed.flush()
        failed.end(error=caught.value)
    assert view.get_state()["status"] == "done" and failed.get_state()["status"] == "error"
    assert_clean(view.get_state(), failed.get_state())
    sent = [json.dumps(message, ensure_ascii=False) for recording in comms for message in recording.messages]
    assert any("thinking about" in text for text in sent), "the streamed deltas were not sent"
    assert_clean(*sent)


# --- one saved notebook: the magic, ThinkView, ChatPanel, ComparePanel --------------------------

NOTEBOOK_CELLS: list[tuple[str, str]] = [
    (
        "setup",
        "import os, json\n"
        "import thinkbook\n"
        'KEY, URL, PLAIN_URL = (os.environ[f"TB_SECRETS_{n}"] for n in ("KEY", "URL", "PLAIN_URL"))\n'
        "%load_ext thinkbook",
    ),
    ("magic", "%%think --model qwen-plus --base-url $PLAIN_URL --api-key-env TB_SECRETS_KEY\nhello"),
    ("magic", f"%%think --model qwen-plus --base-url $PLAIN_URL --api-key-env TB_SECRETS_KEY\n{FAIL_STATUS}"),
    ("magic", f"%%think --model qwen-plus --base-url $URL --api-key-env TB_SECRETS_KEY\n{FAIL_STREAM}"),
    ("magic", "%%think --model qwen-plus --base-url $URL --api-key-env TB_SECRETS_KEY --json\nhello"),
    (
        "view",
        'r = thinkbook.think("hello", model="qwen-plus", base_url=PLAIN_URL, api_key=KEY, display=True)\n'
        "print(repr(r))\nprint(json.dumps(r.to_dict()))",
    ),
    (
        "view",
        "try:\n"
        f'    thinkbook.think("{FAIL_STREAM}", model="qwen-plus", base_url=URL, api_key=KEY, display=True)\n'
        "except thinkbook.ThinkbookError as error:\n"
        "    print(type(error).__name__, error, error.code, error.request_id, error.body, error.partial)",
    ),
    ("chat", 'chat = thinkbook.ChatPanel("qwen-plus", base_url=URL, api_key=KEY)\nchat'),
    (
        "chat",
        'chat.send("hello").result(timeout=30)\n'
        f'chat.send("{FAIL_STREAM}")\n'
        "chat.wait(30)\n"
        "print(chat.to_json())\nprint(chat.to_markdown())",
    ),
    (
        "compare",
        'cmp = thinkbook.ComparePanel("hello", ["qwen-plus", {"model": "qwen-plus", "enable_thinking": False}],'
        " base_url=URL, api_key=KEY)\ncmp",
    ),
    ("compare", "cmp.wait(30)\nprint(cmp.to_markdown())"),
]


@pytest.fixture(scope="module")
def saved_notebook() -> Iterator[Any]:
    import nbformat
    from nbclient import NotebookClient

    with LoopbackServer(echoing) as server, pytest.MonkeyPatch.context() as env:
        env.setenv("TB_SECRETS_KEY", KEY)
        env.setenv("TB_SECRETS_URL", url_of(server))
        env.setenv("TB_SECRETS_PLAIN_URL", url_of(server, credentials=False))
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": [tag]}) for tag, source in NOTEBOOK_CELLS]
        NotebookClient(notebook, timeout=90, kernel_name="python3", store_widget_state=True).execute()
        # What is written to disk: the .ipynb text itself.
        yield json.loads(nbformat.writes(notebook))


def _widget_states(notebook: dict[str, Any]) -> dict[str, Any]:
    widgets = notebook["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return dict(widgets.get("state", {}))


def _saved_by(notebook: dict[str, Any], tag: str) -> list[object]:
    """The outputs of the cells tagged ``tag`` and the state of every widget they show (children too)."""
    states = _widget_states(notebook)
    outputs = [o for cell in notebook["cells"] if tag in cell["metadata"].get("tags", []) for o in cell["outputs"]]
    pending = [
        o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        for o in outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    seen: dict[str, Any] = {}
    while pending:
        model_id = pending.pop()
        if model_id in seen or model_id not in states:
            continue
        seen[model_id] = states[model_id]
        text = json.dumps(states[model_id])
        pending += [part.split('"')[0] for part in text.split("IPY_MODEL_")[1:]]
    return [outputs, seen]


def test_the_notebook_reached_the_echoing_server(saved_notebook: dict[str, Any]) -> None:
    text = json.dumps(saved_notebook, ensure_ascii=False)
    assert "the key is" in text and "Incorrect API key provided" in text
    assert "AuthenticationError" in text and "InternalError" in text
    assert len(_saved_by(saved_notebook, "chat")[1]) > 3  # the panel and its turns' views were saved


def test_saved_magic_outputs_hold_no_secret(saved_notebook: dict[str, Any]) -> None:
    assert_clean(*_saved_by(saved_notebook, "magic"))


def test_saved_think_view_holds_no_secret(saved_notebook: dict[str, Any]) -> None:
    assert_clean(*_saved_by(saved_notebook, "view"))


def test_saved_chat_panel_holds_no_secret(saved_notebook: dict[str, Any]) -> None:
    assert_clean(*_saved_by(saved_notebook, "chat"))


def test_saved_compare_panel_holds_no_secret(saved_notebook: dict[str, Any]) -> None:
    assert_clean(*_saved_by(saved_notebook, "compare"))


def test_saved_notebook_holds_no_secret_anywhere(saved_notebook: dict[str, Any]) -> None:
    assert_clean(json.dumps(saved_notebook, ensure_ascii=False), json.dumps(saved_notebook))
