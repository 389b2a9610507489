//! The one error type every AWS helper returns, and the one place that reads AWS error codes.
//!
//! The SDK's own errors print as "service error" and hide the useful part in their metadata;
//! [`AwsError`] keeps the operation, the resource it was about, the AWS error code, the
//! message and the request id, and prints them as one lowercase-led line.

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_ec2::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The AWS error code of a failed call, if AWS answered with one.
pub(crate) fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.code()
}

/// Whether an AWS error code says that the object asked about does not exist.
///
/// EC2 spells these `InvalidVpcID.NotFound`, `InvalidSubnetID.NotFound` and so on (and a
/// few without the dot, such as `NatGatewayNotFound`), CloudWatch Logs
/// `ResourceNotFoundException` and IAM `NoSuchEntity`.
pub(crate) fn is_not_found_code(code: &str) -> bool {
    code.ends_with("NotFound") || code == "ResourceNotFoundException" || code == "NoSuchEntity"
}

/// A failed AWS operation, with enough context to act on it.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum AwsError {
    /// AWS answered with an error.
    Service {
        /// The AWS operation, as AWS spells it (`CreateVpc`).
        operation: &'static str,
        /// The object the call was about, when there is one.
        resource: Option<String>,
        /// The AWS error code (`InvalidVpcID.NotFound`).
        code: Option<String>,
        /// AWS's message.
        message: Option<String>,
        /// The request id, for AWS support.
        request_id: Option<String>,
    },
    /// No answer came back: a timeout, a connection failure or an unreadable response.
    Transport {
        /// The AWS operation.
        operation: &'static str,
        /// The object the call was about, when there is one.
        resource: Option<String>,
        /// The SDK's error.
        source: BoxError,
    },
    /// AWS answered without something it documents as always present.
    Unexpected {
        /// The AWS operation.
        operation: &'static str,
        /// The object the call was about, when there is one.
        resource: Option<String>,
        /// What was missing or wrong.
        detail: String,
    },
    /// The input cannot be turned into AWS calls (normally caught at plan time).
    InvalidInput {
        /// What is wrong, as a sentence fragment.
        detail: String,
    },
    /// A wait or a retry ran out of time.
    Timeout {
        /// The AWS operation that was being retried or polled.
        operation: &'static str,
        /// The object waited for.
        resource: Option<String>,
        /// What was being waited for (`nat gateway available`).
        waiting_for: String,
        /// The last error seen, if the wait ended on one.
        last: Option<Box<AwsError>>,
    },
    /// The caller cancelled the operation.
    Cancelled {
        /// The AWS operation that was being retried or polled.
        operation: &'static str,
        /// The object concerned.
        resource: Option<String>,
    },
    /// An object could not be deleted because others still depend on it.
    StillInUse {
        /// The delete operation (`DeleteVpc`).
        operation: &'static str,
        /// The object that could not be deleted.
        resource: String,
        /// What still holds it, one entry per object (`network interface eni-1 (...)`).
        holders: Vec<String>,
        /// The last `DependencyViolation` answer.
        last: Box<AwsError>,
    },
}

impl AwsError {
    /// Converts an SDK error into an [`AwsError`] for `operation` on `resource`.
    pub(crate) fn from_sdk<E, R>(
        operation: &'static str,
        resource: Option<&str>,
        err: SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let resource = resource.map(str::to_owned);
        match &err {
            SdkError::ServiceError(service) => {
                let meta = service.err().meta();
                AwsError::Service {
                    operation,
                    resource,
                    code: error_code(&err).map(str::to_owned),
                    message: meta.message().map(str::to_owned),
                    request_id: meta.request_id().map(str::to_owned),
                }
            }
            _ => AwsError::Transport {
                operation,
                resource,
                source: Box::new(err),
            },
        }
    }

    /// An AWS error reported inside a successful answer (EC2's `Unsuccessful` items).
    pub(crate) fn item(
        operation: &'static str,
        resource: Option<&str>,
        code: Option<&str>,
        message: Option<&str>,
    ) -> Self {
        AwsError::Service {
            operation,
            resource: resource.map(str::to_owned),
            code: code.map(str::to_owned),
            message: message.map(str::to_owned),
            request_id: None,
        }
    }

    /// A field AWS always returns was missing.
    pub(crate) fn missing(operation: &'static str, resource: Option<&str>, field: &str) -> Self {
        AwsError::Unexpected {
            operation,
            resource: resource.map(str::to_owned),
            detail: format!("the answer has no {field}"),
        }
    }

    /// The AWS error code, for errors AWS answered with.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// AWS's message, for errors AWS answered with.
    pub(crate) fn message(&self) -> Option<&str> {
        match self {
            AwsError::Service { message, .. } => message.as_deref(),
            _ => None,
        }
    }

    /// Whether AWS said the object does not exist (see [`is_not_found_code`]).
    pub(crate) fn is_not_found(&self) -> bool {
        self.code().is_some_and(is_not_found_code)
    }

    /// Whether the error is one of the given AWS error codes.
    pub(crate) fn is_code(&self, codes: &[&str]) -> bool {
        self.code().is_some_and(|code| codes.contains(&code))
    }

    /// Whether the caller cancelled the operation.
    pub(crate) fn is_cancelled(&self) -> bool {
        matches!(self, AwsError::Cancelled { .. })
    }
}

fn write_context(
    f: &mut fmt::Formatter<'_>,
    operation: &str,
    resource: &Option<String>,
) -> fmt::Result {
    match resource {
        Some(resource) => write!(f, "{operation} {resource}"),
        None => write!(f, "{operation}"),
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsError::Service {
                operation,
                resource,
                code,
                message,
                request_id,
            } => {
                write_context(f, operation, resource)?;
                write!(f, ": {}", code.as_deref().unwrap_or("unknown error code"))?;
                if let Some(message) = message {
                    write!(f, ": {message}")?;
                }
                if let Some(request_id) = request_id {
                    write!(f, " (request id {request_id})")?;
                }
                Ok(())
            }
            AwsError::Transport {
                operation,
                resource,
                ..
            } => {
                write_context(f, operation, resource)?;
                write!(f, ": the request got no answer from AWS")
            }
            AwsError::Unexpected {
                operation,
                resource,
                detail,
            } => {
                write_context(f, operation, resource)?;
                write!(f, ": unexpected answer from AWS: {detail}")
            }
            AwsError::InvalidInput { detail } => write!(f, "invalid input: {detail}"),
            AwsError::Timeout {
                operation,
                resource,
                waiting_for,
                ..
            } => {
                write_context(f, operation, resource)?;
                write!(f, ": timed out waiting for {waiting_for}")
            }
            AwsError::Cancelled {
                operation,
                resource,
            } => {
                write_context(f, operation, resource)?;
                write!(f, ": cancelled")
            }
            AwsError::StillInUse {
                operation,
                resource,
                holders,
                ..
            } => {
                write!(f, "{operation} {resource}: still in use")?;
                if holders.is_empty() {
                    write!(f, " (AWS did not say by what)")
                } else {
                    write!(f, " by {}", holders.join(", "))
                }
            }
        }
    }
}

impl StdError for AwsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            AwsError::Transport { source, .. } => Some(source.as_ref()),
            AwsError::Timeout {
                last: Some(last), ..
            } => Some(last.as_ref()),
            AwsError::StillInUse { last, .. } => Some(last.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_error_prints_operation_resource_code_and_message() {
        let err = AwsError::item(
            "DeleteSubnet",
            Some("subnet-1"),
            Some("DependencyViolation"),
            Some("The subnet has dependencies"),
        );
        assert_eq!(
            err.to_string(),
            "DeleteSubnet subnet-1: DependencyViolation: The subnet has dependencies"
        );
        assert!(err.is_code(&["DependencyViolation"]));
        assert!(!err.is_not_found());
    }

    #[test]
    fn not_found_codes_of_all_three_services() {
        for code in [
            "InvalidVpcID.NotFound",
            "NatGatewayNotFound",
            "ResourceNotFoundException",
            "NoSuchEntity",
        ] {
            assert!(is_not_found_code(code), "{code}");
        }
        assert!(!is_not_found_code("DependencyViolation"));
    }

    #[test]
    fn still_in_use_names_its_holders() {
        let last = AwsError::item(
            "DeleteVpc",
            Some("vpc-1"),
            Some("DependencyViolation"),
            None,
        );
        let err = AwsError::StillInUse {
            operation: "DeleteVpc",
            resource: "vpc-1".into(),
            holders: vec!["subnet subnet-1".into(), "security group sg-1 (web)".into()],
            last: Box::new(last),
        };
        assert_eq!(
            err.to_string(),
            "DeleteVpc vpc-1: still in use by subnet subnet-1, security group sg-1 (web)"
        );
        assert!(err.source().is_some());
    }
}
