//! Waiters: poll until an object reaches a state, with backoff, a deadline and cancellation.

use std::time::Instant;

use aws_sdk_ec2::types::{Filter, NatGateway, NatGatewayState};
use tokio_util::sync::CancellationToken;

use super::retry::{pause, Backoff, Interrupted};
use super::AwsError;

/// The NAT gateway state to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NatTarget {
    /// `available`; `failed` ends the wait with the gateway's failure code and message.
    Available,
    /// `deleted` (or `failed`, or gone from the answer).
    Deleted,
}

/// Waits until every NAT gateway in `ids` reaches `target`, polling them all in one
/// `DescribeNatGateways` call each round, and returns their last descriptions.
///
/// Gateways are asked for through the `nat-gateway-id` filter rather than by id, so that
/// a gateway not visible yet (right after `CreateNatGateway`) or gone for good (long
/// after `DeleteNatGateway`) is simply absent instead of failing the whole call with
/// `NatGatewayNotFound`.
pub(crate) async fn wait_nat_gateways(
    ec2: &aws_sdk_ec2::Client,
    ids: &[String],
    target: NatTarget,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<Vec<NatGateway>, AwsError> {
    let operation = "DescribeNatGateways";
    let resource = Some(ids.join(", "));
    let waiting_for = match target {
        NatTarget::Available => "nat gateways to become available",
        NatTarget::Deleted => "nat gateways to be deleted",
    };
    let mut backoff = Backoff::poll();
    loop {
        let answer = ec2
            .describe_nat_gateways()
            .filter(
                Filter::builder()
                    .name("nat-gateway-id")
                    .set_values(Some(ids.to_vec()))
                    .build(),
            )
            .send()
            .await
            .map_err(|err| AwsError::from_sdk(operation, resource.as_deref(), err))?;
        let gateways = answer.nat_gateways().to_vec();

        let mut pending = Vec::new();
        for id in ids {
            let state = gateways
                .iter()
                .find(|gateway| gateway.nat_gateway_id() == Some(id.as_str()))
                .map(|gateway| (gateway.state().cloned(), gateway));
            let done = match (target, state) {
                (NatTarget::Available, Some((Some(NatGatewayState::Available), _))) => true,
                (NatTarget::Available, Some((Some(NatGatewayState::Failed), gateway))) => {
                    return Err(AwsError::item(
                        "CreateNatGateway",
                        Some(id),
                        Some(gateway.failure_code().unwrap_or("NatGatewayFailed")),
                        gateway.failure_message(),
                    ));
                }
                (NatTarget::Available, _) => false,
                (NatTarget::Deleted, None) => true,
                (NatTarget::Deleted, Some((state, _))) => {
                    matches!(
                        state,
                        Some(NatGatewayState::Deleted | NatGatewayState::Failed)
                    )
                }
            };
            if !done {
                pending.push(id.as_str());
            }
        }
        if pending.is_empty() {
            return Ok(gateways);
        }

        tracing::debug!(nat_gateway_ids = ?pending, target = ?target, "waiting for nat gateways");
        match pause(backoff.next_delay(), deadline, cancel).await {
            Ok(()) => {}
            Err(Interrupted::Cancelled) => {
                return Err(AwsError::Cancelled {
                    operation,
                    resource,
                });
            }
            Err(Interrupted::Deadline) => {
                return Err(AwsError::Timeout {
                    operation,
                    resource: Some(pending.join(", ")),
                    waiting_for: waiting_for.to_owned(),
                    last: None,
                });
            }
        }
    }
}
