//! The RPC dispatch: one function per `tfplugin6.Provider` call.
//!
//! Each call decodes its values against the schema, calls provider code behind a panic
//! guard, checks the result against Terraform's rules and answers with diagnostics. User
//! errors never become gRPC status errors, which Terraform renders poorly.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::diag::{path_to_proto, Diagnostics};
use crate::plan::{self, TIMEOUTS_BLOCK};
use crate::proto::tfplugin6 as pb;
use crate::resource::{Context, DataSource, Plan, Provider, Resource, Timeouts};
use crate::schema::Schema;
use crate::value::{AttributePath, Type, Value};

/// How long an operation without a `timeouts` block may take.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

struct ResourceEntry {
    imp: Arc<dyn Resource>,
    schema: Schema,
    ty: Type,
    timeouts: Option<Timeouts>,
}

struct DataSourceEntry {
    imp: Arc<dyn DataSource>,
    schema: Schema,
    ty: Type,
}

/// The `tfplugin6.Provider` service for one provider.
pub struct ProviderService<P: Provider> {
    provider: Arc<P>,
    provider_schema: Schema,
    resources: BTreeMap<&'static str, ResourceEntry>,
    data_sources: BTreeMap<&'static str, DataSourceEntry>,
    stop: std::sync::Mutex<CancellationToken>,
    next_request: AtomicU64,
}

impl<P: Provider> std::fmt::Debug for ProviderService<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderService")
            .field("resources", &self.resources.keys().collect::<Vec<_>>())
            .field(
                "data_sources",
                &self.data_sources.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<P: Provider> ProviderService<P> {
    /// Wraps a provider; `stop` is cancelled when Terraform calls StopProvider.
    pub fn new(provider: P, stop: CancellationToken) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|imp| {
                let timeouts = imp.timeouts();
                let mut schema = imp.schema();
                if let Some(t) = &timeouts {
                    schema = plan::with_timeouts_block(schema, t);
                }
                let ty = schema.value_type();
                (
                    imp.type_name(),
                    ResourceEntry {
                        imp,
                        schema,
                        ty,
                        timeouts,
                    },
                )
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|imp| {
                let schema = imp.schema();
                let ty = schema.value_type();
                (imp.type_name(), DataSourceEntry { imp, schema, ty })
            })
            .collect();
        ProviderService {
            provider_schema: provider.schema(),
            provider: Arc::new(provider),
            resources,
            data_sources,
            stop: std::sync::Mutex::new(stop),
            next_request: AtomicU64::new(1),
        }
    }

    fn span(&self, rpc: &'static str, type_name: &str) -> tracing::Span {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        tracing::info_span!(
            "rpc",
            tf_rpc = rpc,
            tf_req_id = id,
            tf_resource_type = type_name
        )
    }

    fn resource(&self, type_name: &str, diags: &mut Diagnostics) -> Option<&ResourceEntry> {
        let entry = self.resources.get(type_name);
        if entry.is_none() {
            diags.error(
                "Unknown Resource Type",
                format!("This provider has no resource type {type_name:?}."),
            );
        }
        entry
    }

    fn data_source(&self, type_name: &str, diags: &mut Diagnostics) -> Option<&DataSourceEntry> {
        let entry = self.data_sources.get(type_name);
        if entry.is_none() {
            diags.error(
                "Unknown Data Source Type",
                format!("This provider has no data source type {type_name:?}."),
            );
        }
        entry
    }

    fn context(&self, type_name: &str, timeout: Duration) -> Context {
        Context::new(type_name, self.stop_token().child_token(), timeout)
    }

    fn stop_token(&self) -> CancellationToken {
        match self.stop.lock() {
            Ok(token) => token.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Runs provider code, turning a panic into an error diagnostic so the process keeps
/// serving.
async fn guarded<T>(diags: &mut Diagnostics, fut: impl Future<Output = T>) -> Option<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(value) => Some(value),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!(panic = %message, "provider code panicked");
            diags.bug(format!("The provider panicked: {message}"));
            None
        }
    }
}

/// Decodes a value from Terraform; a failure is a diagnostic.
fn decode(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let Some(dv) = dv else {
        return Some(Value::Null);
    };
    let result = if !dv.msgpack.is_empty() {
        Value::decode_msgpack(&dv.msgpack, ty).map_err(|e| e.to_string())
    } else if !dv.json.is_empty() {
        serde_json::from_slice(&dv.json)
            .map_err(|e| e.to_string())
            .and_then(|json| Value::from_json(&json, ty).map_err(|e| e.to_string()))
    } else {
        Ok(Value::Null)
    };
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            diags.error(
                "Invalid Value From Terraform",
                format!(
                    "The {what} sent by Terraform could not be decoded: {e}. This is a bug in \
                     the provider or Terraform."
                ),
            );
            None
        }
    }
}

/// Encodes a value for Terraform; a failure is a provider bug.
fn encode(value: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<pb::DynamicValue> {
    match value.encode_msgpack(ty) {
        Ok(msgpack) => Some(pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        }),
        Err(e) => {
            diags.bug(format!(
                "The provider produced a value that does not fit its schema: {e}"
            ));
            None
        }
    }
}

fn respond<T>(body: T) -> Result<Response<T>, Status> {
    Ok(Response::new(body))
}

/// Fills attributes missing from a stored JSON object with null and drops those the
/// schema no longer has, as Terraform does for a state written at the same version.
fn normalise_json(json: serde_json::Value, ty: &Type) -> serde_json::Value {
    match (json, ty) {
        (serde_json::Value::Object(mut map), Type::Object(attrs)) => {
            map.retain(|k, _| attrs.contains_key(k));
            for name in attrs.keys() {
                map.entry(name.clone()).or_insert(serde_json::Value::Null);
            }
            serde_json::Value::Object(map)
        }
        (json, _) => json,
    }
}

fn timeout(
    entry: &ResourceEntry,
    value: &Value,
    pick: fn(&Timeouts) -> Duration,
    op: &str,
) -> Duration {
    match &entry.timeouts {
        Some(t) => plan::timeout_for(value, op, pick(t)),
        None => DEFAULT_TIMEOUT,
    }
}

/// Checks a state the provider returned after apply or read.
fn check_result(planned: Option<&Value>, new: &Value, diags: &mut Diagnostics) {
    if new.is_null() {
        return;
    }
    if !new.is_wholly_known() {
        diags.bug("The provider returned a state with unknown values");
    }
    if let Some(planned) = planned {
        if diags.has_errors() {
            return;
        }
        for name in plan::changed_known_values(planned, new) {
            if name == TIMEOUTS_BLOCK {
                continue;
            }
            diags.bug(format!(
                "The provider changed the planned value of {name:?} during apply"
            ));
        }
    }
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        use pb::get_metadata as m;
        respond(m::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .data_sources
                .keys()
                .map(|t| m::DataSourceMetadata {
                    type_name: (*t).to_owned(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|t| m::ResourceMetadata {
                    type_name: (*t).to_owned(),
                })
                .collect(),
            functions: Vec::new(),
            ephemeral_resources: Vec::new(),
        })
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let _span = self.span("GetProviderSchema", "").entered();
        tracing::trace!("serving schema");
        respond(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self
                .resources
                .iter()
                .map(|(name, e)| ((*name).to_owned(), e.schema.to_proto()))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(name, e)| ((*name).to_owned(), e.schema.to_proto()))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
            functions: Default::default(),
            ephemeral_resource_schemas: Default::default(),
        })
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("ValidateProviderConfig", "");
        let mut diags = Diagnostics::new();
        async {
            let ty = self.provider_schema.value_type();
            if let Some(config) = decode(
                req.config.as_ref(),
                &ty,
                "provider configuration",
                &mut diags,
            ) {
                plan::validate_block(
                    &self.provider_schema.block,
                    &config,
                    &AttributePath::default(),
                    &mut diags,
                );
                let mut inner = Diagnostics::new();
                guarded(&mut diags, async {
                    self.provider.validate(&config, &mut inner)
                })
                .await;
                diags.extend(inner);
            }
        }
        .instrument(span)
        .await;
        respond(pb::validate_provider_config::Response {
            diagnostics: diags.into_proto(),
        })
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("ValidateResourceConfig", &req.type_name);
        let mut diags = Diagnostics::new();
        async {
            let Some(entry) = self.resource(&req.type_name, &mut diags) else {
                return;
            };
            let Some(config) = decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags)
            else {
                return;
            };
            plan::validate_block(
                &entry.schema.block,
                &config,
                &AttributePath::default(),
                &mut diags,
            );
            let mut inner = Diagnostics::new();
            guarded(&mut diags, async {
                for validator in entry.imp.config_validators() {
                    validator.validate(&config, &mut inner);
                }
                entry.imp.validate(&config, &mut inner)
            })
            .await;
            diags.extend(inner);
        }
        .instrument(span)
        .await;
        respond(pb::validate_resource_config::Response {
            diagnostics: diags.into_proto(),
        })
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("ValidateDataResourceConfig", &req.type_name);
        let mut diags = Diagnostics::new();
        async {
            let Some(entry) = self.data_source(&req.type_name, &mut diags) else {
                return;
            };
            let Some(config) = decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags)
            else {
                return;
            };
            plan::validate_block(
                &entry.schema.block,
                &config,
                &AttributePath::default(),
                &mut diags,
            );
            let mut inner = Diagnostics::new();
            guarded(&mut diags, async {
                entry.imp.validate(&config, &mut inner)
            })
            .await;
            diags.extend(inner);
        }
        .instrument(span)
        .await;
        respond(pb::validate_data_resource_config::Response {
            diagnostics: diags.into_proto(),
        })
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("UpgradeResourceState", &req.type_name);
        let mut diags = Diagnostics::new();
        let upgraded = async {
            let entry = self.resource(&req.type_name, &mut diags)?;
            let raw = req
                .raw_state
                .as_ref()
                .map(|r| r.json.as_slice())
                .unwrap_or_default();
            if raw.is_empty() {
                return encode(&Value::Null, &entry.ty, &mut diags);
            }
            let json: serde_json::Value = match serde_json::from_slice(raw) {
                Ok(json) => json,
                Err(e) => {
                    diags.error(
                        "Unreadable Stored State",
                        format!(
                            "The stored state of this {} is not valid JSON: {e}.",
                            req.type_name
                        ),
                    );
                    return None;
                }
            };
            let current = entry.schema.version;
            let value = if req.version > current {
                diags.error(
                    "State From a Newer Provider",
                    format!(
                        "This state was written by a newer version of the provider (schema \
                         version {}, this one knows up to {current}). Upgrade the provider.",
                        req.version
                    ),
                );
                return None;
            } else if req.version == current {
                match Value::from_json(&normalise_json(json, &entry.ty), &entry.ty) {
                    Ok(v) => v,
                    Err(e) => {
                        diags.error(
                            "Unreadable Stored State",
                            format!("The stored state does not match the schema: {e}."),
                        );
                        return None;
                    }
                }
            } else {
                let mut inner = Diagnostics::new();
                let out = guarded(&mut diags, async {
                    entry.imp.upgrade_state(req.version, &json, &mut inner)
                })
                .await
                .flatten();
                diags.extend(inner);
                out?
            };
            encode(&value, &entry.ty, &mut diags)
        }
        .instrument(span)
        .await;
        respond(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diags.into_proto(),
        })
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("ConfigureProvider", "");
        let mut diags = Diagnostics::new();
        async {
            tracing::debug!(terraform_version = %req.terraform_version, "configuring provider");
            let ty = self.provider_schema.value_type();
            let Some(config) = decode(
                req.config.as_ref(),
                &ty,
                "provider configuration",
                &mut diags,
            ) else {
                return;
            };
            let ctx = self.context("provider", DEFAULT_TIMEOUT);
            let mut inner = Diagnostics::new();
            guarded(
                &mut diags,
                self.provider.configure(&ctx, &config, &mut inner),
            )
            .await;
            diags.extend(inner);
        }
        .instrument(span)
        .await;
        respond(pb::configure_provider::Response {
            diagnostics: diags.into_proto(),
        })
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("ReadResource", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut private = req.private.clone();
        let new_state = async {
            let entry = self.resource(&req.type_name, &mut diags)?;
            let current = decode(
                req.current_state.as_ref(),
                &entry.ty,
                "current state",
                &mut diags,
            )?;
            if current.is_null() {
                return encode(&Value::Null, &entry.ty, &mut diags);
            }
            let ctx = self.context(&req.type_name, timeout(entry, &current, |t| t.read, "read"));
            ctx.set_private(req.private.clone());
            let mut inner = Diagnostics::new();
            tracing::trace!("calling resource read");
            let result = guarded(&mut diags, entry.imp.read(&ctx, &current, &mut inner)).await;
            diags.extend(inner);
            private = ctx.private();
            let new = match result {
                Some(Some(mut new)) => {
                    // The timeouts block is configuration, not remote state: keep it.
                    if let Some(t) = current.get(TIMEOUTS_BLOCK) {
                        plan::set_attr(&mut new, TIMEOUTS_BLOCK, t.clone());
                    }
                    check_result(None, &new, &mut diags);
                    new
                }
                Some(None) => Value::Null,
                // A panic: keep the state as it was rather than forgetting the object.
                None => current,
            };
            encode(&new, &entry.ty, &mut diags)
        }
        .instrument(span)
        .await;
        respond(pb::read_resource::Response {
            new_state,
            diagnostics: diags.into_proto(),
            private,
            deferred: None,
        })
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("PlanResourceChange", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut requires_replace = Vec::new();
        let planned = async {
            let entry = self.resource(&req.type_name, &mut diags)?;
            let prior = decode(
                req.prior_state.as_ref(),
                &entry.ty,
                "prior state",
                &mut diags,
            )?;
            let proposed = decode(
                req.proposed_new_state.as_ref(),
                &entry.ty,
                "proposed state",
                &mut diags,
            )?;
            let config = decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags)?;
            if proposed.is_null() {
                return encode(&Value::Null, &entry.ty, &mut diags);
            }
            let (mut planned, replace) =
                plan::plan_change(&entry.schema, &prior, &proposed, &config);
            let ctx = self.context(&req.type_name, DEFAULT_TIMEOUT);
            ctx.set_private(req.prior_private.clone());
            let mut plan = Plan {
                prior: &prior,
                config: &config,
                planned: &mut planned,
                requires_replace: replace,
            };
            let mut inner = Diagnostics::new();
            tracing::trace!("calling resource plan hook");
            guarded(
                &mut diags,
                entry.imp.modify_plan(&ctx, &mut plan, &mut inner),
            )
            .await;
            diags.extend(inner);
            let mut replace = std::mem::take(&mut plan.requires_replace);
            replace.sort_by_key(|p| p.to_string());
            replace.dedup();
            if !prior.is_null() {
                requires_replace = replace.into_iter().map(path_to_proto).collect();
            }
            encode(&planned, &entry.ty, &mut diags)
        }
        .instrument(span)
        .await;
        respond(pb::plan_resource_change::Response {
            planned_state: planned,
            requires_replace,
            planned_private: req.prior_private,
            diagnostics: diags.into_proto(),
            legacy_type_system: false,
            deferred: None,
        })
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("ApplyResourceChange", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut private = req.planned_private.clone();
        let new_state = async {
            let entry = self.resource(&req.type_name, &mut diags)?;
            let prior = decode(
                req.prior_state.as_ref(),
                &entry.ty,
                "prior state",
                &mut diags,
            )?;
            let planned = decode(
                req.planned_state.as_ref(),
                &entry.ty,
                "planned state",
                &mut diags,
            )?;
            let config = decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags)?;
            let mut inner = Diagnostics::new();
            let new = if planned.is_null() {
                let ctx = self.context(
                    &req.type_name,
                    timeout(entry, &prior, |t| t.delete, "delete"),
                );
                ctx.set_private(req.planned_private.clone());
                tracing::debug!("deleting");
                let done = guarded(&mut diags, entry.imp.delete(&ctx, &prior, &mut inner)).await;
                diags.extend(std::mem::take(&mut inner));
                // A failed or panicked delete keeps the object in state.
                if done.is_none() || diags.has_errors() {
                    prior
                } else {
                    Value::Null
                }
            } else if prior.is_null() {
                let ctx = self.context(
                    &req.type_name,
                    timeout(entry, &planned, |t| t.create, "create"),
                );
                ctx.set_private(req.planned_private.clone());
                tracing::debug!("creating");
                let out = guarded(
                    &mut diags,
                    entry.imp.create(&ctx, &planned, &config, &mut inner),
                )
                .await;
                diags.extend(std::mem::take(&mut inner));
                private = ctx.private();
                let new = out.flatten().unwrap_or(Value::Null);
                check_result(Some(&planned), &new, &mut diags);
                new
            } else {
                let ctx = self.context(
                    &req.type_name,
                    timeout(entry, &planned, |t| t.update, "update"),
                );
                ctx.set_private(req.planned_private.clone());
                tracing::debug!("updating");
                let out = guarded(
                    &mut diags,
                    entry
                        .imp
                        .update(&ctx, &prior, &planned, &config, &mut inner),
                )
                .await;
                diags.extend(std::mem::take(&mut inner));
                private = ctx.private();
                let new = out.flatten().unwrap_or(prior);
                check_result(Some(&planned), &new, &mut diags);
                new
            };
            encode(&new, &entry.ty, &mut diags)
        }
        .instrument(span)
        .await;
        respond(pb::apply_resource_change::Response {
            new_state,
            private,
            diagnostics: diags.into_proto(),
            legacy_type_system: false,
        })
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("ImportResourceState", &req.type_name);
        let mut diags = Diagnostics::new();
        let imported = async {
            let entry = self.resource(&req.type_name, &mut diags)?;
            let ctx = self.context(
                &req.type_name,
                timeout(entry, &Value::Null, |t| t.read, "read"),
            );
            let mut inner = Diagnostics::new();
            let out = guarded(&mut diags, entry.imp.import(&ctx, &req.id, &mut inner)).await;
            diags.extend(inner);
            let mut state = out.flatten()?;
            // An import knows only the resource's own schema; the runtime's `timeouts`
            // block and any attribute left out are null until the read fills them.
            if let (Value::Object(attrs), Type::Object(types)) = (&mut state, &entry.ty) {
                for name in types.keys() {
                    attrs.entry(name.clone()).or_insert(Value::Null);
                }
            }
            let state = encode(&state, &entry.ty, &mut diags)?;
            Some(pb::import_resource_state::ImportedResource {
                type_name: req.type_name.clone(),
                state: Some(state),
                private: ctx.private(),
            })
        }
        .instrument(span)
        .await;
        respond(pb::import_resource_state::Response {
            imported_resources: imported.into_iter().collect(),
            diagnostics: diags.into_proto(),
            deferred: None,
        })
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        diags.error(
            "Move Not Supported",
            format!(
                "{} cannot take over the state of {} from {}. Remove the moved block and \
                 import the object instead.",
                req.target_type_name, req.source_type_name, req.source_provider_address
            ),
        );
        respond(pb::move_resource_state::Response {
            target_state: None,
            diagnostics: diags.into_proto(),
            target_private: Vec::new(),
        })
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let span = self.span("ReadDataSource", &req.type_name);
        let mut diags = Diagnostics::new();
        let state = async {
            let entry = self.data_source(&req.type_name, &mut diags)?;
            let config = decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags)?;
            let ctx = self.context(&req.type_name, DEFAULT_TIMEOUT);
            let mut inner = Diagnostics::new();
            let out = guarded(&mut diags, entry.imp.read(&ctx, &config, &mut inner)).await;
            diags.extend(inner);
            let value = out.flatten()?;
            check_result(None, &value, &mut diags);
            encode(&value, &entry.ty, &mut diags)
        }
        .instrument(span)
        .await;
        respond(pb::read_data_source::Response {
            state,
            diagnostics: diags.into_proto(),
            deferred: None,
        })
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        respond(pb::get_functions::Response {
            functions: Default::default(),
            diagnostics: Vec::new(),
        })
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let name = request.into_inner().name;
        respond(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("This provider offers no function named {name:?}."),
                function_argument: None,
            }),
        })
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let diags = no_ephemeral(&request.into_inner().type_name);
        respond(pb::validate_ephemeral_resource_config::Response {
            diagnostics: diags.into_proto(),
        })
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let diags = no_ephemeral(&request.into_inner().type_name);
        respond(pb::open_ephemeral_resource::Response {
            diagnostics: diags.into_proto(),
            ..Default::default()
        })
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let diags = no_ephemeral(&request.into_inner().type_name);
        respond(pb::renew_ephemeral_resource::Response {
            diagnostics: diags.into_proto(),
            ..Default::default()
        })
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let diags = no_ephemeral(&request.into_inner().type_name);
        respond(pb::close_ephemeral_resource::Response {
            diagnostics: diags.into_proto(),
        })
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!(
            tf_rpc = "StopProvider",
            "stop requested: cancelling in-flight operations"
        );
        // Cancel what runs now; calls that come after the stop start afresh.
        let mut current = match self.stop.lock() {
            Ok(token) => token,
            Err(poisoned) => poisoned.into_inner(),
        };
        current.cancel();
        *current = CancellationToken::new();
        respond(pb::stop_provider::Response {
            error: String::new(),
        })
    }
}

fn no_ephemeral(type_name: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    diags.error(
        "Unknown Ephemeral Resource Type",
        format!("This provider has no ephemeral resource type {type_name:?}."),
    );
    diags
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tfplugin6::provider_server::Provider as _;
    use crate::schema::{Attribute, Block};
    use async_trait::async_trait;

    /// A resource at schema version 2 whose version 1 called `size` `capacity`.
    struct Disk;

    #[async_trait]
    impl Resource for Disk {
        fn type_name(&self) -> &'static str {
            "test_disk"
        }
        fn schema(&self) -> Schema {
            Schema::new(Block::new(vec![
                Attribute::computed("id", Type::String),
                Attribute::required("size", Type::Number),
                Attribute::optional("label", Type::String),
            ]))
            .version(2)
        }
        fn upgrade_state(
            &self,
            version: i64,
            raw: &serde_json::Value,
            diags: &mut Diagnostics,
        ) -> Option<Value> {
            if version != 1 {
                diags.error(
                    "Unsupported Version",
                    format!("cannot upgrade from {version}"),
                );
                return None;
            }
            let mut attrs = BTreeMap::new();
            attrs.insert(
                "id".to_owned(),
                Value::string(raw["id"].as_str().unwrap_or_default()),
            );
            let size = raw["capacity"].as_i64().unwrap_or_default();
            attrs.insert(
                "size".to_owned(),
                Value::Number(crate::value::Number::from_i64(size)),
            );
            attrs.insert("label".to_owned(), Value::Null);
            Some(Value::Object(attrs))
        }
        async fn create(
            &self,
            _: &Context,
            _: &Value,
            _: &Value,
            _: &mut Diagnostics,
        ) -> Option<Value> {
            panic!("create exploded")
        }
        async fn read(&self, _: &Context, current: &Value, _: &mut Diagnostics) -> Option<Value> {
            Some(current.clone())
        }
        async fn update(
            &self,
            _: &Context,
            _: &Value,
            planned: &Value,
            _: &Value,
            _: &mut Diagnostics,
        ) -> Option<Value> {
            Some(planned.clone())
        }
        async fn delete(&self, _: &Context, _: &Value, _: &mut Diagnostics) {}
    }

    struct TestProvider;

    #[async_trait]
    impl Provider for TestProvider {
        fn schema(&self) -> Schema {
            Schema::new(Block::new(vec![]))
        }
        async fn configure(&self, _: &Context, _: &Value, _: &mut Diagnostics) {}
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            vec![Arc::new(Disk)]
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            Vec::new()
        }
    }

    fn service() -> ProviderService<TestProvider> {
        ProviderService::new(TestProvider, CancellationToken::new())
    }

    async fn upgrade(version: i64, json: &str) -> pb::upgrade_resource_state::Response {
        service()
            .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                type_name: "test_disk".into(),
                version,
                raw_state: Some(pb::RawState {
                    json: json.into(),
                    flatmap: Default::default(),
                }),
            }))
            .await
            .expect("answers")
            .into_inner()
    }

    fn disk_type() -> Type {
        Disk.schema().value_type()
    }

    #[tokio::test]
    async fn upgrade_from_an_older_version_runs_the_upgrader() {
        let response = upgrade(1, r#"{"id":"d-1","capacity":12}"#).await;
        assert!(
            response.diagnostics.is_empty(),
            "{:?}",
            response.diagnostics
        );
        let state =
            Value::decode_msgpack(&response.upgraded_state.unwrap().msgpack, &disk_type()).unwrap();
        assert_eq!(state.get("size").and_then(Value::as_i64), Some(12));
        assert_eq!(state.get("id").and_then(Value::as_str), Some("d-1"));
    }

    #[tokio::test]
    async fn same_version_fills_missing_attributes_and_drops_removed_ones() {
        let response = upgrade(2, r#"{"id":"d-1","size":3,"gone":true}"#).await;
        assert!(
            response.diagnostics.is_empty(),
            "{:?}",
            response.diagnostics
        );
        let state =
            Value::decode_msgpack(&response.upgraded_state.unwrap().msgpack, &disk_type()).unwrap();
        assert_eq!(state.get("label"), Some(&Value::Null));
        assert_eq!(state.get("size").and_then(Value::as_i64), Some(3));
    }

    #[tokio::test]
    async fn a_newer_state_is_a_diagnostic() {
        let response = upgrade(3, r#"{"id":"d-1","size":3}"#).await;
        assert_eq!(response.diagnostics.len(), 1);
        assert!(response.diagnostics[0].summary.contains("Newer"));
        let response = upgrade(2, "{not json").await;
        assert_eq!(response.diagnostics.len(), 1);
    }

    #[tokio::test]
    async fn a_panic_is_a_provider_bug_diagnostic_and_serving_goes_on() {
        let service = service();
        let ty = disk_type();
        let mut planned = crate::plan::null_object(&ty);
        crate::plan::set_attr(&mut planned, "id", Value::unknown());
        crate::plan::set_attr(
            &mut planned,
            "size",
            Value::Number(crate::value::Number::from_i64(1)),
        );
        let dv = |v: &Value| {
            Some(pb::DynamicValue {
                msgpack: v.encode_msgpack(&ty).unwrap(),
                json: vec![],
            })
        };
        let response = service
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "test_disk".into(),
                prior_state: dv(&Value::Null),
                planned_state: dv(&planned),
                config: dv(&planned),
                ..Default::default()
            }))
            .await
            .expect("answers with a diagnostic, not a gRPC error")
            .into_inner();
        assert!(response
            .diagnostics
            .iter()
            .any(|d| d.summary == "Provider Bug"
                && d.detail.contains("create exploded")
                && d.detail.contains("bug in the provider")));
        let schema = service
            .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
            .await
            .expect("still serving");
        assert!(schema
            .into_inner()
            .resource_schemas
            .contains_key("test_disk"));
    }
}
