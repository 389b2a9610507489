# The three roots and their emulator settings, shared by demo.sh, demo-destroy.sh and
# tf.sh; source it after lib.sh, do not run it.

# In apply order: staging2 reads staging's state; production stands alone.
ATLAS_ROOTS=(staging staging2 production)
ATLAS_STATE_BUCKET="atlas-tfstate"
ATLAS_EMULATOR_STATE="$ATLAS_ROOT/.build/emulator"

# `terraform init -backend-config` file of ROOT on the emulator.
backend_file() {
    echo "$ATLAS_EMULATOR_STATE/$1.s3.tfbackend"
}

# The emulator-only variable values of ROOT, passed as -var-file.
vars_file() {
    echo "$ATLAS_EMULATOR_STATE/$1.tfvars"
}

# Writes every root's backend settings and emulator-only values for the running
# emulator: the state bucket and endpoint, the ALB certificates (created in the
# emulator's ACM), and where staging2 finds staging's state.
write_emulator_settings() {
    local endpoint root
    endpoint="$("$ATLAS_EMULATOR" endpoint)"
    mkdir -p "$ATLAS_EMULATOR_STATE"
    for root in "${ATLAS_ROOTS[@]}"; do
        sed -e "s|@BUCKET@|$ATLAS_STATE_BUCKET|" -e "s|@ENDPOINT@|$endpoint|" \
            "$ATLAS_ROOT/terraform/$root/backend/emulator.s3.tfbackend.tmpl" >"$(backend_file "$root")"
    done
    printf 'certificate_arn = "%s"\n' \
        "$("$ATLAS_EMULATOR" create-certificate '*.staging.atlas.example.com')" >"$(vars_file staging)"
    printf 'certificate_arn = "%s"\n' \
        "$("$ATLAS_EMULATOR" create-certificate '*.atlas.example.com')" >"$(vars_file production)"
    cat >"$(vars_file staging2)" <<VARS
staging_state = {
  bucket   = "$ATLAS_STATE_BUCKET"
  key      = "staging/terraform.tfstate"
  region   = "eu-west-1"
  endpoint = "$endpoint"
}
VARS
}
