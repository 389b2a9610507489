#!/usr/bin/env bash
# The main job, on the local emulator: terraform init and apply of terraform/staging,
# then terraform/staging2 (which reads staging's state), then terraform/production.
#
# Starts a fresh emulator (stopping one left running), creates the state bucket and the
# ALB certificates in the emulator's ACM, writes each root's emulator settings to
# .build/emulator/ (ROOT.s3.tfbackend for `init -backend-config`, ROOT.tfvars with the
# emulator-only values, passed as -var-file on top of the root's terraform.tfvars),
# then runs terraform init and apply in each root with the emulator's environment
# (endpoint, dummy credentials, region) set for this script only. Ends with each root's
# key outputs and exposure report. Run it as `make demo`, which first creates the
# virtualenv and installs the provider.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/roots.sh"

require_terraform
require_cli_config

"$ATLAS_EMULATOR" stop >/dev/null
"$ATLAS_EMULATOR" start
"$ATLAS_EMULATOR" create-bucket "$ATLAS_STATE_BUCKET"
write_emulator_settings

use_emulator
for root in "${ATLAS_ROOTS[@]}"; do
    echo
    echo "== $root: terraform init and apply"
    cd "$ATLAS_ROOT/terraform/$root"
    # The provider is a local build whose checksum changes with every build of the same
    # version: forget the copy and the checksum an earlier demo recorded, so that init
    # installs and locks the package `make install` just put in the mirror.
    rm -rf .terraform/providers/registry.terraform.io/atlas .terraform.lock.hcl
    terraform init -reconfigure -input=false -backend-config="$(backend_file "$root")" >/dev/null
    terraform apply -auto-approve -input=false -var-file="$(vars_file "$root")"
done

for root in "${ATLAS_ROOTS[@]}"; do
    cd "$ATLAS_ROOT/terraform/$root"
    echo
    echo "== $root: key outputs"
    for output in vpc_id private_subnet_ids alb_dns_name cluster_arn service_arns hostnames \
        target_group_arns; do
        if value="$(terraform output -json "$output" 2>/dev/null)"; then
            printf '%-20s %s\n' "$output" "$value"
        fi
    done
    echo "== $root: exposure report"
    terraform output -json exposure_report |
        python3 -c '
import json, sys
findings = json.load(sys.stdin) or []
for finding in findings:
    ident, message = finding["id"], finding["message"]
    print(f"  [{ident}] {message}")
print(f"  ({len(findings)} finding(s))")
'
done

endpoint="$("$ATLAS_EMULATOR" endpoint)"
cat <<NEXT

The emulator at $endpoint keeps running, with the states in s3://$ATLAS_STATE_BUCKET.
To look around:

  make tf ARGS="state list"                     # any terraform command in terraform/staging
  make tf ROOT=production ARGS="output -json"   # or in another root
  make demo-destroy                             # destroy all three, in reverse order

or point your own shell at the emulator (AWS clients and terraform alike):

  eval "\$(tests/emulator/ctl.sh env)"
  export TF_CLI_CONFIG_FILE=$ATLAS_CLI_CONFIG
  cd terraform/staging && terraform state list

Every AWS call the provider made is in .build/emulator/requests.jsonl.
Stop the emulator with: make emulator-stop
NEXT
