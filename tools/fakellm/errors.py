"""Error bodies in each provider's real shape, so the SDKs raise their own exception classes
with the message and code the adapters will meet in production."""

from __future__ import annotations

from typing import Any

ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
ANTHROPIC_MESSAGES = {
    400: "Invalid request",
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    404: "Not found",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    529: "Overloaded",
}
OPENAI_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
OPENAI_MESSAGES = {
    400: "Invalid request",
    401: "Incorrect API key provided.",
    403: "Country, region, or territory not supported",
    404: "The model does not exist or you do not have access to it.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}


def anthropic_error(status: int, message: str | None = None, request_id: str = "") -> dict:
    """`{"type":"error","error":{"type":...,"message":...},"request_id":...}`."""
    fallback = "api_error" if status >= 500 else "invalid_request_error"
    kind = ANTHROPIC_TYPES.get(status, fallback)
    text = message or ANTHROPIC_MESSAGES.get(status) or f"fakellm error {status}"
    body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": text}}
    if request_id:
        body["request_id"] = request_id
    return body


def openai_error(status: int, message: str | None = None) -> dict:
    """`{"error":{"message":...,"type":...,"param":null,"code":...}}`."""
    kind, code = OPENAI_TYPES.get(status) or (
        ("server_error", None) if status >= 500 else ("invalid_request_error", None)
    )
    text = message or OPENAI_MESSAGES.get(status) or f"fakellm error {status}"
    return {"error": {"message": text, "type": kind, "param": None, "code": code}}


def error_body(
    protocol: str, status: int, message: str | None = None, request_id: str = ""
) -> dict:
    """The error body for `protocol` ("anthropic", "chat", "responses" or anything else)."""
    if protocol == "anthropic":
        return anthropic_error(status, message, request_id)
    return openai_error(status, message)


def error_headers(protocol: str, status: int) -> dict[str, str]:
    """Headers the real services add to errors; Anthropic tells clients not to retry 4xx."""
    if protocol == "anthropic" and 400 <= status < 500 and status not in (408, 409, 429):
        return {"x-should-retry": "false"}
    return {}
