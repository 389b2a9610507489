//! `atlas_ingress` against the emulator, on a VPC, two public subnets in two zones, a
//! security group and an ACM certificate made through the AWS SDK: the load balancer and
//! its listeners as ELBv2 shows them, an empty second plan, listener drift found and
//! repaired, in-place changes, import, bad inputs refused before any AWS call, a
//! destroy that leaves nothing, what an interrupted create left taken over (also when
//! the apply is killed, with its provider, among its calls), and a same-named load
//! balancer it did not make refused. Every check goes through the AWS SDK
//! (`aws-sdk-elasticloadbalancingv2`), never through the provider's code.

use std::time::Duration;

use atlas_acceptance::{Emulator, FaultSettings, PlanOutcome, Workspace};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, Listener, LoadBalancerSchemeEnum,
    ProtocolEnum, RedirectActionStatusCodeEnum, TargetTypeEnum,
};
use serde_json::Value;

const FIXTURE: &str = "tests/acceptance/tests/fixtures/ingress";
const ADDRESS: &str = "atlas_ingress.this";
const NAME: &str = "atlas-test";
const POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// What the test made on the emulator for the ingress to use.
struct Inputs {
    vpc_id: String,
    subnet_ids: Vec<String>,
    group_ids: Vec<String>,
    certificate_arn: String,
}

impl Inputs {
    fn tfvars(&self, extra: &str) -> String {
        let list = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        format!(
            "vpc_id = {:?}\nsubnet_ids = {}\nsecurity_group_ids = {}\ncertificate_arn = {:?}\n{extra}",
            self.vpc_id,
            list(&self.subnet_ids),
            list(&self.group_ids),
            self.certificate_arn,
        )
    }
}

/// A VPC with a subnet in each of two zones plus a spare one, two groups, a certificate.
async fn prepare(emulator: &Emulator, ec2: &aws_sdk_ec2::Client) -> (Inputs, String, String) {
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.70.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let mut subnets = Vec::new();
    for (cidr, zone) in [
        ("10.70.0.0/24", "eu-west-1a"),
        ("10.70.1.0/24", "eu-west-1b"),
        ("10.70.2.0/24", "eu-west-1c"),
    ] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .expect("CreateSubnet");
        subnets.push(subnet.subnet.unwrap().subnet_id.unwrap());
    }
    let mut groups = Vec::new();
    for name in ["alb", "alb-extra"] {
        let group = ec2
            .create_security_group()
            .vpc_id(&vpc_id)
            .group_name(name)
            .description("ingress test")
            .send()
            .await
            .expect("CreateSecurityGroup");
        groups.push(group.group_id.unwrap());
    }
    let spare_subnet = subnets.pop().unwrap();
    let spare_group = groups.pop().unwrap();
    let inputs = Inputs {
        vpc_id,
        subnet_ids: subnets,
        group_ids: groups,
        certificate_arn: emulator.create_certificate("atlas.example.com"),
    };
    (inputs, spare_subnet, spare_group)
}

struct Clients {
    ec2: aws_sdk_ec2::Client,
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
}

async fn clients(emulator: &Emulator) -> Clients {
    let config = emulator.sdk_config().await;
    Clients {
        ec2: aws_sdk_ec2::Client::new(&config),
        elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
    }
}

fn attr(workspace: &Workspace<'_>, name: &str) -> String {
    match &workspace.output("ingress")[name] {
        Value::String(s) => s.clone(),
        other => panic!("ingress.{name} is not a string: {other}"),
    }
}

async fn listeners(elbv2: &aws_sdk_elasticloadbalancingv2::Client, lb: &str) -> Vec<Listener> {
    let mut listeners = elbv2
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .expect("DescribeListeners")
        .listeners
        .unwrap_or_default();
    listeners.sort_by_key(|l| l.port());
    listeners
}

/// The value of the tag `key` on the load balancer `arn`, through ELBv2 DescribeTags.
async fn lb_tag(
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
    key: &str,
) -> Option<String> {
    let tags = elbv2
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .expect("DescribeTags");
    tags.tag_descriptions()[0]
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
        .map(str::to_owned)
}

/// Whether a load balancer named [`NAME`] exists.
async fn lb_exists(elbv2: &aws_sdk_elasticloadbalancingv2::Client) -> bool {
    match elbv2.describe_load_balancers().names(NAME).send().await {
        Ok(answer) => !answer.load_balancers().is_empty(),
        Err(e) => {
            let text = format!("{:?}", e.into_service_error());
            assert!(text.contains("LoadBalancerNotFound"), "{text}");
            false
        }
    }
}

fn plan_changes(workspace: &Workspace<'_>) -> String {
    match workspace.plan_detailed_exitcode() {
        PlanOutcome::Changes(text) => text,
        PlanOutcome::NoChanges => panic!("the plan shows no changes"),
        other => panic!("unexpected plan outcome {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn basic() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let (inputs, _, _) = prepare(&emulator, &aws.ec2).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars(""));
    workspace.init();
    workspace.apply();

    // The load balancer: internet-facing, application, IPv4, in the subnets, the group.
    let lb_arn = attr(&workspace, "arn");
    assert_eq!(attr(&workspace, "id"), lb_arn);
    let lb = aws
        .elbv2
        .describe_load_balancers()
        .load_balancer_arns(&lb_arn)
        .send()
        .await
        .expect("DescribeLoadBalancers")
        .load_balancers
        .unwrap()
        .remove(0);
    assert_eq!(lb.load_balancer_name(), Some(NAME));
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::InternetFacing));
    assert_eq!(lb.r#type().map(|t| t.as_str()), Some("application"));
    assert_eq!(lb.ip_address_type().map(|t| t.as_str()), Some("ipv4"));
    let mut subnets: Vec<String> = lb
        .availability_zones()
        .iter()
        .map(|z| z.subnet_id().unwrap().to_owned())
        .collect();
    subnets.sort();
    let mut wanted = inputs.subnet_ids.clone();
    wanted.sort();
    assert_eq!(subnets, wanted);
    assert_eq!(lb.security_groups(), inputs.group_ids.as_slice());
    assert_eq!(attr(&workspace, "dns_name"), lb.dns_name().unwrap());
    assert_eq!(
        attr(&workspace, "zone_id"),
        lb.canonical_hosted_zone_id().unwrap()
    );

    // Port 80 redirects to HTTPS 443 with a 301.
    let found = listeners(&aws.elbv2, &lb_arn).await;
    assert_eq!(found.len(), 2, "{found:?}");
    let http = &found[0];
    assert_eq!(http.port(), Some(80));
    assert_eq!(http.protocol(), Some(&ProtocolEnum::Http));
    assert_eq!(
        http.listener_arn(),
        Some(attr(&workspace, "http_listener_arn").as_str())
    );
    let [redirect] = http.default_actions() else {
        panic!("port 80 has not one default action: {http:?}")
    };
    assert_eq!(redirect.r#type(), Some(&ActionTypeEnum::Redirect));
    let config = redirect.redirect_config().unwrap();
    assert_eq!(config.protocol(), Some("HTTPS"));
    assert_eq!(config.port(), Some("443"));
    assert_eq!(
        config.status_code(),
        Some(&RedirectActionStatusCodeEnum::Http301)
    );

    // Port 443: HTTPS, the certificate, the policy, forward to the default group.
    let https = &found[1];
    assert_eq!(https.port(), Some(443));
    assert_eq!(https.protocol(), Some(&ProtocolEnum::Https));
    assert_eq!(
        https.listener_arn(),
        Some(attr(&workspace, "https_listener_arn").as_str())
    );
    assert_eq!(https.ssl_policy(), Some(POLICY));
    let certificates: Vec<&str> = https
        .certificates()
        .iter()
        .filter_map(|c| c.certificate_arn())
        .collect();
    assert_eq!(certificates, [inputs.certificate_arn.as_str()]);
    let [forward] = https.default_actions() else {
        panic!("port 443 has not one default action: {https:?}")
    };
    assert_eq!(forward.r#type(), Some(&ActionTypeEnum::Forward));
    let tg_arn = attr(&workspace, "default_target_group_arn");
    assert_eq!(forward.target_group_arn(), Some(tg_arn.as_str()));

    // The default target group: ip targets, HTTP 8080 in the VPC, /health.
    let tg = aws
        .elbv2
        .describe_target_groups()
        .target_group_arns(&tg_arn)
        .send()
        .await
        .expect("DescribeTargetGroups")
        .target_groups
        .unwrap()
        .remove(0);
    assert_eq!(tg.target_type(), Some(&TargetTypeEnum::Ip));
    assert_eq!(tg.protocol(), Some(&ProtocolEnum::Http));
    assert_eq!(tg.port(), Some(8080));
    assert_eq!(tg.vpc_id(), Some(inputs.vpc_id.as_str()));
    assert_eq!(tg.health_check_path(), Some("/health"));

    // Every object carries the merged tags.
    let tags = aws
        .elbv2
        .describe_tags()
        .resource_arns(&lb_arn)
        .resource_arns(&tg_arn)
        .resource_arns(http.listener_arn().unwrap())
        .resource_arns(https.listener_arn().unwrap())
        .send()
        .await
        .expect("DescribeTags");
    assert_eq!(tags.tag_descriptions().len(), 4);
    for description in tags.tag_descriptions() {
        let pairs: Vec<(&str, &str)> = description
            .tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect();
        assert!(pairs.contains(&("project", "atlas")), "{description:?}");
        assert!(pairs.contains(&("component", "ingress")), "{description:?}");
    }

    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // Destroy: no load balancer, listener or target group is left.
    workspace.destroy();
    assert!(!lb_exists(&aws.elbv2).await);
    let groups = aws
        .elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups");
    assert!(groups.target_groups().is_empty(), "{groups:?}");
    let listener = aws
        .elbv2
        .describe_listeners()
        .listener_arns(http.listener_arn().unwrap())
        .send()
        .await;
    assert!(listener.is_err() || listener.unwrap().listeners().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn listener_drift_is_planned_and_repaired() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let (inputs, _, _) = prepare(&emulator, &aws.ec2).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars(""));
    workspace.init();
    workspace.apply();
    let lb_arn = attr(&workspace, "arn");
    let https_arn = attr(&workspace, "https_listener_arn");
    let tg_arn = attr(&workspace, "default_target_group_arn");

    // The HTTPS listener answers 404 instead of forwarding, changed outside Terraform.
    aws.elbv2
        .modify_listener()
        .listener_arn(&https_arn)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("404")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("ModifyListener");

    let text = plan_changes(&workspace);
    assert!(text.contains("\"fixed-response\" -> \"forward\""), "{text}");
    assert!(text.contains("1 to change, 0 to destroy"), "{text}");
    workspace.apply();
    let found = listeners(&aws.elbv2, &lb_arn).await;
    let https = found.iter().find(|l| l.port() == Some(443)).unwrap();
    assert_eq!(https.listener_arn(), Some(https_arn.as_str()));
    assert_eq!(
        https.default_actions()[0].r#type(),
        Some(&ActionTypeEnum::Forward)
    );
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        Some(tg_arn.as_str())
    );
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // The HTTP listener deleted outside Terraform comes back.
    let http_arn = attr(&workspace, "http_listener_arn");
    aws.elbv2
        .delete_listener()
        .listener_arn(&http_arn)
        .send()
        .await
        .expect("DeleteListener");
    let text = plan_changes(&workspace);
    assert!(text.contains("1 to change, 0 to destroy"), "{text}");
    workspace.apply();
    let found = listeners(&aws.elbv2, &lb_arn).await;
    let http = found
        .iter()
        .find(|l| l.port() == Some(80))
        .expect("port 80 is back");
    assert_eq!(
        http.default_actions()[0].r#type(),
        Some(&ActionTypeEnum::Redirect)
    );
    assert_eq!(
        http.listener_arn(),
        Some(attr(&workspace, "http_listener_arn").as_str())
    );
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    workspace.destroy();
    assert!(!lb_exists(&aws.elbv2).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn in_place_changes_and_import() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let (inputs, spare_subnet, spare_group) = prepare(&emulator, &aws.ec2).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars(""));
    workspace.init();
    workspace.apply();
    let lb_arn = attr(&workspace, "arn");
    let old_tg = attr(&workspace, "default_target_group_arn");

    // Another subnet and group, another policy and target port: all in place.
    let changed = Inputs {
        subnet_ids: vec![inputs.subnet_ids[0].clone(), spare_subnet],
        group_ids: vec![inputs.group_ids[0].clone(), spare_group],
        vpc_id: inputs.vpc_id.clone(),
        certificate_arn: inputs.certificate_arn.clone(),
    };
    workspace.write_file(
        "terraform.tfvars",
        &changed.tfvars(
            "ssl_policy = \"ELBSecurityPolicy-TLS13-1-2-Res-2021-06\"\ndefault_target_port = 9090\n",
        ),
    );
    let text = plan_changes(&workspace);
    assert!(
        text.contains("0 to add, 1 to change, 0 to destroy"),
        "{text}"
    );
    workspace.apply();
    assert_eq!(attr(&workspace, "arn"), lb_arn);
    let lb = aws
        .elbv2
        .describe_load_balancers()
        .load_balancer_arns(&lb_arn)
        .send()
        .await
        .unwrap()
        .load_balancers
        .unwrap()
        .remove(0);
    let mut subnets: Vec<String> = lb
        .availability_zones()
        .iter()
        .map(|z| z.subnet_id().unwrap().to_owned())
        .collect();
    subnets.sort();
    let mut wanted = changed.subnet_ids.clone();
    wanted.sort();
    assert_eq!(subnets, wanted);
    let mut groups = lb.security_groups().to_vec();
    groups.sort();
    let mut wanted = changed.group_ids.clone();
    wanted.sort();
    assert_eq!(groups, wanted);
    let new_tg = attr(&workspace, "default_target_group_arn");
    assert_ne!(new_tg, old_tg);
    let found = listeners(&aws.elbv2, &lb_arn).await;
    let https = found.iter().find(|l| l.port() == Some(443)).unwrap();
    assert_eq!(
        https.ssl_policy(),
        Some("ELBSecurityPolicy-TLS13-1-2-Res-2021-06")
    );
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        Some(new_tg.as_str())
    );
    let tgs = aws.elbv2.describe_target_groups().send().await.unwrap();
    let arns: Vec<&str> = tgs
        .target_groups()
        .iter()
        .filter_map(|t| t.target_group_arn())
        .collect();
    assert_eq!(arns, [new_tg.as_str()], "the old target group is deleted");
    assert_eq!(tgs.target_groups()[0].port(), Some(9090));
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    // Import by ARN gives the same state: the next plan is empty.
    workspace.tf(&["state", "rm", ADDRESS]);
    workspace.tf(&["import", "-input=false", "-no-color", ADDRESS, &lb_arn]);
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);

    workspace.destroy();
    assert!(!lb_exists(&aws.elbv2).await);
    let tgs = aws.elbv2.describe_target_groups().send().await.unwrap();
    assert!(tgs.target_groups().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_are_refused_before_aws() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let (inputs, _, _) = prepare(&emulator, &aws.ec2).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars(""));
    workspace.init();

    let one_subnet = Inputs {
        subnet_ids: vec![inputs.subnet_ids[0].clone()],
        vpc_id: inputs.vpc_id.clone(),
        group_ids: inputs.group_ids.clone(),
        certificate_arn: inputs.certificate_arn.clone(),
    };
    let cases = [
        (
            inputs.tfvars(&format!("name = \"{}\"\n", "a".repeat(33))),
            "name",
            "must be 1 to 32 characters long",
        ),
        (
            inputs.tfvars("name = \"internal-web\"\n"),
            "name",
            "must not start with \"internal-\"",
        ),
        (
            inputs.tfvars("name = \"web_1\"\n"),
            "name",
            "letters, digits and hyphens",
        ),
        (
            one_subnet.tfvars(""),
            "subnet_ids",
            "must have 2 to 32 elements, but it has 1",
        ),
        (
            inputs
                .tfvars("")
                .replace(&inputs.certificate_arn, "not-an-arn"),
            "certificate_arn",
            "an ACM or IAM certificate ARN",
        ),
    ];
    for (tfvars, attribute, message) in cases {
        workspace.write_file("terraform.tfvars", &tfvars);
        let output = workspace.try_tf(&["plan", "-input=false", "-no-color"]);
        assert!(!output.status.success(), "{attribute}: the plan succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{attribute}: {stderr}");
        // Terraform quotes the configuration line of the attribute the diagnostic is on.
        let quoted = format!("{attribute:<20}= var.{attribute}");
        assert!(stderr.contains(quoted.trim_end()), "{attribute}: {stderr}");
    }
    assert_eq!(
        emulator.count("elasticloadbalancing", "CreateLoadBalancer"),
        0
    );
    assert_eq!(
        emulator.count("elasticloadbalancing", "CreateTargetGroup"),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_changed_outside_terraform_are_put_back() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let (inputs, _, _) = prepare(&emulator, &aws.ec2).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars(""));
    workspace.init();
    workspace.apply();
    let lb_arn = attr(&workspace, "arn");

    aws.elbv2
        .add_tags()
        .resource_arns(&lb_arn)
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key("component")
                .value("changed")
                .build(),
        )
        .send()
        .await
        .expect("AddTags");
    let text = plan_changes(&workspace);
    assert!(text.contains("\"changed\" -> \"ingress\""), "{text}");
    workspace.apply();
    let component = lb_tag(&aws.elbv2, &lb_arn, "component").await;
    assert_eq!(component.as_deref(), Some("ingress"));
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
}

/// The ARNs of every listener, load balancer and target group the emulator holds.
async fn elb_objects(elbv2: &aws_sdk_elasticloadbalancingv2::Client) -> Vec<String> {
    let mut arns = Vec::new();
    let lbs = elbv2
        .describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers");
    for lb in lbs.load_balancers() {
        let arn = lb.load_balancer_arn().expect("an ARN").to_owned();
        for listener in listeners(elbv2, &arn).await {
            arns.push(listener.listener_arn().expect("an ARN").to_owned());
        }
        arns.push(arn);
    }
    let groups = elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups");
    for group in groups.target_groups() {
        arns.push(group.target_group_arn().expect("an ARN").to_owned());
    }
    arns.sort();
    arns
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_state_was_never_saved_is_taken_over() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let (inputs, _, _) = prepare(&emulator, &aws.ec2).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars(""));
    workspace.init();
    workspace.apply();
    let made = elb_objects(&aws.elbv2).await;
    assert_eq!(
        made.len(),
        4,
        "load balancer, two listeners, target group: {made:#?}"
    );

    // As if the apply had been killed after its last AWS call and before Terraform
    // wrote the state: every object exists, the state knows none of them.
    workspace.tf(&["state", "rm", ADDRESS]);
    workspace.apply();
    assert_eq!(
        elb_objects(&aws.elbv2).await,
        made,
        "the same objects, taken over: none added, none replaced"
    );
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
    let owner = lb_tag(&aws.elbv2, &attr(&workspace, "arn"), "atlas:ingress").await;
    assert_eq!(
        owner.as_deref(),
        Some(NAME),
        "the owner tag is on the load balancer"
    );

    workspace.destroy();
    assert!(
        elb_objects(&aws.elbv2).await.is_empty(),
        "the destroy left objects"
    );
}

/// Applies the ingress with 300 ms on every ELBv2 call, kills Terraform and its provider
/// (SIGKILL) once the emulator has answered `calls` calls of `operation` (with `partial`,
/// before every object is made), then applies again: the next apply takes over what the
/// killed one made, the plan after it is empty, the emulator holds one load balancer,
/// its two listeners and one target group, and destroy leaves nothing.
async fn killed_after(operation: &str, calls: usize, partial: bool) {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let (inputs, _, _) = prepare(&emulator, &aws.ec2).await;
    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars(""));
    workspace.init();

    let latency = 300;
    emulator.set_faults(&FaultSettings::latency(latency).services(&["elasticloadbalancing"]));
    workspace.apply_killed_when(&format!("{calls} {operation} calls"), || {
        emulator.count("elasticloadbalancing", operation) >= calls
    });
    // A call already sent still finishes on the emulator's side, as it would on AWS's.
    std::thread::sleep(Duration::from_millis(3 * latency));
    emulator.set_faults(&FaultSettings::default());
    let left = elb_objects(&aws.elbv2).await;
    eprintln!(
        "killed after {calls} {operation}: {} ELBv2 objects left",
        left.len()
    );
    assert!(
        lb_exists(&aws.elbv2).await,
        "the kill came after the load balancer"
    );
    if partial {
        assert!(
            left.len() < 4,
            "the kill came before the create was done: {left:#?}"
        );
    }

    workspace.force_unlock_if_locked();
    workspace.apply();
    let made = elb_objects(&aws.elbv2).await;
    assert_eq!(
        made.len(),
        4,
        "load balancer, two listeners, target group: {made:#?}"
    );
    for arn in &left {
        assert!(made.contains(arn), "{arn} was replaced, not taken over");
    }
    assert!(made.contains(&attr(&workspace, "arn")));
    assert_eq!(workspace.plan_detailed_exitcode(), PlanOutcome::NoChanges);
    workspace.destroy();
    assert!(
        elb_objects(&aws.elbv2).await.is_empty(),
        "the destroy left objects"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_killed_before_its_listeners_converges() {
    killed_after("CreateLoadBalancer", 1, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_killed_among_its_listeners_converges() {
    // The two listeners are made side by side: the second may be made or in flight.
    killed_after("CreateListener", 1, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_named_load_balancer_it_did_not_make_is_refused() {
    let emulator = Emulator::start();
    let aws = clients(&emulator).await;
    let (inputs, _, _) = prepare(&emulator, &aws.ec2).await;
    let theirs = aws
        .elbv2
        .create_load_balancer()
        .name(NAME)
        .set_subnets(Some(inputs.subnet_ids.clone()))
        .set_security_groups(Some(inputs.group_ids.clone()))
        .send()
        .await
        .expect("CreateLoadBalancer");
    let their_arn = theirs.load_balancers()[0]
        .load_balancer_arn()
        .expect("an ARN")
        .to_owned();
    let before = elb_objects(&aws.elbv2).await;

    let workspace = Workspace::copy_root(&emulator, FIXTURE);
    workspace.write_file("terraform.tfvars", &inputs.tfvars(""));
    workspace.init();
    let output = workspace.try_tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        !output.status.success(),
        "the apply took over a load balancer it did not make"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needed in ["already exists", their_arn.as_str(), "terraform import"] {
        assert!(stderr.contains(needed), "{needed:?} is not in: {stderr}");
    }
    assert_eq!(elb_objects(&aws.elbv2).await, before, "nothing was made");
    let state = workspace.try_tf(&["state", "list"]);
    assert!(
        String::from_utf8_lossy(&state.stdout).trim().is_empty(),
        "the state took nothing"
    );
}
