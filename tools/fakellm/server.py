"""The HTTP side of FakeLLM: a stdlib ThreadingHTTPServer on loopback that records each request,
hands the next scripted turn to the protocol the path names, and writes the answer.

Every answer either carries Content-Length or is chunked with one chunk per SSE event, so no
client ever waits for an end that is not coming, except on purpose (`cut_after`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tools.fakellm import anthropic, chat, responses
from tools.fakellm.errors import error_body, error_headers
from tools.fakellm.script import Ctx, IdMaker, check_turns, load_script, split_sse

ROUTES = {
    "/v1/messages": "anthropic",
    "/v1/chat/completions": "chat",
    "/v1/responses": "responses",
}
ROUTES.update({path.removeprefix("/v1"): proto for path, proto in list(ROUTES.items())})
RENDERERS = {"anthropic": anthropic, "chat": chat, "responses": responses}
MODELS = ("claude-sonnet-4-5", "gpt-4o", "fakellm")
SSE_TYPE = "text/event-stream; charset=utf-8"
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; `path` has no query string (that is in `query`)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    query: str = ""
    # When the request's headers had arrived (time.time()), and the body's size in bytes:
    # the benchmarks measure start-up to first request and the request size with them.
    received_at: float = 0.0
    size: int = 0


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: the fake must never listen on a network."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FakeLLM:
    """A scripted LLM server; each POST to a model endpoint plays the next turn."""

    def __init__(self, turns: list[dict[str, Any]], port: int = 0, *, host: str = "127.0.0.1"):
        if not is_loopback(host):
            raise ValueError(f"fakellm: refusing to listen on non-loopback host {host!r}")
        self.turns = check_turns(list(turns))
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.turns_served = 0
        self.new_id = IdMaker()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_file(cls, path: str | Path, port: int = 0, **kwargs: Any) -> FakeLLM:
        return cls(load_script(path), port=port, **kwargs)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    def start(self) -> FakeLLM:
        if self._httpd is not None:
            return self
        server_cls = _Server6 if ":" in self.host else _Server
        self._httpd = server_cls((self.host, self.port), _Handler)
        self._httpd.fakellm = self
        self.port = self._httpd.server_address[1]
        self.stopping.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakellm:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_turns(self, turns: list[dict[str, Any]]) -> None:
        """Append turns to a running script (for tests that decide the next answer late)."""
        checked = check_turns(list(turns))
        with self._lock:
            self.turns.extend(checked)

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def next_turn(self) -> tuple[int, dict[str, Any]] | None:
        """(its 1-based number, the next unplayed turn), or None when the script is exhausted."""
        with self._lock:
            if self.turns_served >= len(self.turns):
                return None
            self.turns_served += 1
            return self.turns_served, self.turns[self.turns_served - 1]

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the server is stopping meanwhile."""
        return bool(seconds) and self.stopping.wait(float(seconds))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    fakellm: FakeLLM

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is routine here (interrupt tests do it on purpose)."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Unblock handler threads parked on idle keep-alive connections."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakellm/1.0"
    server: _Server
    _started = False

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: test output should show the test's own failures, not access logs."""

    def version_string(self) -> str:
        return self.server_version

    @property
    def fake(self) -> FakeLLM:
        return self.server.fakellm

    # -- routing ---------------------------------------------------------------------------

    def do_POST(self) -> None:
        received_at = time.time()
        raw = self._read_body()
        path, query = self._split_path()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake.record(RecordedRequest("POST", path, headers, body, query, received_at, len(raw)))
        protocol = ROUTES.get(path)
        if protocol is None:
            self._not_found(path)
            return
        if body is None:
            self._refuse(protocol, "fakellm: the request body is not a JSON object")
            return
        numbered = self.fake.next_turn()
        if numbered is None:
            self._refuse(protocol, f"fakellm: script exhausted after {len(self.fake.turns)} turns")
            return
        number, turn = numbered
        self._started = False
        try:
            self._play(protocol, turn, body)
        except Exception as exc:
            self.close_connection = True
            if not self._started:
                msg = f"fakellm: cannot play turn {number}: {type(exc).__name__}: {exc}"
                self._send_json(500, error_body(protocol, 500, msg))

    def do_GET(self) -> None:
        self._get(send_body=True)

    def do_HEAD(self) -> None:
        self._get(send_body=False)

    def _get(self, send_body: bool) -> None:
        path, query = self._split_path()
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake.record(RecordedRequest(self.command, path, headers, None, query))
        if path in ("/v1/models", "/models"):
            self._send_json(200, _models_list(), send_body=send_body)
        elif path.startswith(("/v1/models/", "/models/")):
            self._send_json(200, _model_entry(path.rsplit("/", 1)[1]), send_body=send_body)
        elif path in ROUTES:
            body = error_body(ROUTES[path], 405, f"fakellm: use POST for {path}")
            self._send_json(405, body, {"Allow": "POST"}, send_body=send_body)
        else:
            self._not_found(path, send_body=send_body)

    def _refuse(self, protocol: str, message: str) -> None:
        """A 400 in the protocol's shape: clients do not retry it, so a test fails at once."""
        ids = self._ids(protocol)
        body = error_body(protocol, 400, message, request_id=ids.get("request-id", ""))
        self._send_json(400, body, {**error_headers(protocol, 400), **ids})

    def _not_found(self, path: str, send_body: bool = True) -> None:
        msg = f"fakellm: no route for {self.command} {path}"
        self._send_json(404, error_body("openai", 404, msg), send_body=send_body)

    # -- playing a turn --------------------------------------------------------------------

    def _play(self, protocol: str, turn: dict[str, Any], body: dict[str, Any]) -> None:
        if self.fake.wait(turn.get("delay") or 0):
            self.close_connection = True
            return
        headers = {**self._ids(protocol), **(turn.get("headers") or {})}
        request_id = headers.get("request-id", "")
        wanted = turn.get("require_api_key")
        if wanted is not None and self._api_key() != wanted:
            failed = {**error_headers(protocol, 401), **headers}
            self._send_json(401, error_body(protocol, 401, request_id=request_id), failed)
            return
        status = int(turn.get("status") or 200)
        if "raw_sse" in turn:
            events = split_sse(Path(turn["raw_sse"]).read_bytes())
            self._send_stream(status, events, headers, turn)
        elif "raw_body" in turn:
            raw = turn["raw_body"]
            data = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
            ctype = turn.get("content_type") or JSON_TYPE
            self._send_bytes(status, data, {"Content-Type": ctype, **headers}, turn)
        elif status >= 400 or "body" in turn:
            data = turn.get("body") or error_body(protocol, status, request_id=request_id)
            self._send_json(status, data, {**error_headers(protocol, status), **headers}, turn)
        else:
            ctx = Ctx(body, self.fake.new_id, turn)
            renderer = RENDERERS[protocol]
            if body.get("stream") is True:
                self._send_stream(status, renderer.stream_events(ctx), headers, turn)
            else:
                self._send_json(status, renderer.response_body(ctx), headers, turn)

    def _ids(self, protocol: str) -> dict[str, str]:
        name = "request-id" if protocol == "anthropic" else "x-request-id"
        return {name: self.fake.new_id("req")}

    def _api_key(self) -> str | None:
        if self.headers.get("x-api-key") is not None:
            return self.headers["x-api-key"]
        auth = self.headers.get("authorization") or ""
        return auth[7:] if auth.lower().startswith("bearer ") else None

    # -- writing ---------------------------------------------------------------------------

    def _send_json(
        self,
        status: int,
        data: Any,
        headers: dict[str, str] | None = None,
        turn: dict[str, Any] | None = None,
        send_body: bool = True,
    ) -> None:
        raw = data.encode() if isinstance(data, str) else json.dumps(data).encode()
        headers = {"Content-Type": JSON_TYPE, **(headers or {})}
        self._send_bytes(status, raw, headers, turn, send_body)

    def _send_bytes(
        self,
        status: int,
        data: bytes,
        headers: dict[str, str],
        turn: dict[str, Any] | None = None,
        send_body: bool = True,
    ) -> None:
        """A body with Content-Length; with `cut_after` only its first N bytes, then a close."""
        cut = (turn or {}).get("cut_after")
        try:
            self._start(status, headers, {"Content-Length": str(len(data))})
            if not send_body:
                return
            if cut is not None:
                self.wfile.write(data[: max(0, min(int(cut), len(data) - 1))])
                self.close_connection = True
                return
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _send_stream(
        self, status: int, events: list[bytes], headers: dict[str, str], turn: dict[str, Any]
    ) -> None:
        """One chunk per SSE event. `cut_after` N sends N events and closes the socket without
        the final zero-length chunk, which clients see as an incomplete chunked body."""
        cut = turn.get("cut_after")
        gap = turn.get("chunk_delay") or 0
        base = {"Content-Type": SSE_TYPE, "Cache-Control": "no-cache"}
        try:
            self._start(status, {**base, **headers}, {"Transfer-Encoding": "chunked"})
            for number, event in enumerate(events):
                if cut is not None and number >= int(cut):
                    break
                if number and self.fake.wait(gap):
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            else:
                if cut is None:
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
            self.close_connection = True
        except OSError:
            self.close_connection = True

    def _start(self, status: int, headers: dict[str, str], framing: dict[str, str]) -> None:
        self._started = True
        self.send_response(status)
        merged: dict[str, tuple[str, str]] = {}
        for name, value in [*headers.items(), *framing.items()]:
            merged[name.lower()] = (name, str(value))
        if "content-length" in {name.lower() for name in framing}:
            merged.pop("transfer-encoding", None)
        else:
            merged.pop("content-length", None)
        for name, value in merged.values():
            self.send_header(name, value)
        self.end_headers()

    # -- reading ---------------------------------------------------------------------------

    def _split_path(self) -> tuple[str, str]:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        return path, parts.query

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(data)
            data += self.rfile.read(size)
            self.rfile.readline()


def _model_entry(model_id: str) -> dict[str, Any]:
    """One model in a shape both SDKs accept (OpenAI `Model` and Anthropic `ModelInfo`)."""
    return {
        "id": model_id,
        "object": "model",
        "type": "model",
        "created": 1700000000,
        "created_at": "2025-01-01T00:00:00Z",
        "owned_by": "fakellm",
        "display_name": model_id,
    }


def _models_list() -> dict[str, Any]:
    data = [_model_entry(m) for m in MODELS]
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"],
        "last_id": data[-1]["id"],
    }


def wait_for_port(port_file: Path, timeout: float = 10.0) -> int:
    """The port a CLI server wrote to `port_file` (for tests and scripts that launch one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = port_file.read_text().strip()
        except OSError:
            text = ""
        if text.isdigit():
            return int(text)
        time.sleep(0.02)
    raise TimeoutError(f"fakellm: no port in {port_file} after {timeout} s")
