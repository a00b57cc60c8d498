//! The restic lock file and the in-process reader/writer lock.

use std::fs;
use std::sync::{Arc, Mutex};

use rdpm_storage::{BackupRequest, SnapshotFilter};

use crate::support::{bulk_tree, TestRepo};

#[test]
fn a_lock_file_exists_during_a_backup_and_is_gone_after() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 3, 30_000);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut req = BackupRequest::new([&src]);
    let locks_dir = t.path().join("locks");
    req.before_open = Some(Arc::new({
        let seen = Arc::clone(&seen);
        move |_: &std::path::Path| {
            let n = fs::read_dir(&locks_dir).map(|d| d.count()).unwrap_or(0);
            seen.lock().expect("mutex").push(n);
        }
    }));
    t.repo.backup(&req).expect("backup");
    assert_eq!(*seen.lock().expect("mutex"), vec![1, 1, 1]);
    assert!(t.lock_files().is_empty());
}

#[test]
fn forget_waits_for_a_running_backup() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 2, 20_000);
    let first = t.repo.backup(&BackupRequest::new([&src])).expect("first");
    let order = Arc::new(Mutex::new(Vec::new()));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let mut req = BackupRequest::new([&src]);
    // Unchanged files are not opened; a new one is.
    fs::write(src.join("d0/new"), b"new").expect("write");
    req.before_open = Some(Arc::new({
        let order = Arc::clone(&order);
        move |_: &std::path::Path| {
            order.lock().expect("mutex").push("backup reading");
            let _ = started_tx.send(());
            let _ = release_rx.lock().expect("mutex").recv();
        }
    }));
    std::thread::scope(|s| {
        let backup = s.spawn(|| t.repo.backup(&req));
        started_rx.recv().expect("backup started");
        let forget = s.spawn(|| {
            t.repo
                .forget(std::slice::from_ref(&first.snapshot_id))
                .map(|()| {
                    order.lock().expect("mutex").push("forget done");
                })
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        order.lock().expect("mutex").push("backup released");
        release_tx.send(()).expect("release");
        backup.join().expect("thread").expect("backup");
        forget.join().expect("thread").expect("forget");
    });
    assert_eq!(
        *order.lock().expect("mutex"),
        vec!["backup reading", "backup released", "forget done"]
    );
    assert_eq!(
        t.repo
            .snapshots(&SnapshotFilter::default())
            .expect("list")
            .len(),
        1
    );
}
