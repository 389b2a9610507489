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

# Prints the provider crate's version and cargo's target directory (CARGO_TARGET_DIR
# included), as cargo sees them.
crate_metadata() {
    command -v python3 >/dev/null || die "python3 is not on PATH: it reads cargo's metadata"
    cargo metadata --no-deps --format-version 1 --manifest-path "$ATLAS_ROOT/Cargo.toml" |
        python3 -c '
import json, sys
metadata = json.load(sys.stdin)
[package] = [p for p in metadata["packages"] if p["name"] == "terraform-provider-atlas"]
print(package["version"], metadata["target_directory"])
'
}

# Prints this machine's platform as Terraform names it: "linux amd64".
host_platform() {
    local os arch
    case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "unsupported operating system $(uname -s)" ;;
    esac
    case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported machine $(uname -m)" ;;
    esac
    echo "$os $arch"
}

# pack_zip BINARY ZIP NAME: writes ZIP holding BINARY as the executable NAME, with a
# fixed timestamp and mode so that the same binary always gives the same bytes.
pack_zip() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
import zipfile
from pathlib import Path

binary, archive, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
entry.create_system = 3  # Unix, so that the mode below is honoured when unpacked
entry.external_attr = (0o100755 & 0xFFFF) << 16
entry.compress_type = zipfile.ZIP_DEFLATED
partial = archive.with_name(archive.name + ".partial")
with zipfile.ZipFile(partial, "w") as packed:
    packed.writestr(entry, binary.read_bytes(), compresslevel=9)
partial.replace(archive)
PY
}

# sha256_lines FILE...: one "<sha256>  <name>" line per file, as sha256sum prints them.
sha256_lines() {
    if command -v sha256sum >/dev/null; then
        sha256sum -- "$@"
    else
        shasum -a 256 -- "$@"
    fi
}

# sha256_check SUMS: checks every file SUMS lists, in SUMS's directory.
sha256_check() {
    local dir name
    dir="$(dirname "$1")"
    name="$(basename "$1")"
    if command -v sha256sum >/dev/null; then
        (cd "$dir" && sha256sum --check --strict --quiet -- "$name")
    else
        (cd "$dir" && shasum -a 256 --check --strict --quiet -- "$name")
    fi
}
