"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks of the LLM annotators.

It runs in a thread on a free port and answers ``POST /v1/chat/completions``. Its behaviour per item is
scripted by markers inside the profile text, so it stays deterministic under any concurrency:

* ``#expert``                -> ``ACCEPT`` (otherwise ``REJECT``)
* ``#rate-limit-once``       -> HTTP 429 on the first request for this text, then a normal answer
* ``#server-error-twice``    -> HTTP 500 on the first two requests for this text, then a normal answer
* ``#server-error-always``   -> HTTP 500 every time
* ``#slow-once``             -> the first request sleeps ``slow_s`` (longer than the client timeout)
* ``#malformed``             -> a chatty answer ("I would say ACCEPT because ...")
* "ignore the rubric"        -> the model is fooled: it echoes the injected instruction back

``fault`` makes every request fail one way (the vendor faults of docs/reliability.md): ``unauthorized``
(401 whose message echoes the Authorization header, as some proxies do), ``always_429``, ``retry_after_long``
(429 with ``Retry-After: 3600``), ``always_500``, ``bad_json`` (200 with a broken body), ``html`` (200 with an
HTML page), ``hang`` (sleeps ``slow_s`` before answering), ``huge_answer`` (a ``huge_chars`` answer).

Every request is recorded (messages, the profile between the markers, the status returned).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_PROFILE = re.compile(r"<profile>\n?(.*?)\n?</profile>", re.DOTALL)
INJECTION = "ignore the rubric"


class FakeLLMServer:
    FAULTS = ("unauthorized", "always_429", "retry_after_long", "always_500", "bad_json", "html", "hang",
              "huge_answer")

    def __init__(self, latency_s: float = 0.0, slow_s: float = 3.0, prompt_tokens: int = 500,
                 completion_tokens: int = 1, fault: str | None = None, huge_chars: int = 1_000_000):
        if fault is not None and fault not in self.FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        self.latency_s, self.slow_s, self.fault, self.huge_chars = latency_s, slow_s, fault, huge_chars
        self.prompt_tokens, self.completion_tokens = prompt_tokens, completion_tokens
        self.requests: list[dict] = []
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def __enter__(self) -> "FakeLLMServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload, delay = server._respond(self.path, body, dict(self.headers))
                if delay:
                    time.sleep(delay)
                content_type = "application/json"
                if server.fault == "bad_json" and status == 200:
                    data = b'{"id": "x", "choices": [{"message": {"content": "ACC'
                elif server.fault == "html" and status == 200:
                    data, content_type = b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
                else:
                    data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    if status == 429:
                        self.send_header("Retry-After", "3600" if server.fault == "retry_after_long" else "0")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- behaviour
    def _respond(self, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict, float]:
        messages = body.get("messages") or []
        user = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        profiles = _PROFILE.findall(user)
        profile = profiles[0] if len(profiles) == 1 else user
        key = hashlib.sha256(profile.encode()).hexdigest()
        with self._lock:
            self._seen[key] = nth = self._seen.get(key, 0) + 1
        status, delay = 200, self.latency_s
        if not path.rstrip("/").endswith("/chat/completions"):
            status = 404
        elif "#rate-limit-once" in profile and nth == 1:
            status = 429
        elif "#server-error-always" in profile or ("#server-error-twice" in profile and nth <= 2):
            status = 500
        elif "#slow-once" in profile and nth == 1:
            delay = self.slow_s
        elif self.fault == "unauthorized":
            status = 401
        elif self.fault in ("always_429", "retry_after_long"):
            status = 429
        elif self.fault == "always_500":
            status = 500
        elif self.fault == "hang":
            delay = self.slow_s
        lowered = profile.lower()
        if INJECTION in lowered:
            start = lowered.index(INJECTION)
            answer = profile[start:start + 60].strip()  # a fooled model parrots the instruction
        elif "#malformed" in profile:
            answer = "I would say ACCEPT because the profile mentions PyTorch."
        elif self.fault == "huge_answer":
            answer = "REJECT " + "x" * self.huge_chars
        else:
            answer = "ACCEPT" if "#expert" in profile else "REJECT"
        with self._lock:
            self.requests.append({"path": path, "model": body.get("model"), "messages": messages,
                                  "profiles": profiles, "status": status, "temperature": body.get("temperature"),
                                  "answer": answer if status == 200 else None})
        if status != 200:
            message = f"scripted status {status}"
            if status == 401:
                auth = (headers or {}).get("Authorization") or (headers or {}).get("authorization")
                message = f"Incorrect API key provided. Request headers: {{'Authorization': '{auth}'}}"
            error = {"error": {"message": message, "type": "server_error", "code": status}}
            return status, error, delay
        payload = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                      "total_tokens": self.prompt_tokens + self.completion_tokens},
        }
        return status, payload, delay

    def n_requests(self, marker: str | None = None) -> int:
        with self._lock:
            if marker is None:
                return len(self.requests)
            return sum(1 for r in self.requests if any(marker in p for p in r["profiles"]))
