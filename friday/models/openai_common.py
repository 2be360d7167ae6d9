"""What the Chat Completions and Responses adapters share: the lazily built SDK client,
the translation of SDK exceptions into `ModelError`, and a few small helpers.

Stop reasons. Both adapters put the provider's own finish reason in
`Msg.meta["raw_stop_reason"]` and normalise `Msg.stop_reason` to the vocabulary the
Anthropic adapter already speaks, so the agent loop checks one set of words:

    end_turn    the model finished (Chat "stop", Responses "completed" without calls)
    tool_use    the model wants tools run (Chat "tool_calls" / "function_call", or any
                response that carries tool calls)
    max_tokens  the output hit the token limit (Chat "length", Responses incomplete
                because of "max_output_tokens")
    refusal     a content filter stopped it (Chat "content_filter", Responses incomplete
                because of "content_filter")
    incomplete  Responses incomplete for any other reason (in meta["incomplete_reason"])

Any other raw reason passes through unchanged.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from friday.models.base import RETRYABLE_KINDS, ModelError, kind_for_status, parse_retry_after
from friday.models.wire import base_url_hint, not_an_event_stream, one_line

if TYPE_CHECKING:
    from openai import AsyncOpenAI

OPENAI_PROVIDERS = frozenset({"openai", "openai-chat"})

_CHAT_STOP = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}
_INCOMPLETE_STOP = {"max_output_tokens": "max_tokens", "content_filter": "refusal"}


def chat_stop_reason(raw: str, has_tool_calls: bool) -> str:
    """Normalise a Chat Completions finish_reason. Some compatible servers say "stop"
    even when the message carries tool calls; the calls decide."""
    if has_tool_calls and raw in ("stop", "tool_calls", "function_call"):
        return "tool_use"
    return _CHAT_STOP.get(raw, raw)


def responses_stop_reason(status: str, incomplete_reason: str | None, has_calls: bool) -> str:
    """Normalise a Responses terminal status (see the module docstring)."""
    if status == "incomplete":
        return _INCOMPLETE_STOP.get(incomplete_reason or "", "incomplete")
    return "tool_use" if has_calls else "end_turn"


def data_url(media_type: str, data: str) -> str:
    return f"data:{media_type};base64,{data}"


def tool_arguments_json(raw_arguments: str | None, arguments: dict[str, Any]) -> str:
    """The arguments string to send back for a past tool call: what the model sent
    when it was not valid JSON (so the model sees its own mistake), else the JSON."""
    if raw_arguments is not None:
        return raw_arguments
    return json.dumps(arguments, ensure_ascii=False)


class OpenAIModelBase:
    """Constructor and client shared by both OpenAI adapters. The SDK is imported and
    the client built on the first request, so constructing a model stays cheap."""

    default_provider = "openai"

    def __init__(
        self,
        model_id: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: str | None = None,
        timeout: float = 600.0,
        default_headers: dict[str, str] | None = None,
        api_key_env: str | None = None,
    ) -> None:
        self.model_id = model_id
        self.provider = provider or self.default_provider
        self.name = f"{self.provider}:{model_id}"
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.default_headers = dict(default_headers or {})
        self.api_key_env = api_key_env or default_key_env(self.provider)
        self._client: AsyncOpenAI | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, base_url={self.base_url!r})"

    def client(self) -> AsyncOpenAI:
        """The SDK client, built once. Retries are off: Friday's retry layer retries
        and reports each attempt."""
        if self._client is None:
            import openai

            try:
                self._client = openai.AsyncOpenAI(
                    api_key=self.api_key,
                    base_url=self.base_url,
                    timeout=self.timeout,
                    max_retries=0,
                    default_headers=self.default_headers or None,
                )
            except openai.OpenAIError as exc:
                raise ModelError(
                    "config",
                    f"No API key for {label(self.provider)}: set {self.api_key_env}, "
                    "or pick another model with --model.",
                    model=self.name,
                ) from exc
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP connections, on the event loop that opened them (the SDK's
        own cleanup at garbage collection may run after that loop has closed)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def model_error(self, exc: BaseException, *, streaming: bool) -> ModelError | None:
        """`exc` as a ModelError, or None when it is not an SDK or transport failure
        (a bug, which should surface as itself)."""
        return to_model_error(exc, self, streaming=streaming)

    def not_an_event_stream(self, sdk_stream: Any, client: AsyncOpenAI) -> ModelError | None:
        """The error for a stream that ended with no event, when the answer was not an
        event stream at all (see `friday.models.wire.not_an_event_stream`)."""
        return not_an_event_stream(
            sdk_stream.response,
            provider=self.provider,
            base_url=client.base_url,
            hint=base_url_hint(self.provider, self.base_url, "OPENAI_BASE_URL"),
            model=self.name,
        )


def default_key_env(provider: str) -> str:
    if provider in OPENAI_PROVIDERS:
        return "OPENAI_API_KEY"
    return provider.upper().replace("-", "_").replace(".", "_") + "_API_KEY"


def label(provider: str) -> str:
    return "OpenAI" if provider in OPENAI_PROVIDERS else provider


# -- errors -------------------------------------------------------------------------------


def to_model_error(
    exc: BaseException, model: OpenAIModelBase, *, streaming: bool
) -> ModelError | None:
    """Classify an exception raised while creating or reading a stream. `streaming`
    says whether the response had started: a connection lost then is a cut stream.
    A ModelError passes through unchanged."""
    if isinstance(exc, ModelError):
        return exc
    return _sdk_error(exc, model, streaming=streaming)


def _sdk_error(exc: BaseException, model: OpenAIModelBase, *, streaming: bool) -> ModelError | None:
    import httpx2
    import openai

    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, model)
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return ModelError(
            "timeout",
            f"{label(model.provider)} did not answer within {model.timeout:g}s. "
            "Try again, or raise the timeout for slow models.",
            model=model.name,
        )
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return _connection_error(exc, model, streaming=streaming)
    if isinstance(exc, openai.APIError):
        return stream_error(exc.body, exc.message, model.provider, model.name)
    if isinstance(exc, json.JSONDecodeError):
        return ModelError(
            "server",
            f"{label(model.provider)} sent a stream chunk that is not JSON ({exc.msg}). "
            "Try again; check the base URL if it persists.",
            model=model.name,
        )
    return None


def _connection_error(exc: BaseException, model: OpenAIModelBase, *, streaming: bool) -> ModelError:
    cause = exc.__cause__ or exc.__context__ or exc
    why = str(cause) or type(cause).__name__
    if streaming:
        return ModelError(
            "stream_cut",
            f"The connection to {label(model.provider)} broke mid-response ({one_line(why)}). "
            "Try again.",
            model=model.name,
        )
    where = model.base_url or "the OpenAI API"
    return ModelError(
        "connection",
        f"Could not reach {where} ({one_line(why)}). Check the network and the base URL.",
        model=model.name,
    )


def error_detail(body: Any, fallback: str) -> tuple[str | None, str]:
    """(code, one-line detail) from an error body: `{"message", "code", "type"}` as the
    SDK hands it (already unwrapped from `{"error": ...}`), or whatever came instead."""
    if hasattr(body, "model_dump"):
        body = body.model_dump()
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if isinstance(body, dict):
        code = body.get("code") or body.get("type")
        message = body.get("message") or fallback
    else:
        code, message = None, (body if isinstance(body, str) and body else fallback)
    code_text = str(code) if code is not None else None
    detail = f"{code_text}: {message}" if code_text else str(message)
    return code_text, one_line(detail)


def _status_error(exc: Any, model: OpenAIModelBase) -> ModelError:
    status = int(exc.status_code)
    code, detail = error_detail(exc.body, f"HTTP {status}")
    kind = kind_for_status(status)
    if status == 429 and code == "insufficient_quota":
        # Retrying an exhausted quota only burns time: not a rate limit.
        kind = "permission"
    return ModelError(
        kind,
        _status_message(status, code, detail, model),
        status=status,
        retry_after=parse_retry_after(exc.response.headers),
        model=model.name,
    )


_STATUS_TEMPLATES = {
    401: "{who} rejected the API key ({detail}). Check {env}.",
    403: "{who} refused access ({detail}). Check that the key may use '{model}'.",
    429: "{who} rate limit reached ({detail}). Wait a moment, or lower the request rate.",
    "quota": "{who} says the account is out of quota ({detail}). Check plan and billing.",
    500: "{who} server error {status} ({detail}). Try again later.",
    400: "{who} rejected the request to '{model}' ({detail}). Check the model options.",
}


def _status_message(status: int, code: str | None, detail: str, model: OpenAIModelBase) -> str:
    if status == 404:
        hint = "Check --model."
        if code != "model_not_found" and model.base_url:
            hint = f"Check --model and the base URL {model.base_url}."
        return f"{model.provider} has no model '{model.model_id}' ({detail}). {hint}"
    key: int | str = status
    if status == 429 and code == "insufficient_quota":
        key = "quota"
    elif status >= 500:
        key = 500
    template = _STATUS_TEMPLATES.get(key, _STATUS_TEMPLATES[400])
    return template.format(
        who=label(model.provider),
        detail=detail,
        env=model.api_key_env,
        model=model.model_id,
        status=status,
    )


_CODE_KINDS = (
    ("rate_limit", "rate_limit"),
    ("overloaded", "overloaded"),
    ("capacity", "overloaded"),
    ("server", "server"),
    ("internal", "server"),
    ("timeout", "timeout"),
    ("context_length", "bad_request"),
    ("invalid", "bad_request"),
    ("not_found", "not_found"),
    ("auth", "auth"),
)


def kind_for_code(code: Any) -> str:
    """The kind of an error reported inside a stream, where there is no HTTP status:
    OpenRouter sends numeric codes (400, 429, 502), OpenAI named ones."""
    if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
        return kind_for_status(int(code))
    text = str(code or "").lower()
    for needle, kind in _CODE_KINDS:
        if needle in text:
            return kind
    return "server"


def stream_error(body: Any, fallback: str, provider: str, model_name: str) -> ModelError:
    """A failure the provider reported inside an otherwise successful stream."""
    code, detail = error_detail(body, fallback)
    kind = kind_for_code(code)
    status = int(code) if code is not None and code.isdigit() else None
    hint = " Try again." if kind in RETRYABLE_KINDS else ""
    return ModelError(
        kind,
        f"{label(provider)} stopped the response with an error ({detail}).{hint}",
        status=status,
        model=model_name,
    )
