//! Edit locks and invariant 2: another session can take a lock the moment
//! it is released, whatever released it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::Utc;
use rdpm_server::{LockHeld, LockKey, Lookup, OpenSession, Session, SessionError, SessionManager};
use rdpm_types::{paths, CloseReason, ObjectKind, ReleaseReport, SessionInfo, SessionToken};
use reqwest::StatusCode;

use super::support::{metric, TestServer};

fn client(principal: &str, host: &str, process: &str) -> OpenSession {
    OpenSession {
        principal: principal.into(),
        kind: rdpm_server::PrincipalKind::AdminToken,
        client_host: host.into(),
        client_process: process.into(),
        client_address: "127.0.0.1:1".into(),
    }
}

fn alice(sessions: &SessionManager) -> (Arc<Session>, SessionToken) {
    sessions.open(client("CONTOSO\\alice", "ws-alice", "rdpm[41]"))
}

fn bob(sessions: &SessionManager) -> (Arc<Session>, SessionToken) {
    sessions.open(client("CONTOSO\\bob", "ws-bob", "rdpm[42]"))
}

fn held(result: Result<rdpm_types::ObjectId, SessionError>) -> LockHeld {
    match result {
        Err(SessionError::LockHeld(held)) => *held,
        other => panic!("expected LockHeld, got {other:?}"),
    }
}

/// A lock taken by one session stops every other, and the refusal names
/// the holder: user, session, client host and process, and since when.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_names_its_holder() {
    let t = TestServer::start().await;
    let sessions = t.server.sessions();
    let (a, _) = alice(sessions);
    let (b, _) = bob(sessions);
    let key = LockKey::protection_group("PG1");
    let before = Utc::now();
    let object = sessions.try_acquire_edit_lock(&a, &key).unwrap();
    let after = Utc::now();

    let refused = held(sessions.try_acquire_edit_lock(&b, &key));
    assert_eq!(refused.key, key);
    assert_eq!(refused.holder.session_id, a.id());
    assert_eq!(&*refused.holder.principal, "CONTOSO\\alice");
    assert_eq!(&*refused.holder.client_host, "ws-alice");
    assert_eq!(&*refused.holder.client_process, "rdpm[41]");
    assert!(
        before <= refused.holder.since && refused.holder.since <= after,
        "since {} not in [{before}, {after}]",
        refused.holder.since
    );
    let text = refused.to_string();
    for part in [
        "ProtectionGroup:PG1",
        "CONTOSO\\alice",
        "ws-alice",
        "rdpm[41]",
    ] {
        assert!(text.contains(part), "{part} missing from {text:?}");
    }
    assert!(text.contains(&a.id().to_string()), "{text}");

    // Waiting does not help B while A keeps it; B holds nothing after.
    assert_eq!(b.object_count(), 0);
    // A cannot take its own lock twice, and waiting for it fails at once.
    assert_eq!(
        held(sessions.try_acquire_edit_lock(&a, &key))
            .holder
            .session_id,
        a.id()
    );
    // With an hour to wait, an answer within the deadline is one that did
    // not wait.
    let own = tokio::time::timeout(
        Duration::from_secs(60),
        sessions.acquire_edit_lock_timeout(&a, &key, Duration::from_secs(3600)),
    )
    .await
    .expect("waiting for one's own lock fails at once, not at the timeout");
    assert_eq!(held(own).holder.session_id, a.id());

    // Other resources are not affected.
    sessions
        .try_acquire_edit_lock(&b, &LockKey::protection_group("PG2"))
        .unwrap();
    assert_eq!(
        sessions
            .edit_locks()
            .holder(key.as_str())
            .map(|h| h.session_id),
        Some(a.id())
    );
    a.with_object(object, |o| assert_eq!(o.kind(), ObjectKind::EditLock))
        .unwrap();
}

#[derive(Debug, Clone, Copy)]
enum Release {
    /// `DELETE /sessions/current` by its owner (`Disconnect-DPMServer`).
    Disconnect,
    /// `DELETE /sessions/{id}` with the administrator token.
    ForcedClose,
    /// No request within the idle timeout.
    LeaseExpiry,
    /// The lock object removed on its own; the session stays open.
    RemoveObject,
}

/// Invariant 2 for every path that releases a lock: once the release is
/// done, B's first and only attempt takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_session_takes_the_lock_at_once_after_each_release() {
    let cases = [
        (Release::Disconnect, Some(CloseReason::Disconnected)),
        (Release::ForcedClose, Some(CloseReason::ForcedClose)),
        (Release::LeaseExpiry, Some(CloseReason::Expired)),
        (Release::RemoveObject, None),
    ];
    for (how, reason) in cases {
        let idle = match how {
            Release::LeaseExpiry => Duration::from_millis(300),
            _ => Duration::from_secs(600),
        };
        let t = TestServer::start_with(idle).await;
        let sessions = t.server.sessions();
        let (a, a_token) = alice(sessions);
        let (b, _) = bob(sessions);
        let key = LockKey::protection_group("PG1");
        let object = sessions.try_acquire_edit_lock(&a, &key).unwrap();
        held(sessions.try_acquire_edit_lock(&b, &key));

        match how {
            Release::Disconnect => {
                let response = t.delete(paths::CURRENT_SESSION, a_token.expose()).await;
                assert_eq!(response.status(), StatusCode::OK, "{how:?}");
                let report: ReleaseReport = response.json().await.unwrap();
                assert_eq!(report.released, BTreeMap::from([(ObjectKind::EditLock, 1)]));
            }
            Release::ForcedClose => {
                let response = t.delete(&paths::session(&a.id()), &t.admin).await;
                assert_eq!(response.status(), StatusCode::OK, "{how:?}");
                let report: ReleaseReport = response.json().await.unwrap();
                assert_eq!(report.reason, CloseReason::ForcedClose);
                assert_eq!(report.released, BTreeMap::from([(ObjectKind::EditLock, 1)]));
            }
            Release::LeaseExpiry => {
                // The expiry counter moves only after the session's objects
                // are released; B renews its own lease meanwhile.
                let deadline = Instant::now() + Duration::from_secs(10);
                while metric(&t.metrics().await, "rdpm_sessions_expired_total") < 1.0 {
                    assert!(Instant::now() < deadline, "A never expired");
                    b.touch();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            Release::RemoveObject => a.remove_object(object, ObjectKind::EditLock).unwrap(),
        }

        sessions
            .try_acquire_edit_lock(&b, &key)
            .unwrap_or_else(|e| panic!("{how:?}: B could not take the lock: {e}"));
        let holder = sessions.edit_locks().holder(key.as_str()).unwrap();
        assert_eq!(holder.session_id, b.id(), "{how:?}");
        assert_eq!(&*holder.principal, "CONTOSO\\bob", "{how:?}");
        assert!(sessions.edit_locks().held_by(a.id()).is_empty(), "{how:?}");
        match (reason, sessions.lookup(a.id())) {
            (Some(reason), Lookup::Closed(closed)) => assert_eq!(closed.reason, reason),
            (None, Lookup::Open(_)) => {}
            (_, other) => panic!("{how:?}: A is {other:?}"),
        }
    }
}

/// A shutdown releases every lock through the same path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_frees_every_lock() {
    let t = TestServer::start().await;
    let sessions = Arc::clone(t.server.sessions());
    let (a, _) = alice(&sessions);
    let (b, _) = bob(&sessions);
    sessions
        .try_acquire_edit_lock(&a, &LockKey::protection_group("PG1"))
        .unwrap();
    sessions
        .try_acquire_edit_lock(&b, &LockKey::protection_group("PG2"))
        .unwrap();
    assert_eq!(sessions.edit_locks().len(), 2);
    t.stop().await;
    assert!(sessions.edit_locks().is_empty());
}

/// A waiting session wakes when the lock is released, not at its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_wakes_at_the_release_not_at_its_timeout() {
    let t = TestServer::start().await;
    let sessions = Arc::clone(t.server.sessions());
    let (a, a_token) = alice(&sessions);
    let (b, _) = bob(&sessions);
    let key = LockKey::protection_group("PG1");
    sessions.try_acquire_edit_lock(&a, &key).unwrap();

    let waiter = {
        let sessions = Arc::clone(&sessions);
        let b = Arc::clone(&b);
        let key = key.clone();
        tokio::spawn(async move {
            // An hour: only the release can wake it within the test.
            sessions
                .acquire_edit_lock_timeout(&b, &key, Duration::from_secs(3600))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "B took the lock while A held it");

    let response = t.delete(paths::CURRENT_SESSION, a_token.expose()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = tokio::time::timeout(Duration::from_secs(60), waiter)
        .await
        .expect("B is woken by A's disconnect, long before its timeout")
        .unwrap()
        .unwrap();
    b.with_object(id, |o| assert_eq!(o.kind(), ObjectKind::EditLock))
        .unwrap();
    assert_eq!(
        sessions
            .edit_locks()
            .holder(key.as_str())
            .unwrap()
            .session_id,
        b.id()
    );
}

/// A waiter whose holder never lets go gives up at its timeout, naming
/// the holder, and holds nothing afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_times_out_cleanly_when_the_holder_keeps_the_lock() {
    let t = TestServer::start().await;
    let sessions = t.server.sessions();
    let (a, _) = alice(sessions);
    let (b, _) = bob(sessions);
    let key = LockKey::protection_group("PG1");
    sessions.try_acquire_edit_lock(&a, &key).unwrap();

    let timeout = Duration::from_millis(250);
    let started = Instant::now();
    let result = sessions.acquire_edit_lock_timeout(&b, &key, timeout).await;
    let waited = started.elapsed();
    let refused = held(result);
    assert_eq!(refused.holder.session_id, a.id());
    assert_eq!(&*refused.holder.principal, "CONTOSO\\alice");
    assert!(waited >= timeout, "gave up after {waited:?}");
    assert!(
        waited < timeout + Duration::from_secs(2),
        "gave up after {waited:?}"
    );
    assert_eq!(b.object_count(), 0);
    assert_eq!(sessions.edit_locks().len(), 1);
    // B's session is unharmed and A's lock unchanged.
    sessions
        .try_acquire_edit_lock(&b, &LockKey::protection_group("PG2"))
        .unwrap();
    assert_eq!(
        sessions
            .edit_locks()
            .holder(key.as_str())
            .unwrap()
            .session_id,
        a.id()
    );
}

/// Invariant 1 for locks: the report, the session listing and the metrics
/// count EditLock objects like any other kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_report_and_metrics_count_edit_locks() {
    let t = TestServer::start().await;
    let series = "rdpm_session_objects_released_total{kind=\"EditLock\"}";
    assert_eq!(metric(&t.metrics().await, series), 0.0);

    let s = t.open_session().await;
    let sessions = t.server.sessions();
    let session = match sessions.lookup(s.id()) {
        Lookup::Open(session) => session,
        other => panic!("{other:?}"),
    };
    for pg in ["PG1", "PG2", "PG3"] {
        sessions
            .try_acquire_edit_lock(&session, &LockKey::protection_group(pg))
            .unwrap();
    }
    t.new_scope(&s, &["PG1"]).await;
    let info: SessionInfo = t
        .get(paths::CURRENT_SESSION, &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        info.objects,
        BTreeMap::from([(ObjectKind::ServerScope, 1), (ObjectKind::EditLock, 3)])
    );

    let response = t.delete(paths::CURRENT_SESSION, &s.token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: ReleaseReport = response.json().await.unwrap();
    assert_eq!(
        report.released,
        BTreeMap::from([(ObjectKind::ServerScope, 1), (ObjectKind::EditLock, 3)])
    );
    assert!(sessions.edit_locks().is_empty());
    let text = t.metrics().await;
    assert_eq!(metric(&text, series), 3.0);
    assert_eq!(
        metric(
            &text,
            "rdpm_session_objects_released_total{kind=\"ServerScope\"}"
        ),
        1.0
    );
}

/// Invariant 6 for locks: a close racing with acquisitions in the same
/// session leaves, the moment it returns, no lock held by the closed
/// session, and releases exactly the locks that were taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_racing_with_acquire_never_leaves_a_lock_to_a_closed_session() {
    let t = TestServer::start().await;
    let sessions = Arc::clone(t.server.sessions());
    let raced = tokio::task::spawn_blocking(move || {
        let reasons = [
            CloseReason::Disconnected,
            CloseReason::ForcedClose,
            CloseReason::Expired,
        ];
        let mut taken_in_all = 0;
        for iteration in 0..300u64 {
            let (s, _) = alice(&sessions);
            let (other, _) = bob(&sessions);
            let taken = AtomicU64::new(0);
            let barrier = Barrier::new(4);
            let shared = LockKey::protection_group("shared");
            let report = std::thread::scope(|scope| {
                for worker in 0..3u64 {
                    let (s, sessions, taken, barrier, shared) =
                        (&s, &sessions, &taken, &barrier, &shared);
                    scope.spawn(move || {
                        barrier.wait();
                        for n in 0.. {
                            // Unique keys and one key all workers contend on.
                            let key = if n % 2 == 0 {
                                shared.clone()
                            } else {
                                LockKey::protection_group(&format!("{iteration}-{worker}-{n}"))
                            };
                            match sessions.try_acquire_edit_lock(s, &key) {
                                Ok(_) => {
                                    taken.fetch_add(1, Ordering::SeqCst);
                                }
                                Err(SessionError::LockHeld(held)) => {
                                    assert_eq!(held.holder.session_id, s.id());
                                }
                                Err(SessionError::Closed(_)) => break,
                                Err(e) => panic!("unexpected {e:?}"),
                            }
                        }
                    });
                }
                barrier.wait();
                if iteration % 2 == 1 {
                    std::thread::yield_now();
                }
                let report = sessions
                    .close(s.id(), reasons[(iteration % 3) as usize])
                    .unwrap();
                // Checked before the workers are joined: the close itself
                // leaves nothing behind.
                assert_eq!(
                    sessions.edit_locks().held_by(s.id()),
                    Vec::<LockKey>::new(),
                    "iteration {iteration}"
                );
                sessions
                    .try_acquire_edit_lock(&other, &shared)
                    .unwrap_or_else(|e| panic!("iteration {iteration}: {e}"));
                report
            });
            let taken = taken.load(Ordering::SeqCst);
            assert_eq!(
                report
                    .released
                    .get(&ObjectKind::EditLock)
                    .copied()
                    .unwrap_or(0),
                taken,
                "iteration {iteration}: released what was taken"
            );
            assert!(sessions.edit_locks().held_by(s.id()).is_empty());
            assert_eq!(s.object_count(), 0);
            sessions
                .close(other.id(), CloseReason::Disconnected)
                .unwrap();
            assert!(sessions.edit_locks().is_empty(), "iteration {iteration}");
            taken_in_all += taken;
        }
        taken_in_all
    })
    .await
    .unwrap();
    assert!(
        raced > 0,
        "the acquisitions must have raced with the closes"
    );
}

/// A session full of locks closes and releases every one of them (how fast
/// is the benchmarks' business, not a test's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_with_many_locks_closes() {
    let t = TestServer::start().await;
    let sessions = Arc::clone(t.server.sessions());
    tokio::task::spawn_blocking(move || {
        let (s, _) = alice(&sessions);
        for n in 0..100_000 {
            sessions
                .try_acquire_edit_lock(&s, &LockKey::protection_group(&n.to_string()))
                .unwrap();
        }
        assert_eq!(sessions.edit_locks().len(), 100_000);
        let report = sessions.close(s.id(), CloseReason::Disconnected).unwrap();
        assert_eq!(
            report.released,
            BTreeMap::from([(ObjectKind::EditLock, 100_000)])
        );
        assert!(sessions.edit_locks().is_empty());
    })
    .await
    .unwrap();
}
