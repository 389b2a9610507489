#!/usr/bin/env bash
# The main job, on the local emulator: terraform init and apply of terraform/staging.
#
# Starts a fresh emulator (stopping one left running), creates the state bucket,
# writes the emulator backend settings to .build/emulator/staging.s3.tfbackend,
# then runs terraform init and apply in terraform/staging with the emulator's
# environment (endpoint, dummy credentials, region) set for this script only.
# Run it as `make demo`, which first creates the virtualenv and installs the provider.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root_dir="terraform/staging"
state_bucket="atlas-tfstate"
backend_file="$ATLAS_ROOT/.build/emulator/staging.s3.tfbackend"

require_terraform
require_cli_config

"$ATLAS_EMULATOR" stop >/dev/null
"$ATLAS_EMULATOR" start
"$ATLAS_EMULATOR" create-bucket "$state_bucket"
endpoint="$("$ATLAS_EMULATOR" endpoint)"
sed -e "s|@BUCKET@|$state_bucket|" -e "s|@ENDPOINT@|$endpoint|" \
    "$ATLAS_ROOT/$root_dir/backend/emulator.s3.tfbackend.tmpl" >"$backend_file"

use_emulator
cd "$ATLAS_ROOT/$root_dir"
# The provider is a local build whose checksum changes with every build of the same
# version: forget the copy and the checksum an earlier demo recorded, so that init
# installs and locks the build `make install` just put in the mirror.
rm -rf .terraform/providers/registry.terraform.io/atlas .terraform.lock.hcl
terraform init -reconfigure -input=false -backend-config="$backend_file"
terraform apply -auto-approve -input=false

echo
echo "== terraform output ($root_dir, on the emulator at $endpoint)"
terraform output

cat <<NEXT

The emulator keeps running, with the state in s3://$state_bucket. To look around:

  make tf ARGS="state list"          # any terraform command in $root_dir
  make tf ARGS="output -json"
  make demo-destroy                  # destroy what the demo created

or point your own shell at the emulator (AWS clients and terraform alike):

  eval "\$(tests/emulator/ctl.sh env)"
  export TF_CLI_CONFIG_FILE=$ATLAS_CLI_CONFIG
  cd $root_dir && terraform state list

Every AWS call the provider made is in .build/emulator/requests.jsonl.
Stop the emulator with: make emulator-stop
NEXT
