//! What a provider, a resource and a data source implement.
//!
//! Implementations see decoded [`Value`]s checked against their schema, never protocol
//! messages. The runtime does the planning that every resource needs (defaults, unknown
//! computed values, replacement, timeouts) before it calls [`Resource::modify_plan`], and
//! checks every result against Terraform's rules before it answers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::{AttributePath, Value};

/// What every call into provider code receives.
#[derive(Debug)]
pub struct Context {
    cancel: CancellationToken,
    deadline: Instant,
    private: Mutex<Vec<u8>>,
    /// The resource or data source type, or `provider`.
    pub type_name: String,
}

impl Context {
    pub(crate) fn new(type_name: &str, cancel: CancellationToken, timeout: Duration) -> Self {
        Context {
            cancel,
            deadline: Instant::now() + timeout,
            private: Mutex::new(Vec::new()),
            type_name: type_name.to_owned(),
        }
    }

    /// Cancelled when Terraform asks the provider to stop (Ctrl-C): long operations must
    /// watch it and return promptly.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// When the current operation runs out of time, from the resource's `timeouts` block.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The resource's private state: opaque bytes kept by Terraform beside the state.
    pub fn private(&self) -> Vec<u8> {
        self.private.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Replaces the private state returned with this operation.
    pub fn set_private(&self, bytes: Vec<u8>) {
        if let Ok(mut p) = self.private.lock() {
            *p = bytes;
        }
    }
}

/// The default duration of each long operation of a resource; users override them in its
/// `timeouts` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Create.
    pub create: Duration,
    /// Read (refresh).
    pub read: Duration,
    /// Update.
    pub update: Duration,
    /// Delete.
    pub delete: Duration,
}

impl Timeouts {
    /// The same default for every operation.
    pub const fn all(d: Duration) -> Self {
        Timeouts {
            create: d,
            read: d,
            update: d,
            delete: d,
        }
    }
}

/// A plan in the making, handed to [`Resource::modify_plan`].
#[derive(Debug)]
pub struct Plan<'a> {
    /// The prior state; null when creating.
    pub prior: &'a Value,
    /// The configuration, with unknowns.
    pub config: &'a Value,
    /// The planned state, after the runtime's own planning; change it in place.
    pub planned: &'a mut Value,
    /// Attributes whose change replaces the object, added to the schema's own.
    pub requires_replace: Vec<AttributePath>,
}

impl Plan<'_> {
    /// True when this plan creates the object.
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }

    /// Sets a top-level attribute of the planned state.
    pub fn set(&mut self, name: &str, value: Value) {
        if let Value::Object(attrs) = self.planned {
            attrs.insert(name.to_owned(), value);
        }
    }

    /// A top-level attribute of the planned state.
    pub fn get(&self, name: &str) -> &Value {
        self.planned.get(name).unwrap_or(&Value::Null)
    }
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The type name, such as `atlas_network`.
    fn type_name(&self) -> &'static str;

    /// The schema; the runtime adds the `timeouts` block when [`Resource::timeouts`] is set.
    fn schema(&self) -> Schema;

    /// Default timeouts, if the resource has long operations.
    fn timeouts(&self) -> Option<Timeouts> {
        None
    }

    /// Rules across attributes, such as [`crate::validate::ConflictsWith`].
    fn config_validators(&self) -> Vec<Box<dyn crate::validate::ConfigValidator>> {
        Vec::new()
    }

    /// Checks rules across attributes; attribute validators have already run.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Adjusts the plan after the runtime's own planning (defaults, unknowns, replacement).
    async fn modify_plan(&self, _ctx: &Context, _plan: &mut Plan<'_>, _diags: &mut Diagnostics) {}

    /// Creates the object. On failure after something was created, return the state of
    /// what exists together with the error, so Terraform records it (tainted).
    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    /// Reads the object; `None` when it no longer exists.
    async fn read(&self, ctx: &Context, current: &Value, diags: &mut Diagnostics) -> Option<Value>;

    /// Updates the object in place.
    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    /// Deletes the object; an object already gone counts as deleted.
    async fn delete(&self, ctx: &Context, prior: &Value, diags: &mut Diagnostics);

    /// Turns an import id into a state that [`Resource::read`] completes. The default
    /// passes the id through to the `id` attribute.
    async fn import(&self, _ctx: &Context, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let schema = self.schema();
        if schema.block.attribute("id").is_none() {
            diags.error(
                "Import Not Supported",
                format!("{} cannot be imported.", self.type_name()),
            );
            return None;
        }
        let mut state = crate::plan::null_object(&schema.value_type());
        crate::plan::set_attr(&mut state, "id", Value::String(id.to_owned()));
        Some(state)
    }

    /// Upgrades a state stored at an older schema `version` to the current schema. The
    /// runtime already handles the current version; implement this when the version is
    /// bumped.
    fn upgrade_state(
        &self,
        version: i64,
        _raw: &serde_json::Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        diags.error(
            "Unable to Upgrade State",
            format!(
                "{} has no upgrader for state version {version}. This is a bug in the provider.",
                self.type_name()
            ),
        );
        None
    }
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// The type name, such as `atlas_network`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Checks rules across attributes; attribute validators have already run.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads the data.
    async fn read(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
}

/// A provider: its configuration and the types it offers.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's schema.
    fn schema(&self) -> Schema;

    /// Checks rules across attributes of the provider configuration.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Configures the provider; called once per process before any resource call.
    async fn configure(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics);

    /// The resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// The data source types.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
}

/// Splits a composite import id such as `vpc-123/staging` into exactly `parts` parts.
pub fn split_import_id<'a>(
    id: &'a str,
    separator: char,
    parts: &[&str],
    diags: &mut Diagnostics,
) -> Option<Vec<&'a str>> {
    let split: Vec<&str> = id.split(separator).collect();
    if split.len() != parts.len() || split.iter().any(|p| p.is_empty()) {
        let expected = parts.join(&separator.to_string());
        diags.error(
            "Invalid Import ID",
            format!("The import id must have the form {expected:?}, but it is {id:?}."),
        );
        return None;
    }
    Some(split)
}
