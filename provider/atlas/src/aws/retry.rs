//! Retrying AWS's eventual consistency, with bounded exponential backoff.
//!
//! Every caller names the AWS error codes it retries, next to a comment saying why, so
//! that the decision is visible where the call is made. Retries stop at the deadline and
//! as soon as the cancellation token fires. Cancellation is checked between attempts,
//! never during one: dropping a create call in flight could leave an object that exists
//! in AWS but not in the recorded state.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::AwsError;

/// Delays that double from `initial` up to `max`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// The schedule used for eventual-consistency retries: 250 ms doubling to 5 s.
    pub(crate) fn retry() -> Self {
        Backoff::new(Duration::from_millis(250), Duration::from_secs(5))
    }

    /// The schedule used to poll long transitions such as a NAT gateway's: 1 s to 15 s.
    pub(crate) fn poll() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(15))
    }

    /// A schedule that starts at `initial` and doubles up to `max`.
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Backoff { next: initial, max }
    }

    /// The next delay.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }
}

/// Why a pause ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interrupted {
    /// The cancellation token fired.
    Cancelled,
    /// The deadline has passed.
    Deadline,
}

/// Sleeps for `delay`, but not past `deadline`, and wakes at once on cancellation.
pub(crate) async fn pause(
    delay: Duration,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), Interrupted> {
    if cancel.is_cancelled() {
        return Err(Interrupted::Cancelled);
    }
    let now = Instant::now();
    if now >= deadline {
        return Err(Interrupted::Deadline);
    }
    let wake = (now + delay).min(deadline);
    tokio::select! {
        () = cancel.cancelled() => Err(Interrupted::Cancelled),
        () = tokio::time::sleep_until(wake.into()) => Ok(()),
    }
}

/// Runs `op` until it succeeds or fails with an error whose AWS code is not in `codes`.
///
/// Gives up with the last error at `deadline`, and with [`AwsError::Cancelled`] when
/// `cancel` fires.
pub(crate) async fn retry_while<T, F, Fut>(
    codes: &[&str],
    deadline: Instant,
    cancel: &CancellationToken,
    op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    retry_when(|err| err.is_code(codes), deadline, cancel, op).await
}

/// Runs `op` until it succeeds or fails with an error `retryable` rejects.
///
/// For the few cases an AWS error code alone does not identify, such as EC2's
/// `InvalidParameter` that means "the IAM role is not assumable yet".
pub(crate) async fn retry_when<T, F, Fut, P>(
    retryable: P,
    deadline: Instant,
    cancel: &CancellationToken,
    op: F,
) -> Result<T, AwsError>
where
    P: Fn(&AwsError) -> bool,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    retry_with(Backoff::retry(), retryable, deadline, cancel, op).await
}

async fn retry_with<T, F, Fut, P>(
    mut backoff: Backoff,
    retryable: P,
    deadline: Instant,
    cancel: &CancellationToken,
    mut op: F,
) -> Result<T, AwsError>
where
    P: Fn(&AwsError) -> bool,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut attempt = 1u32;
    loop {
        let err = match op().await {
            Ok(value) => return Ok(value),
            Err(err) if retryable(&err) => err,
            Err(err) => return Err(err),
        };
        let delay = backoff.next_delay();
        tracing::debug!(
            error_code = err.code().unwrap_or_default(),
            attempt,
            delay_ms = delay.as_millis() as u64,
            "retrying after an eventual-consistency error"
        );
        match pause(delay, deadline, cancel).await {
            Ok(()) => attempt += 1,
            Err(Interrupted::Deadline) => return Err(err),
            Err(Interrupted::Cancelled) => return Err(cancelled_from(&err)),
        }
    }
}

/// The [`AwsError::Cancelled`] for the operation `err` came from.
pub(crate) fn cancelled_from(err: &AwsError) -> AwsError {
    let (operation, resource) = match err {
        AwsError::Service {
            operation,
            resource,
            ..
        }
        | AwsError::Transport {
            operation,
            resource,
            ..
        }
        | AwsError::Unexpected {
            operation,
            resource,
            ..
        }
        | AwsError::Timeout {
            operation,
            resource,
            ..
        }
        | AwsError::Cancelled {
            operation,
            resource,
        } => (*operation, resource.clone()),
        AwsError::StillInUse {
            operation,
            resource,
            ..
        } => (*operation, Some(resource.clone())),
        AwsError::InvalidInput { .. } => ("retry", None),
    };
    AwsError::Cancelled {
        operation,
        resource,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn fast() -> Backoff {
        Backoff::new(Duration::from_millis(1), Duration::from_millis(20))
    }

    fn is_vpc_not_found(err: &AwsError) -> bool {
        err.is_code(&["InvalidVpcID.NotFound"])
    }

    fn not_found() -> AwsError {
        AwsError::item("CreateSubnet", None, Some("InvalidVpcID.NotFound"), None)
    }

    #[test]
    fn backoff_doubles_up_to_its_bound() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        let delays: Vec<u64> = (0..5).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
    }

    #[tokio::test]
    async fn retries_named_codes_until_success() {
        let calls = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(60);
        let cancel = CancellationToken::new();
        let result = retry_with(fast(), is_vpc_not_found, deadline, &cancel, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 3 {
                    Err(not_found())
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3);
    }

    #[tokio::test]
    async fn other_codes_fail_at_once() {
        let calls = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(60);
        let result: Result<(), _> = retry_while(
            &["DependencyViolation"],
            deadline,
            &CancellationToken::new(),
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(not_found()) }
            },
        )
        .await;
        assert_eq!(result.unwrap_err().code(), Some("InvalidVpcID.NotFound"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_with_the_last_error_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(100);
        let cancel = CancellationToken::new();
        let result: Result<(), _> =
            retry_with(fast(), is_vpc_not_found, deadline, &cancel, || async {
                Err(not_found())
            })
            .await;
        assert_eq!(result.unwrap_err().code(), Some("InvalidVpcID.NotFound"));
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test]
    async fn stops_when_cancelled() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let deadline = Instant::now() + Duration::from_secs(600);
        let result: Result<(), _> =
            retry_while(&["InvalidVpcID.NotFound"], deadline, &cancel, || async {
                Err(not_found())
            })
            .await;
        assert!(result.unwrap_err().is_cancelled());
    }
}
