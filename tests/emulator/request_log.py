"""A WSGI middleware that writes every AWS request as one JSON line.

Tests count AWS calls by service and operation with it. The service comes from the
SigV4 credential scope (``Credential=KEY/DATE/REGION/SERVICE/aws4_request``, in the
``Authorization`` header or a presigned URL's ``X-Amz-Credential``); the operation
from ``X-Amz-Target`` (JSON protocols), the ``Action`` parameter (query protocols,
in the URL or the form body), or the ``/service/S/operation/O`` path of the RPC v2
protocol. REST protocols such as S3 name no operation: it is logged as null, next
to the method and path.

Each line also says when the request arrived and when its answer was ready
(``started`` and ``finished``, seconds since the epoch), and which fault the
emulator injected instead of answering (``fault``: ``throttle``, ``internal_error``
or ``drop``; null for a request moto handled; see ``faults.py``). A dropped request
has no status.
"""

import io
import json
import re
import threading
import time
from typing import Any, Callable, Iterable, TextIO
from urllib.parse import parse_qs

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_RPC_V2_PATH = re.compile(r"^/service/[^/]+/operation/([^/?]+)")
_FORM = "application/x-www-form-urlencoded"


class RequestLog:
    """Wraps a WSGI application and logs each request it serves to ``sink``."""

    def __init__(self, app: Callable, sink: TextIO) -> None:
        self._app = app
        self._sink = sink
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        # The launcher's own readiness probe, moto's control API and the fault switches
        # are not AWS calls.
        if path.startswith(("/moto-api", "/_atlas")):
            return self._app(environ, start_response)

        service, operation = describe(environ)
        entry = {
            "service": service,
            "operation": operation,
            "method": environ.get("REQUEST_METHOD"),
            "path": path,
            "status": None,
            "fault": None,
            "started": time.time(),
            "finished": None,
        }

        def record_status(status: str, headers: list, *rest: Any) -> Callable:
            entry["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *rest)

        try:
            return self._app(environ, record_status)
        finally:
            entry["fault"] = environ.get("atlas.fault")
            if entry["fault"] == "drop":
                entry["status"] = None
            entry["finished"] = time.time()
            self._write(entry)

    def _write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"))
        with self._lock:
            self._sink.write(line + "\n")
            self._sink.flush()


def describe(environ: dict[str, Any]) -> tuple[str | None, str | None]:
    """The service and operation of a request, worked out once and kept in ``environ``."""
    known = environ.get("atlas.request")
    if known is None:
        path = environ.get("PATH_INFO", "")
        form = _read_form(environ)
        known = (_service(environ), _operation(environ, path, form))
        environ["atlas.request"] = known
    return known


def _read_form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """Parses a form body and puts the bytes back for moto to read again."""
    content_type = environ.get("CONTENT_TYPE", "")
    if not content_type.startswith(_FORM):
        return {}
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return {}
    body = environ["wsgi.input"].read(length) if length > 0 and "wsgi.input" in environ else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return parse_qs(body.decode("utf-8", errors="replace"))


def _service(environ: dict[str, Any]) -> str | None:
    for source in (environ.get("HTTP_AUTHORIZATION", ""), environ.get("QUERY_STRING", "")):
        found = _CREDENTIAL_SCOPE.search(source.replace("%2F", "/"))
        if found:
            return found.group(1)
    return None


def _operation(environ: dict[str, Any], path: str, form: dict[str, list[str]]) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action") or form.get("Action")
    if action:
        return action[0]
    rpc_v2 = _RPC_V2_PATH.match(path)
    if rpc_v2:
        return rpc_v2.group(1)
    return None
