//! The bulkhead's tests: fixed and adaptive limits, refusals, waits, overloads.

use super::*;
use tokio::sync::watch;
use tower::{BoxError, service_fn};

/// A service whose calls last until `true` is sent on the gate.
fn held(
    gate: watch::Receiver<bool>,
) -> impl Service<(), Response = (), Error = BoxError, Future: Send> + Clone + Send + 'static {
    service_fn(move |()| {
        let mut gate = gate.clone();
        async move {
            gate.wait_for(|open| *open).await?;
            Ok::<_, BoxError>(())
        }
    })
}

impl Overload for BoxError {
    fn is_overload(&self) -> bool {
        false
    }
}

fn layer(max_concurrent: usize, wait: Duration) -> (BulkheadLayer, Arc<ClientCounters>) {
    let counters = Arc::new(ClientCounters::default());
    let settings = BulkheadSettings {
        max_concurrent,
        wait,
        adaptive: None,
    };
    (
        BulkheadLayer::new(settings, None, counters.clone()),
        counters,
    )
}

/// An adaptive bulkhead from `initial_limit` within `[min_limit, max_concurrent]`.
fn adaptive_layer(
    min_limit: u32,
    initial_limit: u32,
    max_concurrent: usize,
) -> (BulkheadLayer, Arc<ClientCounters>) {
    let counters = Arc::new(ClientCounters::default());
    let settings = BulkheadSettings {
        max_concurrent,
        wait: Duration::ZERO,
        adaptive: Some(crate::upstream::AdaptiveLimitSettings {
            min_limit,
            initial_limit,
        }),
    };
    let limiter = settings
        .adaptive_limiter()
        .expect("adaptive")
        .expect("valid");
    (
        BulkheadLayer::new(settings, Some(limiter), counters.clone()),
        counters,
    )
}

/// Calls held in flight through a bulkhead until [`Holding::release`], and the bulkhead's
/// service for more.
struct Holding<S> {
    service: S,
    open: watch::Sender<bool>,
    calls: Vec<tokio::task::JoinHandle<Result<(), BoxError>>>,
}

/// `layer` around a service whose calls last until released, with `calls` of them in
/// flight through it.
async fn holding(
    layer: &BulkheadLayer,
    calls: usize,
) -> Holding<impl Service<(), Response = (), Error = BoxError, Future: Send> + Clone + Send + 'static>
{
    let (open, gate) = watch::channel(false);
    let service = layer.layer(held(gate));
    let calls: Vec<_> = (0..calls)
        .map(|_| tokio::spawn(service.clone().oneshot(())))
        .collect();
    for _ in 0..1_000 {
        if layer.in_flight() >= calls.len() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        layer.in_flight(),
        calls.len(),
        "every held call has its place"
    );
    Holding {
        service,
        open,
        calls,
    }
}

impl<S> Holding<S>
where
    S: Service<(), Response = (), Error = BoxError, Future: Send> + Clone,
{
    /// What one more call is refused with.
    async fn refusal(&self) -> String {
        self.service
            .clone()
            .oneshot(())
            .await
            .expect_err("full")
            .to_string()
    }

    /// Lets the held calls end, each served; the service, for more calls.
    async fn release(self) -> S {
        self.open.send_replace(true);
        for call in self.calls {
            call.await.expect("task").expect("served");
        }
        self.service
    }
}

#[tokio::test]
async fn the_call_beyond_the_limit_is_refused_at_once_and_counted() {
    let (layer, counters) = layer(2, Duration::ZERO);
    let full = holding(&layer, 2).await;
    assert_eq!(
        full.refusal().await,
        "bulkhead full: 2 calls to service B already in flight"
    );
    assert_eq!(counters.snapshot().bulkhead_rejected, 1);

    let service = full.release().await;
    assert_eq!(layer.in_flight(), 0);
    service.oneshot(()).await.expect("a place again");
    assert_eq!(counters.snapshot().bulkhead_rejected, 1);
}

#[tokio::test(start_paused = true)]
async fn with_a_wait_the_excess_waits_for_a_place_then_gives_up() {
    let (layer, counters) = layer(1, Duration::from_millis(100));
    let full = holding(&layer, 1).await;
    assert_eq!(
        full.refusal().await,
        "bulkhead full: 1 call to service B already in flight, and none ended within 100ms"
    );
    assert_eq!(counters.snapshot().bulkhead_rejected, 1);

    // A place that frees up within the wait is taken.
    let waiting = tokio::spawn(full.service.clone().oneshot(()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    full.release().await;
    waiting.await.expect("task").expect("served after waiting");
    assert_eq!(counters.snapshot().bulkhead_rejected, 1);
}

#[tokio::test]
async fn the_call_beyond_an_adaptive_limit_is_refused_at_once_naming_it() {
    let (layer, counters) = adaptive_layer(1, 1, 1);
    let full = holding(&layer, 1).await;
    assert_eq!(
        full.refusal().await,
        "bulkhead full: 1 call to service B already in flight (the adaptive limit now)"
    );
    assert_eq!(
        (counters.snapshot().bulkhead_rejected, layer.limit()),
        (1, 1)
    );
    full.release().await;
    assert_eq!(layer.in_flight(), 0);
}

/// A call's error as the stack's would be: an overload, or the bulkhead's refusal.
#[derive(Debug)]
enum Failed {
    Overloaded,
    Full,
}

impl From<BulkheadFull> for Failed {
    fn from(_: BulkheadFull) -> Self {
        Failed::Full
    }
}

impl Overload for Failed {
    fn is_overload(&self) -> bool {
        matches!(self, Failed::Overloaded)
    }
}

#[tokio::test]
async fn an_overloaded_b_cuts_the_adaptive_limit() {
    let (layer, _counters) = adaptive_layer(1, 2, 10);
    let service = layer.layer(service_fn(|()| async { Err::<(), _>(Failed::Overloaded) }));
    // The limit steps once per window of as many calls as the limit: two here.
    for _ in 0..2 {
        let err = service.clone().oneshot(()).await.expect_err("overloaded");
        assert!(matches!(err, Failed::Overloaded), "{err:?}");
    }
    assert_eq!((layer.limit(), layer.in_flight()), (1, 0));
}

/// Calls holding a place in the adaptive limit (not those that freed theirs).
fn limited(layer: &BulkheadLayer) -> u32 {
    match &layer.places {
        Places::Adaptive { limiter, .. } => limiter.in_flight(),
        Places::Fixed(_) => unreachable!("an adaptive bulkhead"),
    }
}

/// Lets the other tasks run until `done` holds, at most 2,000 times; whether it held.
async fn until(mut done: impl FnMut() -> bool) -> bool {
    for turn in 0..2_000 {
        if done() {
            return true;
        }
        if turn % 10 == 9 {
            // Other worker threads may need more than a turn of this one.
            tokio::time::sleep(Duration::from_millis(1)).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
    done()
}

/// A service whose every call lasts until its own gate (the request) opens.
fn gated() -> impl Service<watch::Receiver<bool>, Response = (), Error = BoxError, Future: Send>
+ Clone
+ Send
+ 'static {
    service_fn(|mut gate: watch::Receiver<bool>| async move {
        gate.wait_for(|open| *open).await?;
        Ok::<_, BoxError>(())
    })
}

#[tokio::test]
async fn an_adaptive_call_overtaken_by_a_later_one_frees_its_place_within_max_concurrent() {
    let (layer, counters) = adaptive_layer(1, 2, 3);
    let service = layer.layer(gated());
    let call = |open: bool| {
        let (sender, gate) = watch::channel(open);
        (sender, tokio::spawn(service.clone().oneshot(gate)))
    };
    let mut slow = Vec::new();
    for freed in 1..=2 {
        let (release, call_held) = call(false);
        assert!(until(|| layer.in_flight() == freed).await);
        slow.push((release, call_held));
        // A later call ends well while the slow one still waits: it waits for a reason of its
        // own, and frees its place in the limit.
        let (_, quick) = call(true);
        quick.await.expect("task").expect("served");
        assert!(
            until(|| limited(&layer) == 0).await,
            "the slow call freed its place"
        );
        assert_eq!(layer.in_flight(), freed, "and is still in flight");
    }
    let (release, held) = call(false);
    assert!(until(|| layer.in_flight() == 3).await);
    assert_eq!(limited(&layer), 1, "one place of the limit taken");
    // The limit has room, but max_concurrent bounds every call, those that freed their place
    // included.
    let (_, over) = call(true);
    assert_eq!(
        over.await.expect("task").expect_err("full").to_string(),
        "bulkhead full: 3 calls to service B already in flight"
    );
    assert_eq!(counters.snapshot().bulkhead_rejected, 1);
    slow.push((release, held));
    for (release, call) in slow {
        release.send_replace(true);
        call.await.expect("task").expect("served");
    }
    assert_eq!((layer.in_flight(), limited(&layer)), (0, 0));
}

#[tokio::test]
async fn calls_ending_in_the_order_they_started_overtake_nobody() {
    let (layer, _counters) = adaptive_layer(1, 4, 4);
    let service = layer.layer(gated());
    let (releases, calls): (Vec<_>, Vec<_>) = (0..3)
        .map(|_| {
            let (release, gate) = watch::channel(false);
            (release, tokio::spawn(service.clone().oneshot(gate)))
        })
        .unzip();
    assert!(until(|| layer.in_flight() == 3).await);
    for (left, (release, call)) in (0..3).rev().zip(releases.into_iter().zip(calls)) {
        release.send_replace(true);
        call.await.expect("task").expect("served");
        assert!(until(|| layer.in_flight() == left).await);
        assert_eq!(
            limited(&layer),
            left as u32,
            "the later calls keep their places"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_calls_overtaken_from_many_threads_free_their_places_once() {
    const SLOW: usize = 4;
    const QUICK: usize = 400;
    let (layer, _counters) = adaptive_layer(1, 8, 16);
    let service = layer.layer(gated());
    let (release, gate) = watch::channel(false);
    let slow: Vec<_> = (0..SLOW)
        .map(|_| tokio::spawn(service.clone().oneshot(gate.clone())))
        .collect();
    assert!(until(|| layer.in_flight() == SLOW).await);
    // Quick calls from four tasks at once: each one that ends well overtakes the slow calls,
    // while others enter and leave the order.
    let quick: Vec<_> = (0..4)
        .map(|_| {
            let service = service.clone();
            tokio::spawn(async move {
                let mut served = 0;
                for _ in 0..QUICK / 4 {
                    let (_open, gate) = watch::channel(true);
                    served += usize::from(service.clone().oneshot(gate).await.is_ok());
                }
                served
            })
        })
        .collect();
    let mut served = 0;
    for task in quick {
        served += task.await.expect("task");
    }
    assert!(served > 0, "quick calls were served");
    assert!(
        until(|| limited(&layer) == 0).await,
        "every slow call freed its place: {} still held",
        limited(&layer)
    );
    assert_eq!(
        layer.in_flight(),
        SLOW,
        "the slow calls are still in flight"
    );
    release.send_replace(true);
    for call in slow {
        call.await.expect("task").expect("served");
    }
    assert_eq!(
        (layer.in_flight(), limited(&layer)),
        (0, 0),
        "no place freed twice"
    );
}
