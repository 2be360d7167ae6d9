"""Small helpers every adapter shares, free of any SDK import so that importing an
adapter module stays cheap: reading fields of SDK objects, one-line error details, and
the check that tells a wrong server apart from a cut stream.
"""

from __future__ import annotations

from typing import Any

from friday.models.base import ModelError

MAX_DETAIL = 300


def sdk_field(obj: Any, name: str, default: Any = None) -> Any:
    """An attribute of an SDK object or a key of a dict. Servers add fields the SDK
    does not declare (reasoning_content, prompt_cache_hit_tokens); the SDK keeps them
    as attributes, and some paths hand us plain dicts, so read both ways."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        value = obj.get(name)
    else:
        value = getattr(obj, name, None)
        if value is None:
            extra = getattr(obj, "model_extra", None) or {}
            value = extra.get(name)
    return default if value is None else value


def one_line(text: Any, limit: int = MAX_DETAIL) -> str:
    """`text` with its whitespace runs collapsed, cut to `limit` characters: error
    bodies (a proxy's HTML page, a multi-line JSON error) go into one-line messages."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def base_url_hint(provider: str, configured: str | None, env_var: str) -> str:
    """Where the user sets the base URL that was used: the SDK's own variable when
    the adapter was given none, else the provider's `base_url` setting."""
    if configured is None:
        return env_var
    return f"base_url in [providers.{provider}]"


def not_an_event_stream(
    response: Any, *, provider: str, base_url: Any, hint: str, model: str
) -> ModelError | None:
    """The error for a 200 answer that carried no event at all, when it is not an
    event stream either: a login page of a proxy, or a base URL that points at some
    other web server. Retrying it only repeats the same page, so it is not a cut
    stream. None when the content type is right: then the stream really was cut."""
    content_type = str(response.headers.get("content-type") or "")
    if "text/event-stream" in content_type.lower():
        return None
    shown = content_type.split(";")[0].strip() or "no content type"
    where = str(base_url).rstrip("/")
    return ModelError(
        "bad_response",
        f"{provider} at {where} answered with {shown}, not an event stream: check {hint}",
        status=int(response.status_code),
        model=model,
    )
