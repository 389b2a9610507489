//! Logs as Terraform reads them: one hclog JSON object per line on stderr.
//!
//! Terraform parses each line of a provider's stderr; a JSON object with `@level`,
//! `@message` and an `@timestamp` in Go's exact microsecond form shows up natively under
//! `TF_LOG_PROVIDER`, with every other key rendered as `key=value`. The level comes from
//! `TF_LOG_PROVIDER`, else `TF_LOG`, so a quiet run costs nothing.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The level Terraform asked for, from `TF_LOG_PROVIDER` or else `TF_LOG`; `None` means
/// logging is off.
pub fn level_from_env() -> Option<Level> {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("TF_LOG").ok().filter(|v| !v.is_empty()))?;
    parse_level(&raw)
}

fn parse_level(raw: &str) -> Option<Level> {
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        "OFF" => None,
        // Terraform treats an unknown level as TRACE.
        _ => Some(Level::TRACE),
    }
}

/// Installs the JSON logger as the global subscriber; `module` names the source, such as
/// `atlas`.
pub fn init(module: &'static str) {
    use tracing_subscriber::prelude::*;
    let Some(level) = level_from_env() else {
        return;
    };
    let layer = HclogLayer { module, level };
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// A tracing layer that writes hclog JSON lines to stderr.
#[derive(Debug)]
pub struct HclogLayer {
    module: &'static str,
    level: Level,
}

#[derive(Default)]
struct Fields(Map<String, Json>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Json::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Json::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Json::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Json::from(value));
    }
}

impl<S> Layer<S> for HclogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        *metadata.level() <= self.level
            && (metadata.target().starts_with(self.module)
                || metadata.target().starts_with("tfplugin")
                || *metadata.level() <= Level::WARN)
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        line.insert(
            "@level".into(),
            Json::String(level_name(*event.metadata().level()).into()),
        );
        line.insert("@module".into(), Json::String(self.module.into()));
        line.insert("@timestamp".into(), Json::String(timestamp()));
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<Fields>() {
                    for (k, v) in &fields.0 {
                        line.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields
            .0
            .remove("message")
            .unwrap_or(Json::String(String::new()));
        let message = match message {
            Json::String(s) => s,
            other => other.to_string(),
        };
        line.insert("@message".into(), Json::String(message));
        line.extend(fields.0);
        let mut text = Json::Object(line).to_string();
        text.push('\n');
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// The current time in Go's `2006-01-02T15:04:05.000000Z07:00` form, in UTC.
pub fn timestamp() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

fn format_timestamp(t: time::OffsetDateTime) -> String {
    let mut s = String::with_capacity(27);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_has_go_microsecond_form() {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_780_000_000_123_456_789).unwrap();
        assert_eq!(format_timestamp(t), "2026-05-28T20:26:40.123456Z");
        assert_eq!(timestamp().len(), "2006-01-02T15:04:05.000000Z".len());
    }

    #[test]
    fn levels_follow_terraform() {
        assert_eq!(parse_level("debug"), Some(Level::DEBUG));
        assert_eq!(parse_level("JSON"), Some(Level::TRACE));
        assert_eq!(parse_level("off"), None);
        assert_eq!(parse_level("bogus"), Some(Level::TRACE));
    }
}
