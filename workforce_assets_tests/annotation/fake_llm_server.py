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

It also implements the OpenAI files and batches endpoints (``POST /v1/files`` multipart upload, ``GET
/v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches/{id}``): a job's requests are answered by the
same scripted behaviour, and the job reports ``in_progress`` for its first ``batch_polls_until_done``
retrievals, then ``completed`` with an output file (one line per request, errors as non-200 lines).
"""

from __future__ import annotations

import email.parser
import hashlib
import itertools
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
                 completion_tokens: int = 1, fault: str | None = None, huge_chars: int = 1_000_000,
                 batch_polls_until_done: int = 1):
        if fault is not None and fault not in self.FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        self.latency_s, self.slow_s, self.fault, self.huge_chars = latency_s, slow_s, fault, huge_chars
        self.prompt_tokens, self.completion_tokens = prompt_tokens, completion_tokens
        self.requests: list[dict] = []
        self.batch_polls_until_done = batch_polls_until_done
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.batch_calls: list[str] = []  # "create_file", "create_batch", "retrieve_batch", "file_content"
        self._ids = itertools.count(1)
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

            def _send_json(self, status: int, payload, raw: bytes | None = None, content_type="application/json") -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                status, payload, raw = server._batch_get(self.path)
                self._send_json(status, payload, raw, "application/octet-stream" if raw is not None else "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                if self.path.rstrip("/").endswith(("/files", "/batches")):
                    status, payload = server._batch_post(self.path, data, self.headers.get("Content-Type", ""))
                    self._send_json(status, payload)
                    return
                body = json.loads(data or b"{}")
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

    # -- files and batches (the OpenAI batch API)
    def _new_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}-{next(self._ids)}"

    def _batch_post(self, path: str, data: bytes, content_type: str) -> tuple[int, dict]:
        if path.rstrip("/").endswith("/files"):
            message = email.parser.BytesParser().parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + data)
            content = next((part.get_payload(decode=True) for part in message.get_payload()
                            if part.get_param("name", header="content-disposition") == "file"), None)
            if content is None:
                return 400, {"error": {"message": "no file part"}}
            file_id = self._new_id("file")
            with self._lock:
                self.files[file_id] = content
                self.batch_calls.append("create_file")
            return 200, {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                         "filename": "requests.jsonl", "purpose": "batch", "status": "processed"}
        body = json.loads(data or b"{}")
        if body.get("input_file_id") not in self.files:
            return 404, {"error": {"message": f"no file {body.get('input_file_id')}"}}
        batch_id = self._new_id("batch")
        lines = []
        for line in self.files[body["input_file_id"]].decode().splitlines():
            if not line.strip():
                continue
            request = json.loads(line)
            status, payload, _ = self._respond(request["url"], request["body"])
            lines.append(json.dumps({"id": f"req-{batch_id}-{len(lines)}", "custom_id": request["custom_id"],
                                     "response": {"status_code": status, "body": payload},
                                     "error": None if status == 200 else payload.get("error")}))
        output_id = self._new_id("file")
        with self._lock:
            self.files[output_id] = ("\n".join(lines) + "\n").encode()
            self.batches[batch_id] = {"id": batch_id, "object": "batch", "endpoint": body.get("endpoint"),
                                      "input_file_id": body["input_file_id"], "completion_window": "24h",
                                      "status": "in_progress", "created_at": int(time.time()), "polls": 0,
                                      "final_output_file_id": output_id,
                                      "request_counts": {"total": len(lines), "completed": 0, "failed": 0}}
            self.batch_calls.append("create_batch")
        return 200, self._batch_view(batch_id)

    def _batch_view(self, batch_id: str) -> dict:
        job = self.batches[batch_id]
        view = {k: v for k, v in job.items() if k not in ("polls", "final_output_file_id")}
        view["output_file_id"] = job["final_output_file_id"] if job["status"] == "completed" else None
        view["error_file_id"] = None
        return view

    def _batch_get(self, path: str) -> tuple[int, dict | None, bytes | None]:
        parts = path.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] == "batches" and parts[-1] in self.batches:
            with self._lock:
                job = self.batches[parts[-1]]
                job["polls"] += 1
                if job["polls"] > self.batch_polls_until_done:
                    job["status"] = "completed"
                    job["request_counts"]["completed"] = job["request_counts"]["total"]
                self.batch_calls.append("retrieve_batch")
            return 200, self._batch_view(parts[-1]), None
        if len(parts) >= 3 and parts[-1] == "content" and parts[-2] in self.files:
            with self._lock:
                self.batch_calls.append("file_content")
            return 200, None, self.files[parts[-2]]
        return 404, {"error": {"message": f"no such resource {path}"}}, None

    def n_requests(self, marker: str | None = None) -> int:
        with self._lock:
            if marker is None:
                return len(self.requests)
            return sum(1 for r in self.requests if any(marker in p for p in r["profiles"]))
