//! Work that must run once runs on one node at a time: two nodes on the same database, the
//! same job on both.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tongban_app::lease::{self, Turn};
use tongban_app::module::Job;
use tongban_app::state::AppState;

use crate::helpers::spawn_app;

async fn second_node(app: &crate::helpers::TestApp) -> AppState {
    tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("second node")
}

#[tokio::test]
async fn a_lease_is_held_by_one_node_until_it_expires_is_released_or_its_node_stops() {
    let app = spawn_app().await;
    let (a, b) = (app.state.clone(), second_node(&app).await);
    assert_ne!(a.node, b.node);
    let ttl = Duration::from_secs(60);
    assert!(lease::take(&a, "test job", ttl).await.expect("take"));
    assert!(!lease::take(&b, "test job", ttl).await.expect("take"));
    assert!(
        lease::take(&a, "test job", ttl).await.expect("renew"),
        "the holder renews"
    );
    assert!(
        lease::take(&b, "another job", ttl).await.expect("take"),
        "leases are by job"
    );
    assert_eq!(
        lease::holder(&b, "test job").await.expect("holder"),
        Some(a.node.clone())
    );
    // The holder dies: nobody renews. Once the lease has expired, the other node takes it.
    app.clock.advance(time::Duration::seconds(59));
    assert!(!lease::take(&b, "test job", ttl).await.expect("take"));
    app.clock.advance(time::Duration::seconds(2));
    assert!(lease::take(&b, "test job", ttl).await.expect("take over"));
    assert!(
        !lease::take(&a, "test job", ttl).await.expect("take"),
        "the old holder, back, finds it taken"
    );
    // Released, it is free at once.
    lease::release(&b, "test job").await.expect("release");
    assert_eq!(lease::holder(&a, "test job").await.expect("holder"), None);
    assert!(lease::take(&a, "test job", ttl).await.expect("take"));
    // A node that stops gracefully gives up all it holds.
    let mut app = app;
    app.stop().await;
    assert_eq!(lease::holder(&b, "test job").await.expect("holder"), None);
    assert!(lease::take(&b, "test job", ttl).await.expect("take"));
}

#[tokio::test]
async fn the_same_job_on_two_nodes_never_runs_twice_at_once() {
    let app = spawn_app().await;
    let (a, b) = (app.state.clone(), second_node(&app).await);
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let runs = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let mut jobs = Vec::new();
    for (state, runs) in [(a.clone(), runs[0].clone()), (b.clone(), runs[1].clone())] {
        let (running, most) = (running.clone(), most.clone());
        let job = Job::once_every(state, "test purge", Duration::from_millis(20), move || {
            let (running, most, runs) = (running.clone(), most.clone(), runs.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
        jobs.push(tokio::spawn(job.run));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (first, second) = (
        runs[0].load(Ordering::SeqCst),
        runs[1].load(Ordering::SeqCst),
    );
    assert_eq!(most.load(Ordering::SeqCst), 1, "never two steps at once");
    assert!(first + second >= 5, "the job ran: {first} + {second}");
    assert!(
        first == 0 || second == 0,
        "one node holds the job while it lives: {first} and {second}"
    );
    // Each node's metrics say which turns ran there and which another node held.
    let ran_here = |state: &AppState| {
        let text = state.metrics.render(0, 0, &[]);
        let count = |turn: &str| {
            let label = format!("tongban_job_turns_total{{job=\"test purge\",turn=\"{turn}\"}} ");
            text.lines()
                .find_map(|line| line.strip_prefix(label.as_str()))
                .map_or(0, |n| n.parse::<u64>().expect("a count"))
        };
        (count("ran"), count("elsewhere"))
    };
    let (shown_a, shown_b) = (ran_here(&a), ran_here(&b));
    assert!(
        (shown_a.0 == 0 && shown_a.1 > 0) || (shown_b.0 == 0 && shown_b.1 > 0),
        "one node's metrics show only turns held elsewhere: {shown_a:?} {shown_b:?}"
    );
    assert!(shown_a.0 + shown_b.0 >= 5, "{shown_a:?} {shown_b:?}");
    // The holder stops (its process dies); after the lease expires the other node goes on.
    let holder = if first > 0 { 0 } else { 1 };
    jobs.remove(holder).abort();
    let before = runs[1 - holder].load(Ordering::SeqCst);
    app.clock.advance(time::Duration::seconds(31));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        runs[1 - holder].load(Ordering::SeqCst) > before,
        "the other node took the job over"
    );
    for job in jobs {
        job.abort();
    }
}

#[tokio::test]
async fn a_step_whose_lease_was_taken_over_is_stopped() {
    let app = spawn_app().await;
    let (a, b) = (app.state.clone(), second_node(&app).await);
    let ttl = Duration::from_millis(300);
    let step = async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "finished"
    };
    let stalled = tokio::spawn({
        let a = a.clone();
        async move { lease::run(&a, "test delivery", ttl, step).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A's lease expires (it stalled past it, by the platform's clock); B takes the job over.
    app.clock.advance(time::Duration::seconds(1));
    assert!(
        lease::take(&b, "test delivery", ttl)
            .await
            .expect("take over")
    );
    let turn = tokio::time::timeout(Duration::from_secs(2), stalled)
        .await
        .expect("stopped at its next renewal")
        .expect("joined")
        .expect("turn");
    assert_eq!(turn, Turn::Lost);
    assert_eq!(
        lease::run(&a, "test delivery", ttl, async { "again" })
            .await
            .expect("turn"),
        Turn::Elsewhere
    );
}

/// A stopping node waits for the requests in flight, but not for ever: a client that never
/// finishes its request (here half a request line's headers) does not keep it from stopping
/// and giving up its leases once the request timeout and the grace period have passed.
#[tokio::test]
async fn a_node_stops_in_bounded_time_even_with_a_request_that_never_finishes() {
    use tokio::io::AsyncWriteExt;
    let mut app = crate::helpers::spawn_app_with(|config| config.request_timeout_seconds = 1).await;
    let state = app.state.clone();
    assert!(
        lease::take(&state, "test job", Duration::from_secs(600))
            .await
            .expect("take")
    );
    let mut stuck = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connect");
    stuck
        .write_all(b"POST /api/v1/pass/verify HTTP/1.1\r\nHost: tongban\r\n")
        .await
        .expect("half a request");
    // Let the node read what was sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bound = Duration::from_secs(1) + tongban_app::STOP_GRACE + tongban_app::RELEASE_WAIT;
    let stopped = tokio::time::timeout(bound + Duration::from_secs(10), app.stop_and_wait()).await;
    assert!(
        stopped.is_ok(),
        "the node did not stop within {bound:?} and a margin"
    );
    assert_eq!(
        lease::holder(&state, "test job").await.expect("holder"),
        None,
        "its lease was given up"
    );
    drop(stuck);
}
