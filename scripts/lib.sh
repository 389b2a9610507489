# Shared helpers for the scripts in this folder; source it, do not run it.

# The repository root, whatever the caller's working directory.
ATLAS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATLAS_CLI_CONFIG="$ATLAS_ROOT/.terraformrc.generated"
ATLAS_EMULATOR="$ATLAS_ROOT/tests/emulator/ctl.sh"
ATLAS_MIN_TERRAFORM="1.11"

die() {
    echo "error: $*" >&2
    exit 1
}

# Terraform cannot be downloaded on the project's machines: say so plainly.
require_terraform() {
    command -v terraform >/dev/null ||
        die "terraform is not on PATH: install Terraform $ATLAS_MIN_TERRAFORM or later and retry"
    local version
    # An empty CLI config keeps a missing ~/.terraformrc from adding a warning here.
    version="$(TF_CLI_CONFIG_FILE=/dev/null terraform version -json |
        sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')"
    [[ -n "$version" ]] || die "could not read the version of $(command -v terraform)"
    if [[ "$(printf '%s\n%s\n' "$ATLAS_MIN_TERRAFORM" "$version" | sort -V | head -n 1)" != \
        "$ATLAS_MIN_TERRAFORM" ]]; then
        die "terraform $version is too old: this project needs $ATLAS_MIN_TERRAFORM or later"
    fi
}

require_cli_config() {
    [[ -f "$ATLAS_CLI_CONFIG" ]] ||
        die "no $ATLAS_CLI_CONFIG: run 'make install' to build and install the provider"
}

# Points AWS clients and Terraform at the running emulator and the installed
# provider, in this process and its children only.
use_emulator() {
    eval "$("$ATLAS_EMULATOR" env)"
    export TF_CLI_CONFIG_FILE="$ATLAS_CLI_CONFIG"
}
