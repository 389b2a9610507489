//! The provider block: region, credentials, endpoints and default tags.
//!
//! Credentials come from the AWS SDK's usual chain (environment, shared profile, SSO,
//! container and instance roles); nothing secret is ever part of the provider's schema.
//! Endpoints can be overridden for every service at once with `AWS_ENDPOINT_URL`, per
//! service with `AWS_ENDPOINT_URL_<SERVICE>`, or in the `endpoints` attribute, so the same
//! binary talks to real AWS or to a local emulator.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::resource::{Context, DataSource, Provider, Resource};
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema};
use tfplugin::validate;
use tfplugin::value::{AttributePath, Type, Value};

use crate::aws::AwsClients;
use crate::convert;

/// The services whose endpoint the `endpoints` attribute may override.
pub(crate) const ENDPOINT_SERVICES: &[&str] = &[
    "ec2",
    "ecs",
    "elbv2",
    "iam",
    "kafka",
    "logs",
    "servicediscovery",
    "sts",
];

/// How many times the AWS SDK retries a call that failed for a transient reason
/// (throttling, a 5xx answer, a dropped connection or a timeout) when `max_retries` is
/// not set: terraform-provider-aws's default.
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 25;

/// What the resources need once the provider is configured.
#[derive(Debug)]
pub(crate) struct Configured {
    /// The AWS clients.
    pub(crate) aws: AwsClients,
    /// Tags added to every object, below the resource's own tags.
    pub(crate) default_tags: BTreeMap<String, String>,
}

/// The configured provider, shared by every resource of one process.
#[derive(Debug, Default)]
pub(crate) struct Shared(OnceLock<Configured>);

impl Shared {
    /// The configuration, or an error diagnostic when the provider was not configured.
    pub(crate) fn get(&self, diags: &mut Diagnostics) -> Option<&Configured> {
        let configured = self.0.get();
        if configured.is_none() {
            diags.error(
                "Provider Not Configured",
                "The atlas provider was used before it was configured. This is a bug in the \
                 provider.",
            );
        }
        configured
    }

    /// The default tags, or none before configuration (as during validation).
    pub(crate) fn default_tags(&self) -> BTreeMap<String, String> {
        self.0
            .get()
            .map(|c| c.default_tags.clone())
            .unwrap_or_default()
    }
}

/// The atlas provider.
#[derive(Debug, Default)]
pub(crate) struct AtlasProvider {
    shared: Arc<Shared>,
}

#[async_trait]
impl Provider for AtlasProvider {
    fn schema(&self) -> Schema {
        let tags = Block::new(vec![Attribute::optional("tags", Type::Map(Box::new(Type::String)))
            .description("Tags added to every AWS object the provider creates. A resource's own `tags` win over these.")
            .validate(crate::tags::TagsValidator)]);
        Schema::new(
            Block::new(vec![
                Attribute::optional("region", Type::String)
                    .description("The AWS region, such as `eu-west-1`. Defaults to `AWS_REGION` or the profile's region.")
                    .validate(validate::string_length(1, 64)),
                Attribute::optional("profile", Type::String)
                    .description("The shared configuration profile to use. Defaults to `AWS_PROFILE` or `default`.")
                    .validate(validate::string_length(1, 128)),
                Attribute::optional("endpoints", Type::Map(Box::new(Type::String)))
                    .description(
                        "Endpoint URLs by service (`ec2`, `ecs`, `elbv2`, `iam`, `kafka`, `logs`, `servicediscovery`, `sts`), for example a local emulator. \
                         `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` work too.",
                    )
                    .validate(validate::keys(validate::one_of(ENDPOINT_SERVICES))),
                Attribute::optional("max_retries", Type::Number)
                    .description(
                        "How many times an AWS call that failed for a transient reason (throttling, a 5xx answer, a dropped connection, a timeout) is retried, with exponential backoff and jitter, before the error is reported. Defaults to 25.",
                    )
                    .validate(validate::int_between(0, 100)),
            ])
            .with_block(NestedBlock::single("default_tags", tags))
            .description("The atlas provider builds the Atlas AWS design from a few high-level resources."),
        )
    }

    async fn configure(&self, _ctx: &Context, config: &Value, diags: &mut Diagnostics) {
        if !config.is_wholly_known() {
            diags.error(
                "Provider Configuration Unknown",
                "The provider configuration depends on values that are not known until apply. \
                 Use values known at plan time for region, profile, endpoints and default tags.",
            );
            return;
        }
        let region = convert::opt_string(config, "region");
        let profile = convert::opt_string(config, "profile");
        let endpoints = convert::string_map(config.get("endpoints"));
        let default_tags =
            convert::string_map(config.get("default_tags").and_then(|b| b.get("tags")));

        let max_retries = convert::opt_i64(config, "max_retries")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_MAX_RETRIES);

        // Standard mode: throttling errors, 5xx answers and transient transport errors
        // (a connection closed or reset, a timeout) are retried with jittered
        // exponential backoff, within the SDK's retry quota. The provider's own retries
        // (aws/retry.rs) sit above this and only handle eventual consistency.
        let retry = aws_config::retry::RetryConfig::standard().with_max_attempts(max_retries + 1);
        let mut loader =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).retry_config(retry);
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region));
        }
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            diags.error_at(
                AttributePath::new().attr("region"),
                "Missing AWS Region",
                "No AWS region is configured. Set `region` in the provider block, or AWS_REGION \
                 in the environment, or a region in your AWS profile.",
            );
            return;
        }
        tracing::debug!(
            region = %sdk.region().map(|r| r.as_ref()).unwrap_or_default(),
            endpoint_overrides = endpoints.len(),
            max_retries,
            "configured AWS"
        );
        let aws = clients(&sdk, &endpoints);
        let _ = self.shared.0.set(Configured { aws, default_tags });
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(crate::network::NetworkResource::new(self.shared.clone())),
            Arc::new(crate::security_model::SecurityModelResource::new(
                self.shared.clone(),
            )),
            Arc::new(crate::msk_public_access::MskPublicAccessResource::new(
                self.shared.clone(),
            )),
            Arc::new(crate::cluster::ClusterResource::new(self.shared.clone())),
            Arc::new(crate::ingress::IngressResource::new(self.shared.clone())),
            Arc::new(crate::service::ServiceResource::new(self.shared.clone())),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(crate::network::NetworkDataSource::new(
            self.shared.clone(),
        ))]
    }
}

/// The AWS clients, each with its endpoint override from the provider block, if any.
fn clients(sdk: &aws_types::SdkConfig, endpoints: &BTreeMap<String, String>) -> AwsClients {
    let config_for = |service: &str| match endpoints.get(service) {
        Some(url) => sdk.to_builder().endpoint_url(url).build(),
        None => sdk.clone(),
    };
    let mut aws = AwsClients::new(sdk);
    aws.ec2 = aws_sdk_ec2::Client::new(&config_for("ec2"));
    aws.ecs = aws_sdk_ecs::Client::new(&config_for("ecs"));
    aws.elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&config_for("elbv2"));
    aws.servicediscovery = aws_sdk_servicediscovery::Client::new(&config_for("servicediscovery"));
    aws.iam = aws_sdk_iam::Client::new(&config_for("iam"));
    aws.logs = aws_sdk_cloudwatchlogs::Client::new(&config_for("logs"));
    aws.kafka = aws_sdk_kafka::Client::new(&config_for("kafka"));
    aws
}
