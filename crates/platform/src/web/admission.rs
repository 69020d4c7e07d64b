//! Load shedding with priority. The pass and check paths — what people at a gate wait for —
//! have their own, larger budget; everything else is shed first. Past a budget a request is
//! answered 503 with `Retry-After` at once instead of queueing until the node falls over.
//!
//! A fixed budget alone lets the pass path's queue grow to the budget: at 4,096 requests in
//! flight and 10,000 answered a second, each waits 400 ms. So the pass path also admits no more
//! than it can answer within `pass_wait_ms` (50 by default): the node measures how many pass requests it has
//! been finishing a second (over 100 ms windows, smoothed) and sheds a request once those in
//! flight exceed that rate times the wait — never below [`PASS_FLOOR`], so that a quiet node
//! takes a burst.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Pass requests in flight always admitted (up to the configured budget).
const PASS_FLOOR: usize = 256;
/// The window over which the pass path's service rate is counted.
const WINDOW: Duration = Duration::from_millis(100);

pub(super) struct Admission {
    general: Arc<Semaphore>,
    pass: Arc<Semaphore>,
    pass_budget: usize,
    /// Zero: the budget alone.
    pass_wait: Duration,
    rate: ServiceRate,
}

impl Admission {
    pub(super) fn new(general: usize, pass: usize, pass_wait: Duration) -> Admission {
        Admission {
            general: Arc::new(Semaphore::new(general.max(1))),
            pass: Arc::new(Semaphore::new(pass.max(1))),
            pass_budget: pass.max(1),
            pass_wait,
            rate: ServiceRate::new(),
        }
    }

    /// Whether one more pass request may start now.
    fn pass_admits(&self) -> bool {
        let in_flight = self.pass_budget - self.pass.available_permits();
        self.pass_wait.is_zero()
            || in_flight < limit(self.rate.per_second(), self.pass_wait, self.pass_budget)
    }
}

/// Pass requests admitted at once at a service rate of `per_second`.
fn limit(per_second: f64, wait: Duration, budget: usize) -> usize {
    let by_rate = (per_second * wait.as_secs_f64()) as usize;
    by_rate.max(PASS_FLOOR).min(budget)
}

/// Requests finished a second, counted per window and smoothed.
struct ServiceRate {
    started: Instant,
    /// Finished in the current window.
    finished: AtomicU64,
    /// The current window's start, in microseconds since `started`.
    window_start_us: AtomicU64,
    /// The smoothed rate, as f64 bits.
    rate_bits: AtomicU64,
}

impl ServiceRate {
    fn new() -> ServiceRate {
        ServiceRate {
            started: Instant::now(),
            finished: AtomicU64::new(0),
            window_start_us: AtomicU64::new(0),
            rate_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from_bits(self.rate_bits.load(Ordering::Relaxed))
    }

    /// Counts one finished request; the request that ends a window folds it into the rate.
    fn finished_one(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
        let now = self.started.elapsed().as_micros() as u64;
        let start = self.window_start_us.load(Ordering::Relaxed);
        let length = now.saturating_sub(start);
        if length < WINDOW.as_micros() as u64 {
            return;
        }
        // One request closes the window; the others go on.
        if self
            .window_start_us
            .compare_exchange(start, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let count = self.finished.swap(0, Ordering::AcqRel);
        let observed = count as f64 / (length as f64 / 1e6);
        // A long quiet gap is a window too: its low rate pulls the estimate down at once.
        let previous = self.per_second();
        let smoothed = if previous == 0.0 {
            observed
        } else {
            0.7 * previous + 0.3 * observed
        };
        self.rate_bits.store(smoothed.to_bits(), Ordering::Relaxed);
    }
}

/// The paths served from the pass budget.
fn is_pass_path(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/pass/me"
            | "/api/v1/pass/me/qr.svg"
            | "/api/v1/pass/verify"
            | "/pass"
            | "/scan"
            | "/healthz"
            | "/readyz"
    )
}

fn shed() -> Response {
    let mut response = AppError::Contention.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// A pass request answered within this counts as answered at the gate's pace
/// (`pass.fast`, for the operations view).
const FAST: Duration = Duration::from_millis(100);

pub(super) async fn shed_load(
    State((admission, state)): State<(Arc<Admission>, crate::state::AppState)>,
    request: Request,
    next: Next,
) -> Response {
    if is_pass_path(request.uri().path()) {
        // The balancer's probes share the path's budget, not its figures.
        let counted = !matches!(request.uri().path(), "/healthz" | "/readyz");
        let region = state.config.region_code.as_str();
        let count = |figure: &'static str| {
            if counted {
                crate::figures::count(&state, figure, region);
            }
        };
        count(crate::figures::PASS_OFFERED);
        let permit = if admission.pass_admits() {
            admission.pass.clone().try_acquire_owned().ok()
        } else {
            None
        };
        let Some(_permit) = permit else {
            count(crate::figures::PASS_SHED);
            return shed();
        };
        let started = Instant::now();
        let response = next.run(request).await;
        admission.rate.finished_one();
        let elapsed = started.elapsed();
        if counted {
            let band = crate::figures::pass_latency_band(elapsed);
            if elapsed <= FAST && !response.status().is_server_error() {
                crate::figures::count_each(&state, &[crate::figures::PASS_FAST, band], region);
            } else {
                crate::figures::count(&state, band, region);
            }
        }
        response
    } else {
        match admission.general.clone().try_acquire_owned() {
            Ok(_permit) => next.run(request).await,
            Err(_) => shed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pass_limit_follows_the_service_rate_between_the_floor_and_the_budget() {
        let wait = Duration::from_millis(50);
        // Quiet: the floor.
        assert_eq!(limit(0.0, wait, 4096), PASS_FLOOR);
        assert_eq!(limit(1_000.0, wait, 4096), PASS_FLOOR);
        // 20,000 a second for 50 ms.
        assert_eq!(limit(20_000.0, wait, 4096), 1000);
        // Never past the configured budget, nor the floor past it.
        assert_eq!(limit(1_000_000.0, wait, 4096), 4096);
        assert_eq!(limit(0.0, wait, 100), 100);
    }

    #[test]
    fn the_rate_is_counted_over_windows() {
        let rate = ServiceRate::new();
        assert_eq!(rate.per_second(), 0.0);
        for _ in 0..500 {
            rate.finished_one();
        }
        // The first window is not over yet.
        assert_eq!(rate.per_second(), 0.0);
        std::thread::sleep(WINDOW + Duration::from_millis(20));
        rate.finished_one();
        let measured = rate.per_second();
        // 501 in a little over 120 ms: a few thousand a second.
        assert!(
            (300.0..6_000.0).contains(&measured),
            "{measured} per second"
        );
    }
}
