#!/usr/bin/env bash
# Packs the provider as a Terraform registry release, into dist/ by default:
#
#   terraform-provider-atlas_VERSION_OS_ARCH.zip      one per platform, holding
#                                                     terraform-provider-atlas_vVERSION
#   terraform-provider-atlas_VERSION_manifest.json    {"version":1,"metadata":{"protocol_versions":["6.0"]}}
#   terraform-provider-atlas_VERSION_SHA256SUMS       sha256sum lines for the zips and the manifest
#   terraform-provider-atlas_VERSION_SHA256SUMS.sig   binary detached GPG signature of the sums,
#                                                     when a signing key is configured
#
# The version is the crate's (workspace.package.version in Cargo.toml): the binary reports
# it with --version and the release must carry the same number, so a VERSION that differs
# is refused rather than relabelled. Bump it in Cargo.toml, build, then release.
#
# Platforms: the host's, from the binary given or the release build; linux_arm64 as well
# when this machine can cross-build it (the rustup target aarch64-unknown-linux-gnu and a
# C cross compiler aarch64-linux-gnu-gcc, which aws-lc-sys needs); otherwise it says that
# it skipped it. The zips are reproducible: fixed timestamps and mode, so the same binary
# gives the same zip and the same sum.
#
# Signing: set GPG_FINGERPRINT (or GPG_KEY_ID) to the key to sign with; gpg uses its usual
# GNUPGHOME. Without either, the signature is skipped and the script says so.
#
# Usage: scripts/release.sh [--version X.Y.Z] [--binary PATH] [--out DIR] [--host-only]
#   --version    the release version (default: the crate's version; must equal it)
#   --binary     the host binary to pack (default: the release build of `make build`)
#   --out        where to write the files (default: dist/)
#   --host-only  pack only the host's platform, never start a cross build
# `make release VERSION=x.y.z` builds the release binary first and runs this.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

version="${VERSION:-}"
binary="${BINARY:-}"
out="$ATLAS_ROOT/dist"
host_only=false
while (($#)); do
    case "$1" in
    --version) version="${2:?--version needs a value}" && shift 2 ;;
    --binary) binary="${2:?--binary needs a value}" && shift 2 ;;
    --out) out="${2:?--out needs a value}" && shift 2 ;;
    --host-only) host_only=true && shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' && exit 0 ;;
    *) die "unknown argument $1 (see scripts/release.sh --help)" ;;
    esac
done

command -v python3 >/dev/null || die "python3 is not on PATH: it packs the zips"
metadata="$(crate_metadata)" || die "cargo metadata failed: is cargo on PATH?"
read -r crate_version target_dir <<<"$metadata"

version="${version#v}"
[[ -n "$version" ]] || version="$crate_version"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
    die "version $version is not a semantic version such as 1.2.3"
[[ "$version" == "$crate_version" ]] ||
    die "version $version differs from the crate's version $crate_version, which the binary" \
        "reports: set workspace.package.version in Cargo.toml to $version, build, and release again"

binary="${binary:-$target_dir/release/terraform-provider-atlas}"
[[ -x "$binary" ]] || die "no provider binary at $binary: run 'make build' first"
reported="$("$binary" --version)" || die "$binary --version failed"
[[ "$reported" == "terraform-provider-atlas $version" ]] ||
    die "$binary reports '$reported', not version $version: rebuild it ('make build')"

platform="$(host_platform)"
read -r host_os host_arch <<<"$platform"

# Every (platform, binary) pair to pack, the host's first.
platforms=("${host_os}_${host_arch}")
binaries=("$binary")
cross_target=aarch64-unknown-linux-gnu
cross_cc=aarch64-linux-gnu-gcc
if [[ "$host_os" == linux && "$host_arch" == amd64 ]]; then
    if $host_only; then
        echo "linux_arm64: not built (--host-only)"
    elif ! rustup target list --installed 2>/dev/null | grep -qx "$cross_target"; then
        echo "linux_arm64: skipped, the Rust target $cross_target is not installed" \
            "(rustup target add $cross_target)"
    elif ! command -v "$cross_cc" >/dev/null; then
        echo "linux_arm64: skipped, no C cross compiler $cross_cc on PATH (aws-lc-sys needs" \
            "one; on Debian or Ubuntu: apt-get install gcc-aarch64-linux-gnu)"
    else
        echo "linux_arm64: cross-building the provider for $cross_target"
        CC_aarch64_unknown_linux_gnu="$cross_cc" \
            CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="$cross_cc" \
            cargo build --release --locked --target "$cross_target" \
            --manifest-path "$ATLAS_ROOT/Cargo.toml" -p terraform-provider-atlas
        platforms+=(linux_arm64)
        binaries+=("$target_dir/$cross_target/release/terraform-provider-atlas")
    fi
fi

prefix="terraform-provider-atlas_${version}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# Only this version's files, so that nothing stale from an earlier run is signed.
rm -f "$out/${prefix}"_*

files=()
for i in "${!platforms[@]}"; do
    zip="${prefix}_${platforms[$i]}.zip"
    pack_zip "${binaries[$i]}" "$out/$zip" "terraform-provider-atlas_v$version"
    files+=("$zip")
done

manifest="${prefix}_manifest.json"
printf '%s\n' '{"version":1,"metadata":{"protocol_versions":["6.0"]}}' >"$out/$manifest"
files+=("$manifest")

sums="${prefix}_SHA256SUMS"
(cd "$out" && sha256_lines "${files[@]}") >"$out/$sums.partial"
mv "$out/$sums.partial" "$out/$sums"

signing_key="${GPG_FINGERPRINT:-${GPG_KEY_ID:-}}"
if [[ -n "$signing_key" ]]; then
    command -v gpg >/dev/null || die "a signing key is set but gpg is not on PATH"
    gpg --batch --yes --no-tty --local-user "$signing_key" --detach-sign \
        --output "$out/$sums.sig" "$out/$sums" ||
        die "gpg could not sign $sums with key $signing_key"
    files+=("$sums" "$sums.sig")
    signed="signed with key $signing_key"
else
    files+=("$sums")
    signed="signature skipped: set GPG_FINGERPRINT or GPG_KEY_ID to sign the sums"
fi

echo "release $version in ${out#"$ATLAS_ROOT"/}:"
printf '  %s\n' "${files[@]}"
echo "$signed"
