#!/usr/bin/env bash
# Runs one terraform command in a root against the running emulator, with the
# environment and emulator-only values `make demo` used: `make tf ARGS="state list"`,
# `make tf ROOT=production ARGS="plan"`, or directly `scripts/tf.sh state list`
# (TF_ROOT=staging2 picks another root; default staging).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/roots.sh"

require_terraform
require_cli_config
"$ATLAS_EMULATOR" endpoint >/dev/null 2>&1 ||
    die "the emulator is not running: 'make demo' starts it and applies the roots"
root="${TF_ROOT:-staging}"
root="${root#terraform/}"
[[ -d "$ATLAS_ROOT/terraform/$root" ]] || die "no root terraform/$root"
use_emulator
# The emulator-only values, for every command that reads variables.
for command in plan apply destroy import refresh console; do
    export "TF_CLI_ARGS_$command=-var-file=$(vars_file "$root")"
done
exec terraform -chdir="$ATLAS_ROOT/terraform/$root" "$@"
