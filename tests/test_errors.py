"""Server answers become the right exceptions (:mod:`thinkbook._errors`)."""

from __future__ import annotations

from typing import Any

import pytest

import thinkbook
from thinkbook import _errors
from thinkbook._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFormatError,
    StreamInterruptedError,
    ThinkbookError,
    ThinkbookWarning,
    ThinkInterrupted,
    error_for_status,
)
from thinkbook._types import ThinkResult

KEY = "sk-test-SECRET123456789"


def openai_body(code: str | None, message: str, request_id: str = "req-openai-1") -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "type": "invalid_request_error", "param": None},
        "request_id": request_id,
    }


def dashscope_body(code: str, message: str, request_id: str = "req-ds-1") -> dict[str, Any]:
    return {"request_id": request_id, "code": code, "message": message}


# --- status mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[APIStatusError]) -> None:
    body = {"error": {"message": "something happened"}}
    err = error_for_status(status, body)
    assert type(err) is cls
    assert err.status_code == status
    assert err.code is None
    assert err.body == body
    assert "something happened" in str(err)
    assert str(status) in str(err)


@pytest.mark.parametrize("status", [402, 409, 418, 422])
def test_other_statuses_are_plain_status_errors(status: int) -> None:
    err = error_for_status(status, {"message": "nope"})
    assert type(err) is APIStatusError
    assert err.status_code == status
    assert "nope" in str(err)


# --- code mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (401, openai_body("invalid_api_key", "Incorrect API key provided."), AuthenticationError, "invalid_api_key"),
        (None, openai_body("invalid_api_key", "Incorrect API key provided."), AuthenticationError, "invalid_api_key"),
        (401, dashscope_body("InvalidApiKey", "Invalid API-key provided."), AuthenticationError, "InvalidApiKey"),
        (None, dashscope_body("InvalidApiKey", "Invalid API-key provided."), AuthenticationError, "InvalidApiKey"),
        (
            429,
            dashscope_body("Throttling.RateQuota", "Requests rate limit exceeded."),
            RateLimitError,
            "Throttling.RateQuota",
        ),
        (
            None,
            dashscope_body("Throttling.RateQuota", "Requests rate limit exceeded."),
            RateLimitError,
            "Throttling.RateQuota",
        ),
        (
            None,
            dashscope_body("Throttling.AllocationQuota", "Quota exceeded."),
            RateLimitError,
            "Throttling.AllocationQuota",
        ),
        (429, openai_body("insufficient_quota", "You exceeded your quota."), RateLimitError, "insufficient_quota"),
        (429, openai_body("limit_requests", "Too many requests."), RateLimitError, "limit_requests"),
        (
            400,
            dashscope_body("DataInspectionFailed", "Input data may contain inappropriate content."),
            BadRequestError,
            "DataInspectionFailed",
        ),
        (
            None,
            dashscope_body("DataInspectionFailed", "Output data may contain inappropriate content."),
            BadRequestError,
            "DataInspectionFailed",
        ),
        (
            400,
            openai_body("data_inspection_failed", "Input data may contain inappropriate content."),
            BadRequestError,
            "data_inspection_failed",
        ),
        (
            400,
            dashscope_body("Arrearage", "Access denied, please make sure your account is in good standing."),
            PermissionDeniedError,
            "Arrearage",
        ),
        (None, openai_body("Arrearage", "Access denied, account in arrears."), PermissionDeniedError, "Arrearage"),
        (403, dashscope_body("AccessDenied", "Access denied."), PermissionDeniedError, "AccessDenied"),
        (None, dashscope_body("ModelNotFound", "Model not exist."), NotFoundError, "ModelNotFound"),
        (None, openai_body("model_not_found", "The model does not exist."), NotFoundError, "model_not_found"),
        (None, dashscope_body("InvalidParameter", "url error"), BadRequestError, "InvalidParameter"),
        (None, dashscope_body("InternalError", "An internal error has occured."), InternalServerError, "InternalError"),
        (None, dashscope_body("InternalError.Algo", "Algorithm failed."), InternalServerError, "InternalError.Algo"),
    ],
)
def test_code_maps_to_class(status: int | None, body: dict[str, Any], cls: type[APIStatusError], code: str) -> None:
    err = error_for_status(status, body)
    assert type(err) is cls
    assert err.status_code == status
    assert err.code == code
    assert err.body == body
    assert err.request_id == body["request_id"]
    assert code in str(err)
    message = body["error"]["message"] if "error" in body else body["message"]
    assert message in str(err)


def test_code_lookup_is_case_insensitive() -> None:
    assert type(error_for_status(None, {"code": "INVALIDAPIKEY", "message": "x"})) is AuthenticationError
    assert type(error_for_status(None, {"code": "throttling", "message": "x"})) is RateLimitError


def test_unrelated_code_prefix_does_not_match() -> None:
    # "Throttling" must not swallow codes that merely start with the same letters.
    err = error_for_status(400, {"code": "ThrottlingSettingsInvalid", "message": "x"})
    assert type(err) is BadRequestError


def test_unknown_code_falls_back_to_status() -> None:
    err = error_for_status(404, openai_body("something_new", "gone"))
    assert type(err) is NotFoundError
    assert err.code == "something_new"


def test_unknown_code_and_no_status() -> None:
    err = error_for_status(None, {"code": "Weird", "message": "strange"})
    assert type(err) is APIStatusError
    assert err.status_code is None
    assert "strange" in str(err)


def test_openai_error_type_used_when_code_missing() -> None:
    body = {"error": {"code": None, "message": "bad key", "type": "invalid_api_key"}}
    err = error_for_status(401, body)
    assert type(err) is AuthenticationError
    assert err.code == "invalid_api_key"


# --- fields ------------------------------------------------------------------------------------


def test_request_id_argument_wins_over_body() -> None:
    err = error_for_status(500, dashscope_body("InternalError", "boom", "from-body"), request_id="hdr")
    assert err.request_id == "hdr"


def test_request_id_from_openai_id_field() -> None:
    err = error_for_status(500, {"id": "gen-123", "error": {"message": "boom", "code": 500}})
    assert err.request_id == "gen-123"
    assert type(err) is InternalServerError


def test_partial_is_kept() -> None:
    partial = ThinkResult(reasoning="thinking so far", answer="half an ans")
    err = error_for_status(None, dashscope_body("DataInspectionFailed", "Output filtered"), partial=partial)
    assert err.partial == partial
    assert err.partial.reasoning == "thinking so far"


def test_partial_defaults_to_none() -> None:
    assert error_for_status(500, None).partial is None


def test_string_body_is_the_message() -> None:
    err = error_for_status(502, "<html>Bad Gateway</html>")
    assert type(err) is InternalServerError
    assert "Bad Gateway" in str(err)
    assert err.body == "<html>Bad Gateway</html>"
    assert err.code is None


def test_long_string_body_is_shortened() -> None:
    err = error_for_status(500, "x" * 10_000)
    assert len(str(err)) < 1_000


@pytest.mark.parametrize("body", [None, {}, "", "   ", [], {"error": {}}])
def test_empty_bodies_still_say_something(body: Any) -> None:
    err = error_for_status(503, body)
    assert type(err) is InternalServerError
    assert "503" in str(err)
    assert len(str(err)) > len("HTTP 503: ")


def test_error_string_shape() -> None:
    body = {"error": {"message": "quota", "code": "simple"}}
    err = error_for_status(400, body)
    assert str(err).startswith("HTTP 400 simple: quota")
    assert err.message == str(err)


# --- hints --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (401, openai_body("invalid_api_key", "Incorrect API key provided."), ["region", "base_url"]),
        (None, dashscope_body("InvalidApiKey", "Invalid API-key provided."), ["region"]),
        (403, dashscope_body("AccessDenied", "Access denied."), ["model", "workspace"]),
        (None, dashscope_body("Arrearage", "Access denied, check your account."), ["arrears"]),
        (404, openai_body("model_not_found", "The model `qwen-pls` does not exist."), ["model name", "base_url"]),
        (429, dashscope_body("Throttling.RateQuota", "Requests rate limit exceeded."), ["retry"]),
        (500, dashscope_body("InternalError", "An internal error has occured."), ["try again"]),
        (502, None, ["try again"]),
        (
            400,
            dashscope_body("DataInspectionFailed", "Input data may contain inappropriate content."),
            ["content filter", "rephrase"],
        ),
        (
            400,
            openai_body("data_inspection_failed", "Output data may contain inappropriate content."),
            ["content filter"],
        ),
    ],
)
def test_messages_carry_server_message_and_a_hint(status: int | None, body: Any, words: list[str]) -> None:
    err = error_for_status(status, body)
    text = str(err)
    if isinstance(body, dict):
        server = body["error"]["message"] if "error" in body else body["message"]
        assert server in text
    for word in words:
        assert word in text.lower()


# --- redaction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        f"Incorrect API key provided: {KEY}.",
        f"invalid header Authorization: Bearer {KEY}",
        f"key {KEY} is not valid in this region",
    ],
)
def test_key_in_server_message_is_redacted(message: str) -> None:
    for body in (openai_body("invalid_api_key", message), dashscope_body("InvalidApiKey", message)):
        err = error_for_status(401, body)
        assert KEY not in str(err)
        assert KEY not in err.message
        assert KEY not in repr(err)
        assert "SECRET123456789" not in str(err)


def test_key_in_raw_text_body_is_redacted() -> None:
    err = error_for_status(401, f"unauthorized: {KEY}")
    assert KEY not in str(err)
    assert "unauthorized" in str(err)


def test_given_secret_without_sk_prefix_is_redacted() -> None:
    secret = "ollama-token-abcdef"
    err = error_for_status(401, {"message": f"token {secret} rejected"}, secrets=(secret, None))
    assert secret not in str(err)
    assert "rejected" in str(err)


def test_bearer_token_without_sk_prefix_is_redacted() -> None:
    err = error_for_status(401, {"message": "Bearer abcdefghijklmnop is invalid"})
    assert "abcdefghijklmnop" not in str(err)


def test_workspace_style_key_is_redacted() -> None:
    key = "sk-ws-H1b2C3d4E5f6G7h8"
    err = error_for_status(401, dashscope_body("InvalidApiKey", f"bad key {key}"))
    assert key not in str(err)


def test_ordinary_text_is_not_redacted() -> None:
    err = error_for_status(400, {"message": "task-queue is full; skip-this one"})
    assert "task-queue is full; skip-this one" in str(err)


# Keys of other shapes than sk-...: a gateway's live key, a UUID-like key, a short 12-char key.
OTHER_KEYS = ["tb_live_Q7xK2mP9vL4nR8sT", "3f2b8c1e-9d4a-4e7b-a6c5-0f1e2d3c4b5a", "Zq8vN2kR5wLt"]


@pytest.mark.parametrize("key", OTHER_KEYS)
def test_echoed_key_of_any_shape_is_redacted_from_every_field(key: str) -> None:
    body = {
        "error": {"code": f"bad_key_{key}", "message": f"key {key} is not valid", "param": [{"seen": key}]},
        "request_id": f"req-{key}",
        key: "the key as a field name",
    }
    partial = ThinkResult(reasoning=f"thinking {key}", answer=f"so far {key}", request_id=f"chunk-{key}")
    err = error_for_status(401, body, partial=partial, secrets=(key,))
    assert type(err) is AuthenticationError
    shown = [str(err), repr(err), err.message, err.code, err.request_id, repr(err.body)]
    assert err.partial is not None
    shown.append(repr(err.partial.to_dict()))
    for text in shown:
        assert key not in str(text)
    assert "is not valid" in str(err)
    assert err.body["error"]["param"] == [{"seen": "***"}]
    assert body["error"]["param"] == [{"seen": key}]  # the caller's object is not changed


@pytest.mark.parametrize("key", OTHER_KEYS)
def test_echoed_key_in_request_id_header_is_redacted(key: str) -> None:
    err = error_for_status(500, {"message": "boom"}, request_id=f"hdr-{key}", secrets=(key,))
    assert err.request_id == "hdr-***"


def test_key_cut_by_the_raw_text_limit_is_still_redacted() -> None:
    key = "tbk_9fQ2xL7vR4mN8pW3zT6y"
    text = "x" * 490 + key  # the 500-character cut falls inside the key
    err = error_for_status(502, text, secrets=(key,))
    assert key[:8] not in str(err)


def test_url_credentials_are_redacted_everywhere() -> None:
    message = "could not reach http://alice:s3cr%40t@proxy.local:8080/v1 or https://TOKEN123@host/x"
    assert _errors.redact(message) == "could not reach http://***@proxy.local:8080/v1 or https://***@host/x"
    err = error_for_status(502, {"message": message})
    assert "s3cr" not in str(err) and "alice" not in str(err) and "TOKEN123" not in str(err)
    assert "proxy.local:8080/v1" in str(err)


def test_url_without_credentials_and_email_addresses_are_kept() -> None:
    text = "see http://host/path@v2?q=a@b and write to help@example.com"
    assert _errors.redact(text) == text


def test_percent_encoded_secret_is_redacted() -> None:
    key = "p@ss/w0rd+key"
    assert _errors.redact("GET http://u:p%40ss%2Fw0rd%2Bkey@h/ failed", key) == "GET http://***@h/ failed"
    assert _errors.redact("said p%40ss%2Fw0rd%2Bkey", key) == "said ***"


@pytest.mark.parametrize("placeholder", [None, "", "EMPTY", "none"])
def test_placeholder_keys_do_not_garble_messages(placeholder: str | None) -> None:
    assert _errors.redact("none of the models is EMPTY", placeholder) == "none of the models is EMPTY"


def test_credentials_in_url() -> None:
    import base64

    basic = base64.b64encode(b"alice:s3cr@t").decode()
    assert _errors.credentials_in("http://alice:s3cr%40t@h/v1") == ("alice", "s3cr@t", basic)
    assert _errors.credentials_in("https://TOKEN123@h/")[0] == "TOKEN123"
    assert _errors.credentials_in("http://h/v1") == ()
    assert _errors.credentials_in("http://@h/v1") == ()
    assert _errors.credentials_in("http://[::1") == ()
    assert _errors.credentials_in(None) == ()


def test_basic_credentials_are_redacted_but_the_word_basic_is_not() -> None:
    assert _errors.redact("got Authorization: Basic dGJ1c2VyOnB3LUhx==") == "got Authorization: Basic ***"
    assert _errors.redact("Basic Authentication is required") == "Basic Authentication is required"


def test_redact_data_walks_nested_data_and_survives_absurd_depth() -> None:
    key = "tbk_9fQ2xL7vR4mN8pW3zT6y"
    data: Any = {"a": [1, 2.5, None, True, {"b": (f"x{key}",)}], f"k{key}": 10**50}
    assert _errors.redact_data(data, key) == {"a": [1, 2.5, None, True, {"b": ("x***",)}], "k***": 10**50}
    deep: Any = key
    for _ in range(5000):
        deep = [deep]
    assert key not in repr(_errors.redact_data(deep, key))


def test_think_result_redacted() -> None:
    from thinkbook._types import Usage

    key = "Zq8vN2kR5wLt"
    result = ThinkResult(
        reasoning=key,
        answer=f"a {key}",
        usage=Usage(total_tokens=3, raw={"note": key}),
        model=f"m-{key}",
        request_id=key,
        finish_reason="stop",
    )
    clean = result.redacted(key)
    assert key not in repr(clean) and key not in repr(clean.to_dict()) and key not in repr(clean.usage.raw)  # type: ignore[union-attr]
    assert clean.answer == "a ***" and clean.finish_reason == "stop" and clean.usage.total_tokens == 3  # type: ignore[union-attr]
    assert result.redacted() == result
    explained = ThinkResult(answer=f"send Authorization: Bearer YOUR_API_KEY_HERE or https://me@host, not {key}")
    assert explained.redacted(key).answer == "send Authorization: Bearer YOUR_API_KEY_HERE or https://me@host, not ***"


def test_watched_secrets_are_redacted_from_httpx_and_httpcore_logs(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from thinkbook._redact import watch_secrets

    key = "tbk_log_9fQ2xL7vR4mN8pW3"
    watch_secrets(key, None)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("httpcore.http11").debug("headers=%r", [(b"x-request-id", f"r-{key}".encode())])
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s"', "POST", f"http://u:{key}@h/v1", "200 OK")
        logging.getLogger("httpx").info("nothing secret %d", 5)
    assert key not in caplog.text
    assert [r.getMessage() for r in caplog.records] == [
        "headers=[(b'x-request-id', b'r-***')]",
        'HTTP Request: POST http://***@h/v1 "200 OK"',
        "nothing secret 5",
    ]


# --- the class tree -----------------------------------------------------------------------------


ERROR_CLASSES = [
    ConfigurationError,
    MissingAPIKeyError,
    APIError,
    APIStatusError,
    BadRequestError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    RateLimitError,
    InternalServerError,
    APIConnectionError,
    APITimeoutError,
    StreamInterruptedError,
    ResponseFormatError,
]


@pytest.mark.parametrize("cls", ERROR_CLASSES)
def test_every_error_is_a_thinkbook_error(cls: type[Exception]) -> None:
    assert issubclass(cls, ThinkbookError)
    assert issubclass(cls, Exception)


def test_every_exported_error_class_is_a_thinkbook_error() -> None:
    for name in _errors.__all__:
        obj = getattr(_errors, name)
        if not isinstance(obj, type) or obj in (ThinkInterrupted, ThinkbookWarning):
            continue
        assert issubclass(obj, ThinkbookError), name


@pytest.mark.parametrize(
    "cls",
    [BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, RateLimitError, InternalServerError],
)
def test_status_classes_are_api_status_errors(cls: type[Exception]) -> None:
    assert issubclass(cls, APIStatusError)
    assert issubclass(cls, APIError)


def test_branches() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(StreamInterruptedError, APIError)
    assert issubclass(ResponseFormatError, APIError)
    assert not issubclass(ConfigurationError, APIError)
    assert issubclass(MissingAPIKeyError, ConfigurationError)
    assert MissingAPIKeyError("no key", variable="DASHSCOPE_API_KEY").variable == "DASHSCOPE_API_KEY"
    assert not issubclass(APIConnectionError, APIStatusError)


def test_thinkbook_error_carries_partial() -> None:
    partial = ThinkResult(answer="so far")
    err = StreamInterruptedError("connection closed", partial=partial)
    assert err.partial == partial
    assert str(err) == "connection closed"
    assert ConfigurationError("bad").partial is None


def test_think_interrupted_is_a_keyboard_interrupt() -> None:
    partial = ThinkResult(reasoning="r", answer="a")
    exc = ThinkInterrupted(partial)
    assert isinstance(exc, KeyboardInterrupt)
    assert not isinstance(exc, Exception)  # `except Exception` must not swallow Ctrl-C
    assert exc.partial is partial
    assert ThinkInterrupted().partial is None
    with pytest.raises(KeyboardInterrupt):
        raise exc


def test_warning_class() -> None:
    assert issubclass(ThinkbookWarning, UserWarning)
    assert not issubclass(ThinkbookWarning, ThinkbookError)


def test_public_package_exports_the_tree() -> None:
    for cls in [*ERROR_CLASSES, ThinkbookError, ThinkbookWarning, ThinkInterrupted]:
        assert getattr(thinkbook, cls.__name__) is cls
