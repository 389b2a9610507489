//! EC2 look-ups shared by the resources.

use aws_sdk_ec2::types::Filter;

/// An EC2 filter matching `name` against any of `values`.
pub(crate) fn filter<I, S>(name: &str, values: I) -> Filter
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().map(Into::into).collect()))
        .build()
}

/// The network interfaces matched by the EC2 filter `filter_name` = `value` (such as
/// `group-id` or `vpc-id`), described for a "still in use by" diagnostic. Best effort: a
/// failed look-up only makes the diagnostic shorter.
pub(crate) async fn interfaces_using(
    ec2: &aws_sdk_ec2::Client,
    filter_name: &str,
    value: &str,
) -> Vec<String> {
    ec2.describe_network_interfaces()
        .filters(filter(filter_name, [value]))
        .send()
        .await
        .map(|answer| {
            answer
                .network_interfaces()
                .iter()
                .map(|eni| {
                    format!(
                        "network interface {} ({})",
                        eni.network_interface_id().unwrap_or("?"),
                        eni.description().unwrap_or("no description")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
