//! A catalogue of bad inputs for every resource, data source and the provider block:
//! each gets an error diagnostic on the attribute at fault, none panics, and none
//! reaches AWS (the emulator sees no call but Terraform's own state traffic to S3).
//!
//! Table-driven: a new resource adds rows to `CASES`.

use atlas_acceptance::{Emulator, Workspace};

/// One bad input: the HCL of the case (provider block included when `provider` is
/// false, see [`Case::hcl`]), and the attribute whose source line the diagnostic must
/// point at.
struct Case {
    /// What the case is, for messages.
    name: &'static str,
    /// The resource, data source or provider block, complete.
    body: &'static str,
    /// The attribute the diagnostic must be on (its source line is shown).
    attribute: &'static str,
    /// Whether `body` is the provider block itself (else the default one is added).
    provider: bool,
}

const PROVIDER: &str = "provider \"atlas\" {\n  region = \"eu-west-1\"\n}\n";

impl Case {
    fn hcl(&self) -> String {
        if self.provider {
            format!(
                "{}\nresource \"atlas_network\" \"ok\" {{\n  name       = \"ok\"\n  \
                 cidr_block = \"10.1.0.0/16\"\n}}\n",
                self.body
            )
        } else {
            format!("{PROVIDER}\n{}", self.body)
        }
    }
}

macro_rules! case {
    ($name:literal, $attribute:literal, $body:expr) => {
        Case {
            name: $name,
            body: $body,
            attribute: $attribute,
            provider: false,
        }
    };
}

const LONG_NAME: &str = concat!(
    "resource \"atlas_network\" \"bad\" {\n  name       = \"",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "\"\n  cidr_block = \"10.0.0.0/16\"\n}\n"
);

const CASES: &[Case] = &[
    // atlas_network
    case!(
        "malformed CIDR",
        "cidr_block",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "10.0.0.300/16"
}"#
    ),
    case!(
        "prefix out of range",
        "cidr_block",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "10.0.0.0/33"
}"#
    ),
    case!(
        "not a CIDR at all",
        "cidr_block",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "banana"
}"#
    ),
    case!(
        "VPC too small for four subnets",
        "cidr_block",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "10.0.0.0/30"
}"#
    ),
    case!(
        "overlapping public subnets",
        "public_subnet_cidrs",
        r#"resource "atlas_network" "bad" {
  name                = "bad"
  cidr_block          = "10.0.0.0/16"
  public_subnet_cidrs = ["10.0.0.0/24", "10.0.0.128/25"]
}"#
    ),
    case!(
        "private overlaps public",
        "private_subnet_cidrs",
        r#"resource "atlas_network" "bad" {
  name                 = "bad"
  cidr_block           = "10.0.0.0/16"
  public_subnet_cidrs  = ["10.0.0.0/24", "10.0.1.0/24"]
  private_subnet_cidrs = ["10.0.1.0/24", "10.0.2.0/24"]
}"#
    ),
    case!(
        "subnet outside the VPC",
        "public_subnet_cidrs",
        r#"resource "atlas_network" "bad" {
  name                = "bad"
  cidr_block          = "10.0.0.0/16"
  public_subnet_cidrs = ["192.168.0.0/24", "10.0.1.0/24"]
}"#
    ),
    case!(
        "empty zone list",
        "availability_zones",
        r#"resource "atlas_network" "bad" {
  name               = "bad"
  cidr_block         = "10.0.0.0/16"
  availability_zones = []
}"#
    ),
    case!(
        "oversized zone list",
        "availability_zones",
        r#"resource "atlas_network" "bad" {
  name               = "bad"
  cidr_block         = "10.0.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a", "eu-west-1b"]
}"#
    ),
    case!(
        "empty subnet list",
        "private_subnet_cidrs",
        r#"resource "atlas_network" "bad" {
  name                 = "bad"
  cidr_block           = "10.0.0.0/16"
  private_subnet_cidrs = []
}"#
    ),
    case!(
        "retention CloudWatch does not offer",
        "flow_log_retention_days",
        r#"resource "atlas_network" "bad" {
  name                    = "bad"
  cidr_block              = "10.0.0.0/16"
  flow_log_retention_days = 13
}"#
    ),
    case!(
        "Unicode name",
        "name",
        r#"resource "atlas_network" "bad" {
  name       = "réseau-ünïcode"
  cidr_block = "10.0.0.0/16"
}"#
    ),
    case!("over-long name", "name", LONG_NAME),
    case!(
        "empty name",
        "name",
        r#"resource "atlas_network" "bad" {
  name       = ""
  cidr_block = "10.0.0.0/16"
}"#
    ),
    case!(
        "reserved tag key",
        "tags",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "10.0.0.0/16"
  tags       = { "aws:owner" = "me" }
}"#
    ),
    case!(
        "over-long tag value",
        "tags",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "10.0.0.0/16"
  tags       = { owner = "ööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööööö" }
}"#
    ),
    case!(
        "timeout that is no duration",
        "create",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "10.0.0.0/16"
  timeouts {
    create = "forever"
  }
}"#
    ),
    case!(
        "negative timeout",
        "delete",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "10.0.0.0/16"
  timeouts {
    delete = "-5m"
  }
}"#
    ),
    case!(
        "absurdly long timeout",
        "create",
        r#"resource "atlas_network" "bad" {
  name       = "bad"
  cidr_block = "10.0.0.0/16"
  timeouts {
    create = "99999999h"
  }
}"#
    ),
    // atlas_security_model
    case!(
        "port above 65535",
        "dashboard_target_port",
        r#"resource "atlas_security_model" "bad" {
  vpc_id                = "vpc-0123456789abcdef0"
  name_prefix           = "bad"
  dashboard_target_port = 70000
}"#
    ),
    case!(
        "port zero",
        "dashboard_target_port",
        r#"resource "atlas_security_model" "bad" {
  vpc_id                = "vpc-0123456789abcdef0"
  name_prefix           = "bad"
  dashboard_target_port = 0
}"#
    ),
    case!(
        "fractional port",
        "dashboard_target_port",
        r#"resource "atlas_security_model" "bad" {
  vpc_id                = "vpc-0123456789abcdef0"
  name_prefix           = "bad"
  dashboard_target_port = 80.5
}"#
    ),
    case!(
        "malformed ingress CIDR",
        "alb_ingress_cidrs",
        r#"resource "atlas_security_model" "bad" {
  vpc_id                = "vpc-0123456789abcdef0"
  name_prefix           = "bad"
  dashboard_target_port = 3000
  alb_ingress_cidrs     = ["300.0.0.0/0"]
}"#
    ),
    case!(
        "unknown role",
        "rds_access_from",
        r#"resource "atlas_security_model" "bad" {
  vpc_id                = "vpc-0123456789abcdef0"
  name_prefix           = "bad"
  dashboard_target_port = 3000
  rds_access_from       = "everyone"
}"#
    ),
    case!(
        "unknown finding",
        "forbidden_findings",
        r#"resource "atlas_security_model" "bad" {
  vpc_id                = "vpc-0123456789abcdef0"
  name_prefix           = "bad"
  dashboard_target_port = 3000
  forbidden_findings    = ["nothing_bad"]
}"#
    ),
    case!(
        "Unicode name prefix",
        "name_prefix",
        r#"resource "atlas_security_model" "bad" {
  vpc_id                = "vpc-0123456789abcdef0"
  name_prefix           = "atlas-ステージング"
  dashboard_target_port = 3000
}"#
    ),
    case!(
        "malformed VPC id",
        "vpc_id",
        r#"resource "atlas_security_model" "bad" {
  vpc_id                = "vpc"
  name_prefix           = "bad"
  dashboard_target_port = 3000
}"#
    ),
    // atlas_msk_public_access
    case!(
        "not a cluster ARN",
        "cluster_arn",
        r#"resource "atlas_msk_public_access" "bad" {
  cluster_arn = "arn:aws:s3:::not-a-cluster-at-all"
  enabled     = true
}"#
    ),
    case!(
        "absurd update timeout",
        "update",
        r#"resource "atlas_msk_public_access" "bad" {
  cluster_arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/atlas/abc"
  enabled     = true
  timeouts {
    update = "1y"
  }
}"#
    ),
    // atlas_cluster
    case!(
        "cluster: name with a space",
        "name",
        r#"resource "atlas_cluster" "bad" {
  name = "atlas staging"
}"#
    ),
    case!(
        "cluster: Unicode name",
        "name",
        r#"resource "atlas_cluster" "bad" {
  name = "atlas-stäging"
}"#
    ),
    // atlas_ingress
    case!(
        "ingress: name over 32 characters",
        "name",
        r#"resource "atlas_ingress" "bad" {
  name               = "atlas-staging-ingress-much-too-long-for-elb"
  vpc_id             = "vpc-12345678"
  subnet_ids         = ["subnet-1111aaaa", "subnet-2222bbbb"]
  security_group_ids = ["sg-12345678"]
  certificate_arn    = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
}"#
    ),
    case!(
        "ingress: one subnet only",
        "subnet_ids",
        r#"resource "atlas_ingress" "bad" {
  name               = "atlas-staging"
  vpc_id             = "vpc-12345678"
  subnet_ids         = ["subnet-1111aaaa"]
  security_group_ids = ["sg-12345678"]
  certificate_arn    = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
}"#
    ),
    case!(
        "ingress: empty group list",
        "security_group_ids",
        r#"resource "atlas_ingress" "bad" {
  name               = "atlas-staging"
  vpc_id             = "vpc-12345678"
  subnet_ids         = ["subnet-1111aaaa", "subnet-2222bbbb"]
  security_group_ids = []
  certificate_arn    = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
}"#
    ),
    case!(
        "ingress: target port out of range",
        "default_target_port",
        r#"resource "atlas_ingress" "bad" {
  name                = "atlas-staging"
  vpc_id              = "vpc-12345678"
  subnet_ids          = ["subnet-1111aaaa", "subnet-2222bbbb"]
  security_group_ids  = ["sg-12345678"]
  certificate_arn     = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
  default_target_port = 70000
}"#
    ),
    // atlas_service
    case!(
        "service: container port out of range",
        "port",
        r#"resource "atlas_service" "bad" {
  name               = "scoring"
  cluster_arn        = "arn:aws:ecs:eu-west-1:123456789012:cluster/atlas"
  subnet_ids         = ["subnet-1111aaaa"]
  security_group_ids = ["sg-12345678"]
  container {
    image  = "scoring:1"
    cpu    = 256
    memory = 512
    port   = 0
  }
}"#
    ),
    case!(
        "service: duplicate hostnames",
        "hostnames",
        r#"resource "atlas_service" "bad" {
  name               = "scoring"
  cluster_arn        = "arn:aws:ecs:eu-west-1:123456789012:cluster/atlas"
  subnet_ids         = ["subnet-1111aaaa"]
  security_group_ids = ["sg-12345678"]
  container {
    image  = "scoring:1"
    cpu    = 256
    memory = 512
    port   = 8083
  }
  route {
    listener_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/a/1/2"
    hostnames    = ["scoring.example.com", "scoring.example.com"]
  }
}"#
    ),
    case!(
        "service: per-request timeout on a TCP port",
        "per_request_timeout_seconds",
        r#"resource "atlas_service" "bad" {
  name               = "camunda"
  cluster_arn        = "arn:aws:ecs:eu-west-1:123456789012:cluster/atlas"
  subnet_ids         = ["subnet-1111aaaa"]
  security_group_ids = ["sg-12345678"]
  container {
    image  = "camunda:1"
    cpu    = 256
    memory = 512
    port   = 8080
  }
  service_connect {
    service {
      port_name                   = "http"
      per_request_timeout_seconds = 30
      client_alias {
        dns_name = "camunda"
        port     = 8080
      }
    }
  }
}"#
    ),
    case!(
        "service: empty subnet list",
        "subnet_ids",
        r#"resource "atlas_service" "bad" {
  name               = "scoring"
  cluster_arn        = "arn:aws:ecs:eu-west-1:123456789012:cluster/atlas"
  subnet_ids         = []
  security_group_ids = ["sg-12345678"]
  container {
    image  = "scoring:1"
    cpu    = 256
    memory = 512
  }
}"#
    ),
    case!(
        "service: absurd desired count",
        "desired_count",
        r#"resource "atlas_service" "bad" {
  name               = "scoring"
  cluster_arn        = "arn:aws:ecs:eu-west-1:123456789012:cluster/atlas"
  subnet_ids         = ["subnet-1111aaaa"]
  security_group_ids = ["sg-12345678"]
  desired_count      = 100000
  container {
    image  = "scoring:1"
    cpu    = 256
    memory = 512
  }
}"#
    ),
    case!(
        "service: a cpu and memory pair Fargate does not offer",
        "memory",
        r#"resource "atlas_service" "bad" {
  name               = "scoring"
  cluster_arn        = "arn:aws:ecs:eu-west-1:123456789012:cluster/atlas"
  subnet_ids         = ["subnet-1111aaaa"]
  security_group_ids = ["sg-12345678"]
  container {
    image  = "scoring:1"
    cpu    = 256
    memory = 16384
  }
}"#
    ),
    // data atlas_network
    case!(
        "data source: empty VPC id",
        "vpc_id",
        r#"data "atlas_network" "bad" {
  vpc_id = ""
}"#
    ),
    // the provider block
    Case {
        name: "provider: negative max_retries",
        body: "provider \"atlas\" {\n  region      = \"eu-west-1\"\n  max_retries = -1\n}\n",
        attribute: "max_retries",
        provider: true,
    },
    Case {
        name: "provider: unknown endpoint service",
        body: "provider \"atlas\" {\n  region    = \"eu-west-1\"\n  endpoints = { \
               s4 = \"http://127.0.0.1:1\" }\n}\n",
        attribute: "endpoints",
        provider: true,
    },
];

/// Whether a source line of a diagnostic's snippet (`  12:   cidr_block = ...`) sets
/// `attribute`.
fn points_at(output: &str, attribute: &str) -> bool {
    output.lines().any(|line| {
        let Some((number, code)) = line.trim_start().split_once(':') else {
            return false;
        };
        let code = code.trim_start();
        number.chars().all(|c| c.is_ascii_digit())
            && !number.is_empty()
            && code
                .strip_prefix(attribute)
                .is_some_and(|rest| rest.trim_start().starts_with(['=', '{']))
    })
}

#[test]
fn every_bad_input_is_a_diagnostic_on_its_attribute_before_any_aws_call() {
    let emulator = Emulator::start();
    let workspace = Workspace::copy_root(&emulator, "tests/acceptance/tests/fixtures/bad_input");
    workspace.write_file("case.tf", PROVIDER);
    workspace.init();

    let mut failures = Vec::new();
    for case in CASES {
        workspace.write_file("case.tf", &case.hcl());
        let before = emulator.requests().len();
        // An apply, not a plan: an input that slipped through would go on to AWS.
        let output = workspace.try_tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let aws_calls: Vec<_> = emulator.requests()[before..]
            .iter()
            .filter(|r| !matches!(r.service.as_deref(), Some("s3" | "sts")))
            .map(|r| r.operation.clone().unwrap_or_default())
            .collect();

        let mut wrong = Vec::new();
        if output.status.success() {
            wrong.push("the apply succeeded".to_owned());
        }
        if !text.contains("Error: ") {
            wrong.push("no error diagnostic".to_owned());
        }
        if !points_at(&text, case.attribute) {
            wrong.push(format!("no diagnostic on `{}`", case.attribute));
        }
        for sign in [
            "Provider Bug",
            "panicked",
            "Plugin did not respond",
            "crashed",
        ] {
            if text.contains(sign) {
                wrong.push(format!("the output says {sign:?}"));
            }
        }
        if !aws_calls.is_empty() {
            wrong.push(format!("AWS calls reached the emulator: {aws_calls:?}"));
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}\n{text}", case.name, wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}
