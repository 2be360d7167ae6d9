"""How the Anthropic adapter reports failures: SDK and transport exceptions, HTTP
error statuses and `error` events inside a 200 stream become `ModelError`s whose one-line
message says what to do.
"""

from __future__ import annotations

import json
from typing import Any

from friday.models.base import ModelError, kind_for_status, parse_retry_after
from friday.models.wire import one_line, sdk_field

# Error types of an `error` event inside a 200 stream, as Friday's error kinds.
_STREAM_ERROR_KINDS = {
    "overloaded_error": "overloaded",
    "api_error": "server",
    "rate_limit_error": "rate_limit",
}


def _describe(error: Any, fallback: str) -> tuple[str | None, str]:
    """(error type, "type: message") of an Anthropic error object; a body that was not
    JSON (a proxy's HTML page) is its own description."""
    if isinstance(error, str):
        return None, one_line(error) or fallback
    error_type = sdk_field(error, "type")
    parts = [p for p in (error_type, one_line(sdk_field(error, "message") or "")) if p]
    return error_type, ": ".join(parts) or fallback


def stream_error(error: Any) -> ModelError:
    """The ModelError for an `error` event inside an otherwise successful stream."""
    error_type, detail = _describe(error, "no details")
    kind = _STREAM_ERROR_KINDS.get(error_type or "", "bad_request")
    advice = "Retry the request." if kind != "bad_request" else "Check the request."
    return ModelError(kind, f"Anthropic failed mid-response ({detail}). {advice}")


def status_error(status: int, body: Any, headers: Any, model_id: str) -> ModelError:
    """The ModelError for an HTTP error status, with a message that says what to do."""
    error_type, detail = _describe(sdk_field(body, "error") if isinstance(body, dict) else body, "")
    kind = "overloaded" if error_type == "overloaded_error" else kind_for_status(status)
    detail = detail or f"HTTP {status}"
    texts = {
        "auth": f"Anthropic rejected the API key ({detail}). Check ANTHROPIC_API_KEY.",
        "permission": f"Anthropic denied access to model {model_id!r} ({detail}). "
        "Check that the API key's workspace may use it.",
        "not_found": f"Anthropic has no model {model_id!r} ({detail}). Check --model.",
        "rate_limit": f"Anthropic rate limit reached ({detail}). Wait, then retry.",
        "overloaded": f"Anthropic is overloaded ({detail}). Retry later or use another model.",
        "server": f"Anthropic had a server error, HTTP {status} ({detail}). Retry later.",
        "timeout": f"Anthropic timed out the request ({detail}). Retry it.",
        "conflict": f"Anthropic reported a conflict ({detail}). Retry the request.",
    }
    fallback = f"Anthropic rejected the request, HTTP {status} ({detail}). Adjust what it names."
    text = texts.get(kind, fallback)
    return ModelError(kind, text, status=status, retry_after=parse_retry_after(headers))


def translate_error(exc: Exception, *, model_id: str, streaming: bool) -> ModelError | None:  # noqa: PLR0911
    """Classify an exception from the SDK or its transport; None if it is neither.

    `streaming` says whether the response had started: a transport failure then is a
    cut stream, before it a failed connection. The SDK raises an `error` event inside a
    200 stream as a status error with the stream's own status, told apart by that status.
    """
    import anthropic
    import httpx2

    if isinstance(exc, anthropic.APIStatusError):
        if exc.status_code < 400:
            return stream_error(
                sdk_field(exc.body, "error") if isinstance(exc.body, dict) else exc.body
            )
        return status_error(exc.status_code, exc.body, exc.response.headers, model_id)
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return ModelError("timeout", "Anthropic did not answer in time. Retry the request.")
    if isinstance(exc, anthropic.APIConnectionError | httpx2.HTTPError):
        cause = exc.__cause__ or exc
        reason = one_line(f"{type(cause).__name__}: {cause}")
        if streaming:
            return ModelError(
                "stream_cut",
                f"The connection to Anthropic dropped mid-response ({reason}). Retry the request.",
            )
        return ModelError(
            "connection",
            f"Could not connect to Anthropic ({reason}). Check the network and "
            "ANTHROPIC_BASE_URL, then retry.",
        )
    if streaming and isinstance(exc, json.JSONDecodeError):
        return ModelError(
            "stream_cut",
            f"Anthropic sent a malformed stream event ({one_line(exc)}). Retry the request.",
        )
    if isinstance(exc, TypeError) and "authentication" in str(exc):
        return ModelError("config", "No Anthropic API key found. Set ANTHROPIC_API_KEY.")
    if isinstance(exc, anthropic.CredentialsError):
        detail = one_line(exc)
        return ModelError(
            "config", f"Anthropic credentials failed ({detail}). Set ANTHROPIC_API_KEY."
        )
    if isinstance(exc, anthropic.AnthropicError):
        return ModelError("server", f"Anthropic SDK error ({one_line(exc)}). Retry the request.")
    return None
