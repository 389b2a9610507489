//! ELBv2 objects found by name and judged by an owner tag: how a create that was
//! interrupted before Terraform saved its state is told apart from someone else's
//! object of the same name.

use aws_sdk_elasticloadbalancingv2::types::{LoadBalancer, TargetGroup};
use aws_sdk_elasticloadbalancingv2::Client as Elbv2;

use super::{elb_tag_values, AwsError};

/// The kinds of ELBv2 object that are unique by name in an account and region.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ElbKind {
    TargetGroup,
    LoadBalancer,
}

impl ElbKind {
    /// The kind in words, for diagnostics.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            ElbKind::TargetGroup => "target group",
            ElbKind::LoadBalancer => "load balancer",
        }
    }

    /// The ARN of the object of this kind named `name`; `None` when there is none.
    async fn named(self, elbv2: &Elbv2, name: &str) -> Result<Option<String>, AwsError> {
        let (answer, not_found) = match self {
            ElbKind::TargetGroup => (
                elbv2
                    .describe_target_groups()
                    .names(name)
                    .send()
                    .await
                    .map(|a| {
                        a.target_groups()
                            .first()
                            .and_then(TargetGroup::target_group_arn)
                            .map(str::to_owned)
                    })
                    .map_err(|e| AwsError::from_sdk("DescribeTargetGroups", Some(name), e)),
                "TargetGroupNotFound",
            ),
            ElbKind::LoadBalancer => (
                elbv2
                    .describe_load_balancers()
                    .names(name)
                    .send()
                    .await
                    .map(|a| {
                        a.load_balancers()
                            .first()
                            .and_then(LoadBalancer::load_balancer_arn)
                            .map(str::to_owned)
                    })
                    .map_err(|e| AwsError::from_sdk("DescribeLoadBalancers", Some(name), e)),
                "LoadBalancerNotFound",
            ),
        };
        match answer {
            Err(e) if e.is_code(&[not_found]) => Ok(None),
            other => other,
        }
    }
}

/// Who holds a name, by [`elb_claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// No object of the kind has the name.
    Free,
    /// The object of that name (its ARN) carries the owner asked about.
    Ours(String),
    /// The object of that name (its ARN) does not.
    Theirs(String),
}

/// Whether the object of `kind` named `name` exists and carries `owner` in the tag
/// `owner_tag`.
pub(crate) async fn elb_claim(
    elbv2: &Elbv2,
    kind: ElbKind,
    name: &str,
    owner_tag: &str,
    owner: &str,
) -> Result<Claim, AwsError> {
    let named = kind.named(elbv2, name).await;
    tracing::debug!(kind = kind.noun(), name, found = ?named, "looking for an object of the name");
    let Some(arn) = named? else {
        return Ok(Claim::Free);
    };
    let owners = elb_tag_values(elbv2, std::slice::from_ref(&arn), owner_tag).await?;
    if owners.get(&arn).map(String::as_str) == Some(owner) {
        Ok(Claim::Ours(arn))
    } else {
        Ok(Claim::Theirs(arn))
    }
}
