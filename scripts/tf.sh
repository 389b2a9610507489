#!/usr/bin/env bash
# Runs one terraform command in a root against the running emulator, with the
# environment `make demo` used: `make tf ARGS="state list"`, or directly
# `scripts/tf.sh state list`. TF_ROOT picks another root (default terraform/staging).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_terraform
require_cli_config
"$ATLAS_EMULATOR" endpoint >/dev/null 2>&1 ||
    die "the emulator is not running: 'make demo' starts it and applies terraform/staging"
use_emulator
exec terraform -chdir="$ATLAS_ROOT/${TF_ROOT:-terraform/staging}" "$@"
