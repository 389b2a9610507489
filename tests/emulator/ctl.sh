#!/usr/bin/env bash
# Runs the local AWS emulator in the background for demos and manual use.
#
#   tests/emulator/ctl.sh start              start it (stops nothing; says so if running)
#   tests/emulator/ctl.sh stop               stop it cleanly
#   tests/emulator/ctl.sh status             say whether it runs, and where
#   tests/emulator/ctl.sh endpoint           print http://127.0.0.1:PORT
#   tests/emulator/ctl.sh env                print the shell exports that aim AWS clients at it
#   tests/emulator/ctl.sh create-bucket NAME create an S3 bucket on it (idempotent)
#   tests/emulator/ctl.sh create-certificate DOMAIN
#                                            request an ACM certificate on it; prints its ARN
#
# State lives in .build/emulator/: port, pid, server.log, requests.jsonl.
# Tests do not use this script: the Rust harness starts its own emulator.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="$root/.build/emulator"
python="$root/.venv/bin/python"
region="${ATLAS_EMULATOR_REGION:-eu-west-1}"

die() {
    echo "emulator: $*" >&2
    exit 1
}

# True while PID is a live emulator launcher. A stale pid file may name a process
# that is not ours any more, and an exited launcher may linger as a zombie (empty
# cmdline) until init reaps it.
is_emulator() {
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "tests/emulator/server.py"
}

# True while PID runs, an exited one (a zombie not yet reaped) does not. Read from the
# state in /proc/PID/stat, not from cmdline: cmdline reads empty for a moment while
# the process execs (bash to setsid to python), which once made a healthy start
# look like an early exit.
is_alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ -n "$stat" && "$stat" != Z* && "$stat" != X* ]]
}

running_pid() {
    [[ -f "$state/pid" ]] || return 1
    local pid
    pid="$(cat "$state/pid")"
    is_emulator "$pid" || return 1
    echo "$pid"
}

port() {
    running_pid >/dev/null || die "not running: start it with 'make emulator-start'"
    [[ -s "$state/port" ]] || die "running but not answering yet ($state/port is missing)"
    cat "$state/port"
}

start() {
    [[ -x "$python" ]] || die "no project virtualenv at .venv: run 'make venv' first"
    local pid
    if pid="$(running_pid)"; then
        [[ -s "$state/port" ]] || die "already starting (pid $pid): try again in a moment"
        echo "emulator: already running (pid $pid) on http://127.0.0.1:$(cat "$state/port")"
        return 0
    fi
    mkdir -p "$state"
    rm -f "$state/port" "$state/pid" "$state/requests.jsonl"

    # Its own session, so that Ctrl-C in the shell that started it leaves it running.
    local detach=()
    command -v setsid >/dev/null && detach=(setsid)
    "${detach[@]}" "$python" "$root/tests/emulator/server.py" --port 0 \
        --port-file "$state/port" --request-log "$state/requests.jsonl" \
        </dev/null >>"$state/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$state/pid"

    local waited=0
    until [[ -s "$state/port" ]]; do
        if ! is_alive "$pid"; then
            tail -n 20 "$state/server.log" >&2 || true
            rm -f "$state/pid"
            die "exited before answering (log above, in full in $state/server.log)"
        fi
        if ((waited >= 600)); then
            kill -TERM "$pid" 2>/dev/null || true
            die "no answer after 60s (log: $state/server.log)"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    echo "emulator: running (pid $pid) on http://127.0.0.1:$(cat "$state/port")"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$state/pid" "$state/port"
        echo "emulator: not running"
        return 0
    fi
    kill -TERM "$pid"
    local waited=0
    while is_emulator "$pid"; do
        if ((waited >= 100)); then
            echo "emulator: pid $pid ignored SIGTERM for 10s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$state/pid" "$state/port"
    echo "emulator: stopped"
}

print_env() {
    local port
    port="$(port)"
    cat <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=$region
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
ENV
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status)
    if pid="$(running_pid)" && port="$(port)"; then
        echo "emulator: running (pid $pid) on http://127.0.0.1:$port"
    else
        echo "emulator: not running"
    fi
    ;;
endpoint)
    port="$(port)"
    echo "http://127.0.0.1:$port"
    ;;
env) print_env ;;
create-bucket)
    [[ $# -eq 2 ]] || die "usage: $0 create-bucket NAME"
    port="$(port)"
    "$python" "$root/tests/emulator/create_bucket.py" \
        --endpoint "http://127.0.0.1:$port" --region "$region" "$2"
    ;;
create-certificate)
    [[ $# -eq 2 ]] || die "usage: $0 create-certificate DOMAIN"
    port="$(port)"
    "$python" "$root/tests/emulator/create_certificate.py" \
        --endpoint "http://127.0.0.1:$port" --region "$region" "$2"
    ;;
*)
    echo "usage: $0 start|stop|status|endpoint|env|create-bucket NAME|create-certificate DOMAIN" >&2
    exit 2
    ;;
esac
