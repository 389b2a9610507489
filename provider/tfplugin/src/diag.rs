//! Diagnostics: what the provider tells the user, with the attribute it is about.
//!
//! Terraform renders a diagnostic's attribute path against the user's configuration, so an
//! error that names its attribute points at the exact line. Every user-facing problem goes
//! through here; gRPC status errors are reserved for transport faults.

use std::fmt;

use crate::proto::tfplugin6 as pb;
use crate::value::{AttributePath, PathStep};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Shown to the user; the operation goes on.
    Warning,
}

/// One problem or notice for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short Title Case summary.
    pub summary: String,
    /// Full sentences: what happened and what the user can do.
    pub detail: String,
    /// The attribute the diagnostic is about, if any.
    pub path: Option<AttributePath>,
}

/// An ordered collection of diagnostics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an error that is not about one attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary.into(), detail.into(), None);
    }

    /// Adds an error about the attribute at `path`.
    pub fn error_at(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Error, summary.into(), detail.into(), Some(path));
    }

    /// Adds a warning that is not about one attribute.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary.into(), detail.into(), None);
    }

    /// Adds a warning about the attribute at `path`.
    pub fn warning_at(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, summary.into(), detail.into(), Some(path));
    }

    /// Adds an error for a fault inside the provider itself.
    pub fn bug(&mut self, what: impl fmt::Display) {
        self.error(
            "Provider Bug",
            format!(
                "{what}. This is a bug in the provider; please report it together with the \
                 operation you ran."
            ),
        );
    }

    fn push(
        &mut self,
        severity: Severity,
        summary: String,
        detail: String,
        path: Option<AttributePath>,
    ) {
        self.0.push(Diagnostic {
            severity,
            summary,
            detail,
            path,
        });
    }

    /// Appends every diagnostic of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// True when at least one diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// True when there is no diagnostic at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The diagnostics, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Converts to the wire form.
    pub(crate) fn into_proto(self) -> Vec<pb::Diagnostic> {
        self.0.into_iter().map(Diagnostic::into_proto).collect()
    }
}

impl Diagnostic {
    fn into_proto(self) -> pb::Diagnostic {
        let severity = match self.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        };
        pb::Diagnostic {
            severity: severity as i32,
            summary: self.summary,
            detail: self.detail,
            attribute: self.path.map(path_to_proto),
        }
    }
}

/// Converts an attribute path to the wire form.
pub(crate) fn path_to_proto(path: AttributePath) -> pb::AttributePath {
    use pb::attribute_path::{step::Selector, Step};
    let steps = path
        .0
        .into_iter()
        .map(|step| Step {
            selector: Some(match step {
                PathStep::Attr(name) => Selector::AttributeName(name),
                PathStep::Key(key) => Selector::ElementKeyString(key),
                PathStep::Index(i) => Selector::ElementKeyInt(i as i64),
            }),
        })
        .collect();
    pb::AttributePath { steps }
}
