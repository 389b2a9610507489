#!/usr/bin/env bash
# Destroys what `make demo` applied, in reverse order: production, staging2 (while
# staging's state still describes the foundation it reads), then staging. The emulator
# keeps running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/roots.sh"

require_terraform
require_cli_config
"$ATLAS_EMULATOR" endpoint >/dev/null 2>&1 ||
    die "the emulator is not running: 'make demo' starts it and applies the roots"
use_emulator
for ((i = ${#ATLAS_ROOTS[@]} - 1; i >= 0; i--)); do
    root="${ATLAS_ROOTS[i]}"
    echo "== $root: terraform destroy"
    terraform -chdir="$ATLAS_ROOT/terraform/$root" destroy -auto-approve -input=false \
        -var-file="$(vars_file "$root")"
done
