"""Switches that make the emulator slow or unreliable on purpose: latency and faults.

Every switch is off by default. A WSGI middleware (``Faults``) sits in front of moto,
so everything it does happens BEFORE moto sees the request: an injected fault never
creates, changes or deletes anything, exactly like a request that AWS refused or that
never reached it. (A fault after AWS acted, such as an answer lost on the way back, is
not modelled.) The settings are one JSON object:

    {
      "latency_ms": 50,                 # sleep this long before each AWS call
      "rate": 0.2,                      # share of calls that fail, 0 to 1
      "seed": 7,                        # makes the rate's choices reproducible
      "kinds": ["throttle", "internal_error", "drop"],   # what a failing call gets
      "services": ["ec2", "iam", "logs"],   # calls these switches apply to (default all)
      "nth": [{"service": "ec2", "operation": "CreateVpc", "call": 2,
               "fault": "throttle"}]    # the 2nd CreateVpc after these settings fails
    }

Kinds of fault, each shaped as AWS answers it:

- ``throttle``: EC2 ``RequestLimitExceeded`` (HTTP 503, EC2's XML); for the other query
  protocols (IAM, STS, ELBv2) ``Throttling`` (HTTP 400, ``ErrorResponse`` XML); for the
  JSON protocols (CloudWatch Logs, ECS, Cloud Map) ``ThrottlingException`` (HTTP 400);
  for REST-JSON services (Kafka) ``TooManyRequestsException`` (HTTP 429); for S3
  ``SlowDown`` (HTTP 503).
- ``internal_error``: ``InternalError`` (EC2, S3) or ``InternalFailure`` (other
  protocols), HTTP 500, in the same shapes.
- ``drop``: the request body is read, then the connection is closed without an answer.

Which calls fail at a rate is decided per service and operation: the n-th call of an
operation since the settings were last set fails when a hash of (seed, service,
operation, n) falls below the rate. The same seed and the same calls give the same
faults whatever the order in which concurrent requests of different operations arrive.

The settings come from ``--faults JSON`` or the ``ATLAS_EMULATOR_FAULTS`` variable at
start, and can be replaced at run time: ``POST /_atlas/faults`` with the JSON object
(``{}`` turns everything off again) answers the settings in force;
``GET /_atlas/faults`` answers them too, with the number of faults injected so far.
Setting them resets the per-operation call counts that ``rate`` and ``nth`` use.

Each injected fault is named in ``environ["atlas.fault"]`` for the request log.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from request_log import describe

CONTROL_PATH = "/_atlas/faults"
KINDS = ("throttle", "internal_error", "drop")
FAULT_KEY = "atlas.fault"


class SettingsError(ValueError):
    """Settings that do not describe any behaviour; the message says which field."""


@dataclass(frozen=True)
class NthRule:
    service: str
    operation: str
    call: int
    fault: str


@dataclass(frozen=True)
class Settings:
    latency_ms: float = 0.0
    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = KINDS
    services: frozenset[str] | None = None
    nth: tuple[NthRule, ...] = field(default_factory=tuple)

    @staticmethod
    def parse(raw: Any) -> "Settings":
        if not isinstance(raw, dict):
            raise SettingsError("the settings must be a JSON object")
        unknown = set(raw) - {"latency_ms", "rate", "seed", "kinds", "services", "nth"}
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        latency = raw.get("latency_ms", 0)
        if not isinstance(latency, (int, float)) or not 0 <= latency <= 60_000:
            raise SettingsError("latency_ms must be a number from 0 to 60000")
        rate = raw.get("rate", 0)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise SettingsError("rate must be a number from 0 to 1")
        seed = raw.get("seed", 0)
        if not isinstance(seed, int):
            raise SettingsError("seed must be an integer")
        kinds = tuple(raw.get("kinds", KINDS))
        if not kinds or any(kind not in KINDS for kind in kinds):
            raise SettingsError(f"kinds must be a non-empty list of {', '.join(KINDS)}")
        services = raw.get("services")
        if services is not None:
            if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
                raise SettingsError("services must be a list of service names")
            services = frozenset(services)
        rules = []
        for rule in raw.get("nth", []):
            try:
                parsed = NthRule(
                    str(rule["service"]), str(rule["operation"]), int(rule["call"]),
                    str(rule.get("fault", "throttle")),
                )
            except (KeyError, TypeError, ValueError) as error:
                raise SettingsError(
                    "each nth rule needs service, operation, call and optionally fault"
                ) from error
            if parsed.call < 1 or parsed.fault not in KINDS:
                raise SettingsError(f"nth rule {rule}: call counts from 1, fault is one of {KINDS}")
            rules.append(parsed)
        return Settings(float(latency), float(rate), seed, kinds, services, tuple(rules))

    def to_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "rate": self.rate,
            "seed": self.seed,
            "kinds": list(self.kinds),
            "services": sorted(self.services) if self.services is not None else None,
            "nth": [rule.__dict__ for rule in self.nth],
        }


def chosen(seed: int, service: str, operation: str, n: int, rate: float) -> float | None:
    """A number in [0, 1) that decides call n of an operation, or None when it passes."""
    digest = hashlib.sha256(f"{seed}/{service}/{operation}/{n}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    return draw / rate if draw < rate else None


class Faults:
    """The middleware: latency and faults before moto, and the control endpoint."""

    def __init__(self, app: Callable, settings: Settings) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._settings = settings
        self._calls: dict[tuple[str, str], int] = {}
        self._injected = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PATH:
            return self._control(environ, start_response)
        if path.startswith("/moto-api"):
            return self._app(environ, start_response)

        service, operation = describe(environ)
        service = service or ""
        operation = operation or f"{environ.get('REQUEST_METHOD')} {path}"
        settings, fault = self._decide(service, operation)
        if settings.services is not None and service not in settings.services:
            return self._app(environ, start_response)
        if settings.latency_ms:
            time.sleep(settings.latency_ms / 1000)
        if fault is None:
            return self._app(environ, start_response)

        environ[FAULT_KEY] = fault
        if fault == "drop":
            return self._drop(environ, start_response)
        status, headers, body = error_response(fault, service, environ)
        start_response(status, headers)
        return [body]

    def _decide(self, service: str, operation: str) -> tuple[Settings, str | None]:
        with self._lock:
            settings = self._settings
            if settings.services is not None and service not in settings.services:
                return settings, None
            key = (service, operation)
            n = self._calls.get(key, 0) + 1
            self._calls[key] = n
            fault = None
            for rule in settings.nth:
                if (rule.service, rule.operation, rule.call) == (service, operation, n):
                    fault = rule.fault
            if fault is None and settings.rate > 0:
                draw = chosen(settings.seed, service, operation, n, settings.rate)
                if draw is not None:
                    fault = settings.kinds[int(draw * len(settings.kinds)) % len(settings.kinds)]
            if fault is not None:
                self._injected += 1
            return settings, fault

    def _control(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length > 0 else b"{}"
            try:
                settings = Settings.parse(json.loads(raw or b"{}"))
            except (ValueError, SettingsError) as error:
                return _json(start_response, "400 Bad Request", {"error": str(error)})
            with self._lock:
                self._settings = settings
                self._calls = {}
        elif method != "GET":
            return _json(start_response, "405 Method Not Allowed", {"error": "GET or POST"})
        with self._lock:
            answer = self._settings.to_json()
            answer["injected"] = self._injected
        return _json(start_response, "200 OK", answer)

    @staticmethod
    def _drop(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        # Read what the client sent, so that closing the socket is a clean close (FIN)
        # seen after the request, not a reset caused by unread data.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > 0:
            environ["wsgi.input"].read(length)
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # werkzeug's attempt to send this answer now fails on the closed socket, and
        # it treats that as a client that went away.
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return []


def error_response(fault: str, service: str, environ: dict[str, Any]) -> tuple[str, list, bytes]:
    """The status, headers and body AWS answers for this fault and this protocol."""
    request_id = str(uuid.uuid4())
    throttle = fault == "throttle"
    if environ.get("HTTP_X_AMZ_TARGET"):
        code = "ThrottlingException" if throttle else "InternalFailure"
        body = json.dumps({"__type": code, "message": _message(throttle)}).encode()
        status = "400 Bad Request" if throttle else "500 Internal Server Error"
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                   ("x-amzn-RequestId", request_id)]
        return status, headers, body
    if service == "ec2":
        code = "RequestLimitExceeded" if throttle else "InternalError"
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}"
            f"</Code><Message>{_message(throttle)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        ).encode()
        status = "503 Service Unavailable" if throttle else "500 Internal Server Error"
        return status, [("Content-Type", "text/xml;charset=UTF-8")], body
    if service == "s3":
        code = "SlowDown" if throttle else "InternalError"
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
            f"<Message>{_message(throttle)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        status = "503 Slow Down" if throttle else "500 Internal Server Error"
        return status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body
    if describe(environ)[1]:
        # The other query protocols: IAM, STS, ELBv2.
        code = "Throttling" if throttle else "InternalFailure"
        kind = "Sender" if throttle else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>"
            f"<Message>{_message(throttle)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        status = "400 Bad Request" if throttle else "500 Internal Server Error"
        return status, [("Content-Type", "text/xml")], body
    # REST-JSON services such as Kafka.
    code = "TooManyRequestsException" if throttle else "InternalServerErrorException"
    body = json.dumps({"message": _message(throttle)}).encode()
    status = "429 Too Many Requests" if throttle else "500 Internal Server Error"
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
               ("x-amzn-RequestId", request_id)]
    return status, headers, body


def _message(throttle: bool) -> str:
    return "Request limit exceeded." if throttle else "An internal error has occurred."


def _json(start_response: Callable, status: str, value: Any) -> Iterable[bytes]:
    body = json.dumps(value).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def self_test() -> None:
    """Cheap checks of the pieces that need no server; run by ``server.py --self-test``."""
    off = Settings.parse({})
    assert (off.latency_ms, off.rate, off.nth) == (0.0, 0.0, ())
    for bad in ({"rate": 2}, {"kinds": ["boom"]}, {"nth": [{"service": "ec2"}]}, {"x": 1}, []):
        try:
            Settings.parse(bad)
        except SettingsError:
            continue
        raise AssertionError(f"accepted {bad!r}")
    # Reproducible, and close to the rate over many calls.
    draws = [chosen(7, "ec2", "CreateVpc", n, 0.2) for n in range(1, 5001)]
    assert draws == [chosen(7, "ec2", "CreateVpc", n, 0.2) for n in range(1, 5001)]
    share = sum(d is not None for d in draws) / len(draws)
    assert 0.17 < share < 0.23, share
    # Every protocol gets its own error shape.
    ec2 = error_response("throttle", "ec2", {"PATH_INFO": "/", "QUERY_STRING": "Action=X"})
    assert ec2[0].startswith("503") and b"RequestLimitExceeded" in ec2[2]
    logs = error_response("throttle", "logs", {"HTTP_X_AMZ_TARGET": "Logs_20140328.X"})
    assert logs[0].startswith("400") and b"ThrottlingException" in logs[2]
    iam = error_response("internal_error", "iam", {"PATH_INFO": "/", "QUERY_STRING": "Action=X"})
    assert iam[0].startswith("500") and b"InternalFailure" in iam[2]
