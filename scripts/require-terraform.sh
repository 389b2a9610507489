#!/usr/bin/env bash
# Fails with a clear message unless Terraform 1.11 or later is on PATH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_terraform
