//! Reads that arrive together, made as one AWS call.
//!
//! Terraform refreshes sibling resources side by side: the services of a root ask for
//! their ECS service, their listener rule and their target group within a few
//! milliseconds of each other, and each of those AWS operations takes many objects per
//! call. A [`Batcher`] holds the first read of a group (the services of one cluster, say)
//! for a short window, gathers the reads of the same group that arrive meanwhile, and
//! answers them all from one call. A read whose batch call fails is told so and makes its
//! own call: some operations fail as a whole when one of the objects asked for is gone
//! (DescribeTargetGroups, DescribeRules), and the error then belongs to that one
//! resource, reported as before.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::Instrument;

use super::AwsError;

/// How long the first read of a batch waits for others. Sibling reads arrive within a
/// few milliseconds here; an AWS call takes tens.
pub(crate) const WINDOW: Duration = Duration::from_millis(10);

/// What a read gets from its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Batched<V> {
    /// The batch call answered with this object for the read's key.
    Found(V),
    /// The batch call answered without an object for the read's key.
    Missing,
    /// The batch call failed: the read makes its own call.
    Failed,
}

struct Waiter<V> {
    key: String,
    reply: oneshot::Sender<Batched<V>>,
}

type Open<V> = Arc<Mutex<HashMap<String, Vec<Waiter<V>>>>>;

/// Gathers the reads of one AWS operation into batches, one open batch per group.
pub(crate) struct Batcher<V> {
    operation: &'static str,
    window: Duration,
    open: Open<V>,
}

impl<V> std::fmt::Debug for Batcher<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("operation", &self.operation)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl<V: Clone + Send + 'static> Batcher<V> {
    /// A batcher for `operation` (for the log) holding each batch open for `window`.
    pub(crate) fn new(operation: &'static str, window: Duration) -> Self {
        Batcher {
            operation,
            window,
            open: Arc::default(),
        }
    }

    /// Reads `key` of `group` together with the other reads of the group that arrive
    /// within the window. The first read's `fetch` makes the call for all of them: it
    /// gets every key of the batch (sorted, without repeats) and answers with the
    /// objects it found, by key; the other reads' `fetch` is dropped unused.
    pub(crate) async fn read<F, Fut>(&self, group: &str, key: &str, fetch: F) -> Batched<V>
    where
        F: FnOnce(Vec<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<String, V>, AwsError>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let waiters = open.entry(group.to_owned()).or_default();
            waiters.push(Waiter {
                key: key.to_owned(),
                reply,
            });
            waiters.len() == 1
        };
        if first {
            // A task of its own, so that a read whose request is cancelled does not take
            // the others' answers with it; its log lines go under a span of the batch,
            // not of the resource that happened to read first.
            let span = tracing::debug_span!("batch", operation = self.operation, group = %group);
            tokio::spawn(
                run(
                    self.open.clone(),
                    group.to_owned(),
                    self.window,
                    self.operation,
                    fetch,
                )
                .instrument(span),
            );
        }
        // A batch task that panicked dropped the reply: the read makes its own call.
        answer.await.unwrap_or(Batched::Failed)
    }
}

async fn run<V, F, Fut>(
    open: Open<V>,
    group: String,
    window: Duration,
    operation: &'static str,
    fetch: F,
) where
    V: Clone,
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, V>, AwsError>>,
{
    tokio::time::sleep(window).await;
    let waiters = open
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&group)
        .unwrap_or_default();
    let mut keys: Vec<String> = waiters.iter().map(|w| w.key.clone()).collect();
    keys.sort();
    keys.dedup();
    tracing::debug!(
        operation,
        group = %group,
        reads = waiters.len(),
        objects = keys.len(),
        "one call for the reads that arrived together"
    );
    match fetch(keys).await {
        Ok(found) => {
            for waiter in waiters {
                let answer = match found.get(&waiter.key) {
                    Some(v) => Batched::Found(v.clone()),
                    None => Batched::Missing,
                };
                // A read whose request was cancelled no longer listens.
                let _ = waiter.reply.send(answer);
            }
        }
        Err(e) => {
            tracing::debug!(operation, error = %e, "the batch call failed; each read calls alone");
            for waiter in waiters {
                let _ = waiter.reply.send(Batched::Failed);
            }
        }
    }
}

/// The reads the provider batches, shared by every resource of one provider
/// configuration.
#[derive(Debug)]
pub(crate) struct Batchers {
    /// ECS DescribeServices, grouped by cluster.
    pub(crate) services: Batcher<aws_sdk_ecs::types::Service>,
    /// ELBv2 DescribeRules by rule ARN.
    pub(crate) rules: Batcher<aws_sdk_elasticloadbalancingv2::types::Rule>,
    /// ELBv2 DescribeTargetGroups by target group ARN.
    pub(crate) target_groups: Batcher<aws_sdk_elasticloadbalancingv2::types::TargetGroup>,
    /// ELBv2 DescribeRules of a whole listener, by listener ARN.
    pub(crate) listener_rules: Batcher<Vec<(String, crate::service::RuleView)>>,
}

impl Default for Batchers {
    fn default() -> Self {
        Batchers {
            services: Batcher::new("DescribeServices", WINDOW),
            rules: Batcher::new("DescribeRules", WINDOW),
            target_groups: Batcher::new("DescribeTargetGroups", WINDOW),
            listener_rules: Batcher::new("DescribeRules", WINDOW),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A fetch that records the keys of each call and finds every key but "gone".
    fn fetch(
        calls: &Arc<Mutex<Vec<Vec<String>>>>,
    ) -> impl FnOnce(Vec<String>) -> std::future::Ready<Result<HashMap<String, String>, AwsError>>
           + Send
           + 'static {
        let calls = calls.clone();
        move |keys| {
            calls.lock().unwrap().push(keys.clone());
            std::future::ready(Ok(keys
                .into_iter()
                .filter(|k| k != "gone")
                .map(|k| (k.clone(), format!("object {k}")))
                .collect()))
        }
    }

    #[tokio::test]
    async fn reads_arriving_together_share_one_call_per_group() {
        let batcher = Batcher::new("Test", Duration::from_millis(20));
        let calls = Arc::default();
        let (a, b, gone, other) = tokio::join!(
            batcher.read("one", "a", fetch(&calls)),
            batcher.read("one", "b", fetch(&calls)),
            batcher.read("one", "gone", fetch(&calls)),
            batcher.read("two", "a", fetch(&calls)),
        );
        assert_eq!(a, Batched::Found("object a".to_owned()));
        assert_eq!(b, Batched::Found("object b".to_owned()));
        assert_eq!(gone, Batched::Missing);
        assert_eq!(other, Batched::Found("object a".to_owned()));
        let mut calls = calls.lock().unwrap().clone();
        calls.sort();
        assert_eq!(
            calls,
            vec![
                vec!["a".to_owned()],
                vec!["a".to_owned(), "b".to_owned(), "gone".to_owned()],
            ]
        );
    }

    #[tokio::test]
    async fn a_read_after_the_window_starts_a_new_batch() {
        let batcher = Batcher::new("Test", Duration::from_millis(5));
        let calls = Arc::default();
        assert!(matches!(
            batcher.read("one", "a", fetch(&calls)).await,
            Batched::Found(_)
        ));
        assert!(matches!(
            batcher.read("one", "a", fetch(&calls)).await,
            Batched::Found(_)
        ));
        assert_eq!(calls.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_batch_call_tells_every_read_to_call_alone() {
        let batcher: Batcher<String> = Batcher::new("Test", Duration::from_millis(20));
        let tries = Arc::new(AtomicUsize::new(0));
        let failing = |tries: &Arc<AtomicUsize>| {
            let tries = tries.clone();
            move |_keys: Vec<String>| {
                tries.fetch_add(1, Ordering::SeqCst);
                std::future::ready(Err(AwsError::InvalidInput {
                    detail: "refused".to_owned(),
                }))
            }
        };
        let (a, b) = tokio::join!(
            batcher.read("one", "a", failing(&tries)),
            batcher.read("one", "b", failing(&tries)),
        );
        assert_eq!((a, b), (Batched::Failed, Batched::Failed));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }
}
