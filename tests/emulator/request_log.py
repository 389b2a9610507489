"""A WSGI middleware that writes every AWS request as one JSON line.

Tests count AWS calls by service and operation with it. The service comes from the
SigV4 credential scope (``Credential=KEY/DATE/REGION/SERVICE/aws4_request``, in the
``Authorization`` header or a presigned URL's ``X-Amz-Credential``); the operation
from ``X-Amz-Target`` (JSON protocols), the ``Action`` parameter (query protocols,
in the URL or the form body), or the ``/service/S/operation/O`` path of the RPC v2
protocol. REST protocols such as S3 name no operation: it is logged as null, next
to the method and path.
"""

import io
import json
import re
import threading
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
        # The launcher's own readiness probe and moto's control API are not AWS calls.
        if path.startswith("/moto-api"):
            return self._app(environ, start_response)

        form = _read_form(environ)
        entry = {
            "service": _service(environ),
            "operation": _operation(environ, path, form),
            "method": environ.get("REQUEST_METHOD"),
            "path": path,
            "status": None,
        }

        def record_status(status: str, headers: list, *rest: Any) -> Callable:
            entry["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *rest)

        try:
            return self._app(environ, record_status)
        finally:
            self._write(entry)

    def _write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"))
        with self._lock:
            self._sink.write(line + "\n")
            self._sink.flush()


def _read_form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """Parses a form body and puts the bytes back for moto to read again."""
    content_type = environ.get("CONTENT_TYPE", "")
    if not content_type.startswith(_FORM):
        return {}
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return {}
    body = environ["wsgi.input"].read(length) if length > 0 else b""
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
