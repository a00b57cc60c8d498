use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Barrier;

use rdpm_catalog::SqliteCatalog;
use rdpm_types::{NewServerScope, ScopedObjectType, ServerScope};

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    catalog: Arc<SqliteCatalog>,
    metrics: Arc<Metrics>,
    manager: SessionManager,
}

fn fixture(idle_timeout: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Arc::new(SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap());
    let metrics = Arc::new(Metrics::new());
    let manager = SessionManager::new(catalog.clone(), metrics.clone(), idle_timeout, Utc::now());
    Fixture {
        _dir: dir,
        catalog,
        metrics,
        manager,
    }
}

fn client() -> OpenSession {
    OpenSession {
        principal: "admin".into(),
        kind: PrincipalKind::AdminToken,
        client_host: "host1".into(),
        client_process: "rdpm[1]".into(),
        client_address: "127.0.0.1:1".into(),
    }
}

fn scope(id: ObjectId) -> SessionObject {
    SessionObject::ServerScope(ServerScope {
        id,
        spec: NewServerScope {
            object_type: ScopedObjectType::ProtectionGroup,
            object_ids: vec!["PG1".into()],
            alert_type: None,
            error_id: None,
            detailed_error_id: None,
        },
        created_at: Utc::now(),
    })
}

#[test]
fn close_releases_every_object_and_reports_by_kind() {
    let f = fixture(Duration::from_secs(60));
    let (session, token) = f.manager.open(client());
    assert_eq!(token.split().unwrap().0, session.id());
    for _ in 0..5 {
        session.insert_with(scope).unwrap();
    }
    let report = f
        .manager
        .close(session.id(), CloseReason::Disconnected)
        .unwrap();
    assert_eq!(
        report.released,
        BTreeMap::from([(ObjectKind::ServerScope, 5)])
    );
    assert_eq!(report.reason, CloseReason::Disconnected);
    assert_eq!(session.object_count(), 0);
    assert_eq!(f.manager.open_count(), 0);
    assert!(matches!(
        session.insert_with(scope),
        Err(SessionError::Closed(ClosedSession {
            reason: CloseReason::Disconnected,
            ..
        }))
    ));
    let audit = f.catalog.session(session.id()).unwrap().unwrap();
    assert_eq!(audit.close_reason, Some(CloseReason::Disconnected));
    assert_eq!(
        audit.released,
        Some(BTreeMap::from([("ServerScope".to_string(), 5)]))
    );
}

#[test]
fn a_second_close_reports_the_first_reason() {
    let f = fixture(Duration::from_secs(60));
    let (session, _) = f.manager.open(client());
    f.manager
        .close(session.id(), CloseReason::ForcedClose)
        .unwrap();
    match f.manager.close(session.id(), CloseReason::Disconnected) {
        Err(SessionError::Closed(closed)) => {
            assert_eq!(closed.reason, CloseReason::ForcedClose);
            assert!(!closed.before_this_run);
        }
        other => panic!("expected Closed, got {other:?}"),
    }
    let unknown = SessionId::new_random();
    assert_eq!(
        f.manager.close(unknown, CloseReason::Disconnected),
        Err(SessionError::NotFound(unknown))
    );
}

#[test]
fn a_large_table_is_released_whole() {
    let f = fixture(Duration::from_secs(60));
    let (session, _) = f.manager.open(client());
    for _ in 0..100_000 {
        session.insert_with(scope).unwrap();
    }
    let report = f
        .manager
        .close(session.id(), CloseReason::Disconnected)
        .unwrap();
    assert_eq!(report.total(), 100_000);
    assert!(f
        .metrics
        .render()
        .contains("rdpm_session_objects_released_total{kind=\"ServerScope\"} 100000"));
}

/// Invariant 6: every object a racing request managed to add is released
/// by the close, and every request after the close fails cleanly.
#[test]
fn close_racing_with_inserts_never_loses_an_object() {
    let f = fixture(Duration::from_secs(60));
    for _ in 0..50 {
        let (session, _) = f.manager.open(client());
        let added = AtomicUsize::new(0);
        let barrier = Barrier::new(5);
        let report = std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    barrier.wait();
                    loop {
                        match session.insert_with(scope) {
                            Ok(_) => {
                                added.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(SessionError::Closed(_)) => break,
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                });
            }
            barrier.wait();
            std::thread::yield_now();
            f.manager
                .close(session.id(), CloseReason::Disconnected)
                .unwrap()
        });
        assert_eq!(report.total(), added.load(Ordering::SeqCst) as u64);
        assert_eq!(session.object_count(), 0);
    }
}

#[test]
fn concurrent_closes_have_exactly_one_winner() {
    let f = fixture(Duration::from_secs(60));
    for _ in 0..50 {
        let (session, _) = f.manager.open(client());
        session.insert_with(scope).unwrap();
        let barrier = Barrier::new(4);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        f.manager.close(session.id(), CloseReason::Disconnected)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1);
        assert_eq!(won[0].total(), 1);
        assert!(results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(SessionError::Closed(_)))));
    }
}

#[test]
fn expiry_closes_idle_sessions_through_the_release_path() {
    let timeout = Duration::from_millis(500);
    let f = fixture(timeout);
    let (idle, _) = f.manager.open(client());
    let (busy, _) = f.manager.open(client());
    idle.insert_with(scope).unwrap();
    // The lease is on the wall clock: wait until the idle session's has
    // run out, then renew the busy one's just before the pass.
    let out = chrono::Utc::now() + timeout;
    while chrono::Utc::now() <= out {
        std::thread::sleep(Duration::from_millis(10));
    }
    busy.touch();
    assert_eq!(f.manager.expire_idle(), 1);
    assert!(matches!(
        f.manager.lookup(idle.id()),
        Lookup::Closed(ClosedSession {
            reason: CloseReason::Expired,
            ..
        })
    ));
    assert!(matches!(f.manager.lookup(busy.id()), Lookup::Open(_)));
    let text = f.metrics.render();
    assert!(text.contains("rdpm_sessions_expired_total 1"), "{text}");
    assert!(
        text.contains("rdpm_sessions_closed_total{reason=\"Expired\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("rdpm_session_objects_released_total{kind=\"ServerScope\"} 1"),
        "{text}"
    );
    assert!(text.contains("rdpm_sessions_open 1"), "{text}");
}

#[test]
fn close_all_closes_everything_with_the_reason() {
    let f = fixture(Duration::from_secs(60));
    let ids: Vec<_> = (0..3).map(|_| f.manager.open(client()).0.id()).collect();
    let reports = f.manager.close_all(CloseReason::ServerShutdown);
    assert_eq!(reports.len(), 3);
    assert_eq!(f.manager.open_count(), 0);
    for id in ids {
        assert!(matches!(
            f.manager.lookup(id),
            Lookup::Closed(ClosedSession {
                reason: CloseReason::ServerShutdown,
                ..
            })
        ));
    }
}

#[test]
fn removed_objects_and_scopes() {
    let f = fixture(Duration::from_secs(60));
    let (session, _) = f.manager.open(client());
    let a = session.insert_with(scope).unwrap();
    session.set_scope(a).unwrap();
    assert_eq!(session.info(Duration::from_secs(1)).unwrap().scope, Some(a));
    session.remove_object(a, ObjectKind::ServerScope).unwrap();
    assert_eq!(session.info(Duration::from_secs(1)).unwrap().scope, None);
    assert!(session
        .info(Duration::from_secs(1))
        .unwrap()
        .objects
        .is_empty());
    assert_eq!(
        session.remove_object(a, ObjectKind::ServerScope),
        Err(SessionError::ObjectNotFound(a))
    );
    assert_eq!(session.set_scope(a), Err(SessionError::ObjectNotFound(a)));
}

#[test]
fn secrets_compare_exactly() {
    let f = fixture(Duration::from_secs(60));
    let (session, token) = f.manager.open(client());
    let (_, secret_hex) = token.split().unwrap();
    let secret = rdpm_engine::hex::decode::<16>(secret_hex).unwrap();
    assert!(session.secret_matches(&secret));
    let mut wrong = secret;
    wrong[15] ^= 1;
    assert!(!session.secret_matches(&wrong));
    assert!(!session.secret_matches(&secret[..15]));
    assert!(!format!("{token:?}").contains(secret_hex));
}
