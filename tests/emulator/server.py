"""Launches the local AWS emulator: moto's server mode with the project's extensions.

    python tests/emulator/server.py --port 0 --port-file FILE [--request-log FILE]
        [--faults JSON] [--latency-ms MS]
    python tests/emulator/server.py --self-test

The server binds 127.0.0.1 only, on the given port or (with 0) a free one, applies
every module of ``extensions/`` to moto, and writes the port it listens on to
``--port-file`` once it answers HTTP requests, so a caller that sees the file can use
the emulator at once. It serves until SIGTERM or SIGINT, then stops cleanly and
exits 0. Run it with the project's virtualenv (``make venv``).

``--faults`` (or the ``ATLAS_EMULATOR_FAULTS`` variable) sets the latency and fault
switches of ``faults.py`` from the start; ``--latency-ms`` (or
``ATLAS_EMULATOR_LATENCY_MS``) is a short form for the latency alone. Either way they
can be changed later with ``POST /_atlas/faults``. All are off by default.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

# Run as a script, this file's folder is first on sys.path.
import extensions
import faults
from request_log import RequestLog

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 30.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check the fault switches' pure pieces and exit",
    )
    parser.add_argument(
        "--port-file",
        type=Path,
        help="file that receives the port once the emulator answers",
    )
    parser.add_argument(
        "--request-log",
        type=Path,
        help="append every AWS request to this file as a JSON line {service, operation, ...}",
    )
    parser.add_argument(
        "--faults",
        default=os.environ.get("ATLAS_EMULATOR_FAULTS"),
        help="latency and fault settings as JSON (see faults.py); default: all off",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=os.environ.get("ATLAS_EMULATOR_LATENCY_MS"),
        help="sleep this long before each AWS call (overrides latency_ms of --faults)",
    )
    args = parser.parse_args(argv)
    if not args.self_test and args.port_file is None:
        parser.error("--port-file is required")
    return args


def fault_settings(args: argparse.Namespace) -> faults.Settings:
    try:
        raw = json.loads(args.faults) if args.faults else {}
        if args.latency_ms is not None:
            raw["latency_ms"] = float(args.latency_ms)
        return faults.Settings.parse(raw)
    except (ValueError, faults.SettingsError) as error:
        raise SystemExit(f"emulator: bad fault settings: {error}") from error


def wait_until_answering(port: int) -> None:
    url = f"http://{HOST}:{port}/moto-api/config"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"emulator: no answer on {url} after {READY_TIMEOUT_SECONDS:.0f}s: {error}"
                ) from error
            time.sleep(0.05)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.self_test:
        faults.self_test()
        print("emulator: fault switches self-test passed", file=sys.stderr)
        return 0
    settings = fault_settings(args)
    applied = extensions.apply_all()
    # One access-log line per request drowns the launcher's own messages; the
    # request log (--request-log) is the record of what was called.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = DomainDispatcherApplication(create_backend_app)
    # Inside the request log, so that the log records the faults it injects.
    app = faults.Faults(app, settings)
    if args.request_log:
        args.request_log.parent.mkdir(parents=True, exist_ok=True)
        # Left open until exit: request threads may still be finishing after shutdown.
        app = RequestLog(app, args.request_log.open("a", encoding="utf-8"))

    server = make_server(HOST, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_port
    # moto builds some URLs it returns (queue URLs, presigned URLs) from this.
    os.environ["MOTO_PORT"] = str(port)

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())

    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="emulator", daemon=True
    )
    serving.start()
    wait_until_answering(port)
    write_atomically(args.port_file, f"{port}\n")
    print(
        f"emulator: listening on http://{HOST}:{port} "
        f"(moto server mode; extensions: {', '.join(applied) or 'none'})",
        file=sys.stderr,
        flush=True,
    )

    while not stopping.wait(timeout=0.1):
        pass

    print("emulator: stopping", file=sys.stderr, flush=True)
    server.shutdown()
    serving.join()
    server.server_close()
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Tearing down the interpreter with all of moto loaded takes seconds and does
    # nothing useful once the server has stopped.
    os._exit(status)
