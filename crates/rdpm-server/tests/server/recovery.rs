//! Recovery through the API: browsing and searching recovery points with
//! cursors that are session objects, and restores as jobs, with the target
//! checks that come before any write.

use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use rdpm_types::{
    paths, BrowsePage, BrowseRequest, BrowseType, ErrorId, FsPath, ItemType, Job, JobStatus,
    JobType, ObjectKind, OverwriteType, RecoverableItem, RecoveryLocation, RecoveryOption,
    RecoveryPoint, RecoveryType, ReleaseReport, RestoreItem, RestoreRequest, SearchDetail,
    SearchRequest, SearchType, SessionInfo,
};
use reqwest::StatusCode;

use super::jobs::large_tree;
use super::support::{expect_problem, Session, TestServer};

/// A tree with a wide folder, a nested one, a link and known contents.
fn content(root: &Path, wide: usize) {
    std::fs::create_dir_all(root.join("docs/invoices")).unwrap();
    std::fs::create_dir_all(root.join("wide")).unwrap();
    std::fs::write(root.join("index.html"), b"<html>home</html>").unwrap();
    std::fs::write(root.join("docs/readme.txt"), b"read me").unwrap();
    std::fs::write(root.join("docs/invoices/Invoice-2026.pdf"), b"%PDF 2026").unwrap();
    std::os::unix::fs::symlink("index.html", root.join("home")).unwrap();
    for i in 0..wide {
        std::fs::write(root.join(format!("wide/f{i:05}")), i.to_string()).unwrap();
    }
}

fn option(
    location: RecoveryLocation,
    alternate: Option<&Path>,
    overwrite: OverwriteType,
) -> RecoveryOption {
    RecoveryOption {
        target_server: gethostname(),
        recovery_location: location,
        alternate_location: alternate.map(|p| FsPath::from_bytes(p.as_os_str().as_bytes())),
        create_alternate_location: alternate.is_some(),
        overwrite_type: overwrite,
        restore_security: false,
        recovery_type: RecoveryType::Recover,
    }
}

fn gethostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let name = name.trim();
    name.split('.').next().unwrap().to_string()
}

impl TestServer {
    async fn backed_up(&self, s: &Session, name: &str, src: &Path) -> RecoveryPoint {
        let group = self.committed_group(s, name, src).await;
        let job = self.backup(s, &group).await.remove(0);
        let done = self.wait(s, &job).await;
        assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
        self.points(s, &done).await.pop().unwrap()
    }

    async fn browse(
        &self,
        s: &Session,
        point: &RecoveryPoint,
        path: Option<&Path>,
        browse_type: BrowseType,
        page_size: Option<u32>,
    ) -> BrowsePage {
        let body = BrowseRequest {
            path: path.map(|p| FsPath::from_bytes(p.as_os_str().as_bytes())),
            browse_type,
            page_size,
        };
        let response = self
            .post_json(&paths::recovery_point_browse(&point.id), &s.token, &body)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        self.json(response).await
    }

    async fn session_objects(&self, s: &Session, kind: ObjectKind) -> u64 {
        let info: SessionInfo = self
            .json(self.get(paths::CURRENT_SESSION, &s.token).await)
            .await;
        info.objects.get(&kind).copied().unwrap_or(0)
    }

    async fn restore(&self, s: &Session, request: &RestoreRequest) -> reqwest::Response {
        self.post_json(paths::JOBS_RESTORE, &s.token, request).await
    }

    async fn restored(&self, s: &Session, request: &RestoreRequest) -> Job {
        let response = self.restore(s, request).await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let jobs: Vec<Job> = self.json(response).await;
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].job_type, JobType::Recovery);
        self.wait(s, &jobs[0]).await
    }
}

fn names(items: &[RecoverableItem]) -> Vec<String> {
    items.iter().map(|i| i.name.display.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsing_pages_on_the_server_and_cursors_are_session_objects() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = t.dir.path().join("www");
    content(&src, 2500);
    let point = t.backed_up(&s, "Web", &src).await;

    // A point's children are its root folder's entries, in name order.
    let top = t.browse(&s, &point, None, BrowseType::Child, None).await;
    assert_eq!(names(&top.items), ["docs", "home", "index.html", "wide"]);
    assert!(top.cursor.is_none());
    assert_eq!(top.total, Some(4));
    let index = &top.items[2];
    assert_eq!(index.item_type, ItemType::File);
    assert_eq!(index.size, 17);
    assert_eq!(index.recovery_point_id, point.id);
    assert_eq!(
        index.path.display,
        src.join("index.html").display().to_string()
    );
    let home = &top.items[1];
    assert_eq!(home.item_type, ItemType::Symlink);
    assert_eq!(home.link_target.as_ref().unwrap().display, "index.html");

    // Parent of the point is its root folder; of an item, the folder
    // holding it.
    let parent = t.browse(&s, &point, None, BrowseType::Parent, None).await;
    assert_eq!(parent.items.len(), 1);
    assert_eq!(parent.items[0].item_type, ItemType::Folder);
    assert_eq!(parent.items[0].path.display, src.display().to_string());
    let up = t
        .browse(
            &s,
            &point,
            Some(&src.join("docs/readme.txt")),
            BrowseType::Parent,
            None,
        )
        .await;
    assert_eq!(names(&up.items), ["docs"]);

    // A wide folder pages: the rest waits in a cursor the session holds.
    let first = t
        .browse(
            &s,
            &point,
            Some(&src.join("wide")),
            BrowseType::Child,
            Some(1000),
        )
        .await;
    assert_eq!(first.items.len(), 1000);
    assert_eq!(first.total, Some(2500));
    assert_eq!(first.items[0].name.display, "f00000");
    let cursor = first.cursor.expect("more pages follow");
    assert_eq!(t.session_objects(&s, ObjectKind::BrowseCursor).await, 1);
    let second: BrowsePage = t
        .json(
            t.get(&format!("{}?limit=1000", paths::cursor(&cursor)), &s.token)
                .await,
        )
        .await;
    assert_eq!(second.items[0].name.display, "f01000");
    assert_eq!(second.cursor, Some(cursor));
    let last: BrowsePage = t
        .json(
            t.get(&format!("{}?limit=1000", paths::cursor(&cursor)), &s.token)
                .await,
        )
        .await;
    assert_eq!(last.items.len(), 500);
    assert_eq!(last.items[499].name.display, "f02499");
    assert!(last.cursor.is_none());
    // Read to the end, it is released at once.
    assert_eq!(t.session_objects(&s, ObjectKind::BrowseCursor).await, 0);
    let gone = t.get(&paths::cursor(&cursor), &s.token).await;
    expect_problem(gone, 404, ErrorId::ObjectNotFound).await;

    // Closing one early releases it; one left open is released, and
    // counted, when the session closes.
    let open = t
        .browse(
            &s,
            &point,
            Some(&src.join("wide")),
            BrowseType::Child,
            Some(10),
        )
        .await;
    let closed = t
        .delete(&paths::cursor(&open.cursor.unwrap()), &s.token)
        .await;
    assert_eq!(closed.status(), StatusCode::NO_CONTENT);
    assert_eq!(t.session_objects(&s, ObjectKind::BrowseCursor).await, 0);
    for _ in 0..2 {
        t.browse(
            &s,
            &point,
            Some(&src.join("wide")),
            BrowseType::Child,
            Some(10),
        )
        .await;
    }
    let report: ReleaseReport = t
        .json(t.delete(paths::CURRENT_SESSION, &s.token).await)
        .await;
    assert_eq!(report.released.get(&ObjectKind::BrowseCursor), Some(&2));

    // Mistakes are clear errors, not server faults.
    let s = t.open_session().await;
    let missing = t
        .post_json(
            &paths::recovery_point_browse(&point.id),
            &s.token,
            &BrowseRequest {
                path: Some(FsPath::from_text(&format!("{}/nope", src.display()))),
                browse_type: BrowseType::Child,
                page_size: None,
            },
        )
        .await;
    let problem = expect_problem(missing, 404, ErrorId::RecoverableItemNotFound).await;
    assert!(problem.detail.contains("nope"), "{}", problem.detail);
    let outside = t
        .post_json(
            &paths::recovery_point_browse(&point.id),
            &s.token,
            &BrowseRequest {
                path: Some(FsPath::from_text("/etc")),
                browse_type: BrowseType::Child,
                page_size: None,
            },
        )
        .await;
    expect_problem(outside, 404, ErrorId::RecoverableItemNotFound).await;
    let no_point = t
        .post_json(
            &paths::recovery_point_browse(&"0".repeat(64)),
            &s.token,
            &BrowseRequest {
                path: None,
                browse_type: BrowseType::Child,
                page_size: None,
            },
        )
        .await;
    expect_problem(no_point, 404, ErrorId::RecoveryPointNotFound).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_names_in_every_point_of_the_range() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = t.dir.path().join("www");
    content(&src, 3);
    let first = t.backed_up(&s, "Web", &src).await;
    std::fs::write(src.join("docs/old-invoice.txt"), b"x").unwrap();
    let group: Vec<rdpm_types::ProtectionGroup> = t
        .json(t.get(paths::PROTECTION_GROUPS, &s.token).await)
        .await;
    let job = t.backup(&s, &group[0]).await.remove(0);
    let second_job = t.wait(&s, &job).await;
    let second = t
        .points(&s, &second_job)
        .await
        .into_iter()
        .find(|p| Some(&p.id) == second_job.recovery_point_id.as_ref())
        .unwrap();

    let search = |search_type, needle: &str, recursive, from, to| SearchRequest {
        from,
        to,
        detail: SearchDetail::FilesFolders,
        search_type,
        search_string: needle.into(),
        location: None,
        recursive,
        page_size: None,
    };
    let run = |request: SearchRequest| {
        let t = &t;
        let s = &s;
        let ds = first.datasource_id;
        async move {
            let response = t
                .post_json(&paths::datasource_search(&ds), &s.token, &request)
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            let page: BrowsePage = t.json(response).await;
            assert!(page.cursor.is_none(), "a small search fits one page");
            page.items
        }
    };
    let wide = (first.backup_time, second.backup_time);
    let found = run(search(
        SearchType::Contains,
        "INVOICE",
        true,
        wide.0,
        wide.1,
    ))
    .await;
    let mut found: Vec<(String, String)> = found
        .iter()
        .map(|i| (i.recovery_point_id.clone(), i.name.display.clone()))
        .collect();
    found.sort();
    let mut expected = vec![
        (first.id.clone(), "Invoice-2026.pdf".to_string()),
        (first.id.clone(), "invoices".to_string()),
        (second.id.clone(), "Invoice-2026.pdf".to_string()),
        (second.id.clone(), "invoices".to_string()),
        (second.id.clone(), "old-invoice.txt".to_string()),
    ];
    expected.sort();
    assert_eq!(found, expected);
    // Not recursive: only the root folder's own entries.
    let top = run(search(
        SearchType::ExactMatch,
        "index.html",
        false,
        wide.0,
        wide.1,
    ))
    .await;
    assert_eq!(top.len(), 2);
    let deep = run(search(
        SearchType::ExactMatch,
        "readme.txt",
        false,
        wide.0,
        wide.1,
    ))
    .await;
    assert!(deep.is_empty());
    // Only the points in the time range.
    let only_first = run(search(
        SearchType::StartsWith,
        "old-",
        true,
        first.backup_time,
        first.backup_time,
    ))
    .await;
    assert!(only_first.is_empty());
    let only_second = run(search(
        SearchType::EndsWith,
        ".TXT",
        true,
        second.backup_time,
        second.backup_time,
    ))
    .await;
    assert_eq!(names(&only_second), ["old-invoice.txt", "readme.txt"]);
    // A reversed range is a clear error.
    let reversed = t
        .post_json(
            &paths::datasource_search(&first.datasource_id),
            &s.token,
            &search(
                SearchType::Contains,
                "x",
                true,
                wide.1,
                wide.0 - chrono::Duration::seconds(1),
            ),
        )
        .await;
    expect_problem(reversed, 400, ErrorId::InvalidRequest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_copy_keep_or_replace_and_refuse_the_servers_own_data() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = t.dir.path().join("www");
    content(&src, 3);
    let point = t.backed_up(&s, "Web", &src).await;
    let target = t.dir.path().join("restore");
    let whole = |overwrite| RestoreRequest {
        option: option(RecoveryLocation::CopyToFolder, Some(&target), overwrite),
        items: vec![RestoreItem {
            recovery_point_id: point.id.clone(),
            path: None,
        }],
    };

    // A whole point into a folder that does not exist yet.
    let done = t.restored(&s, &whole(OverwriteType::NoOverwrite)).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(done.files_transferred, 6);
    assert_eq!(
        done.target_path.as_ref().unwrap().display,
        target.display().to_string()
    );
    let copy = target.join("www");
    assert_eq!(
        std::fs::read(copy.join("docs/invoices/Invoice-2026.pdf")).unwrap(),
        b"%PDF 2026"
    );
    assert_eq!(
        std::fs::read_link(copy.join("home")).unwrap(),
        Path::new("index.html")
    );

    // NoOverwrite leaves a changed file alone; CopyOnExist writes beside
    // it; Overwrite replaces it.
    std::fs::write(copy.join("index.html"), b"changed").unwrap();
    let kept = t.restored(&s, &whole(OverwriteType::NoOverwrite)).await;
    assert_eq!(std::fs::read(copy.join("index.html")).unwrap(), b"changed");
    assert!(
        kept.messages
            .iter()
            .any(|m| m.contains("left as they were")),
        "{:?}",
        kept.messages
    );
    t.restored(&s, &whole(OverwriteType::CopyOnExist)).await;
    assert_eq!(std::fs::read(copy.join("index.html")).unwrap(), b"changed");
    let beside: Vec<String> = std::fs::read_dir(&copy)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("index.html (Recovered "))
        .collect();
    assert_eq!(beside.len(), 1, "{beside:?}");
    assert_eq!(
        std::fs::read(copy.join(&beside[0])).unwrap(),
        b"<html>home</html>"
    );
    t.restored(&s, &whole(OverwriteType::Overwrite)).await;
    assert_eq!(
        std::fs::read(copy.join("index.html")).unwrap(),
        b"<html>home</html>"
    );

    // One file, back where it was.
    std::fs::remove_file(src.join("docs/readme.txt")).unwrap();
    let original = RestoreRequest {
        option: option(
            RecoveryLocation::OriginalServer,
            None,
            OverwriteType::NoOverwrite,
        ),
        items: vec![RestoreItem {
            recovery_point_id: point.id.clone(),
            path: Some(FsPath::from_bytes(
                src.join("docs/readme.txt").as_os_str().as_bytes(),
            )),
        }],
    };
    let back = t.restored(&s, &original).await;
    assert_eq!(back.status, JobStatus::Succeeded, "{back:?}");
    assert_eq!(
        std::fs::read(src.join("docs/readme.txt")).unwrap(),
        b"read me"
    );

    // Targets in or around the server's own data are refused before any
    // job starts, whatever symlink leads there.
    let data = t.data_dir();
    let sneaky = t.dir.path().join("sneaky");
    std::os::unix::fs::symlink(data.join(rdpm_server::DEFAULT_POOL_DIR), &sneaky).unwrap();
    for refused in [
        data.join("x"),
        data.clone(),
        sneaky.join("data"),
        t.dir.path().to_path_buf(),
    ] {
        let response = t
            .restore(
                &s,
                &RestoreRequest {
                    option: option(
                        RecoveryLocation::CopyToFolder,
                        Some(&refused),
                        OverwriteType::Overwrite,
                    ),
                    items: whole(OverwriteType::Overwrite).items,
                },
            )
            .await;
        let problem = expect_problem(response, 400, ErrorId::RestoreTargetRefused).await;
        assert!(
            problem.detail.contains("server's own data"),
            "{}",
            problem.detail
        );
    }
    assert!(!data.join("x").exists());

    // A folder that does not exist is refused unless the option says to
    // create it; then the restore creates it, and the folders above it.
    let missing = t.dir.path().join("not-yet").join("there");
    let mut refusing = option(
        RecoveryLocation::CopyToFolder,
        Some(&missing),
        OverwriteType::Overwrite,
    );
    refusing.create_alternate_location = false;
    let response = t
        .restore(
            &s,
            &RestoreRequest {
                option: refusing.clone(),
                items: whole(OverwriteType::Overwrite).items,
            },
        )
        .await;
    let problem = expect_problem(response, 400, ErrorId::RestoreTargetRefused).await;
    assert!(
        problem.detail.contains("does not exist")
            && problem.detail.contains("-CreateAlternateLocation"),
        "{}",
        problem.detail
    );
    assert!(!missing.exists() && !missing.parent().unwrap().exists());
    refusing.create_alternate_location = true;
    let job = t
        .restored(
            &s,
            &RestoreRequest {
                option: refusing,
                items: whole(OverwriteType::Overwrite).items,
            },
        )
        .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(missing.is_dir());

    // Other mistakes.
    let cases: Vec<(RestoreRequest, u16, ErrorId)> = vec![
        (
            RestoreRequest {
                option: option(
                    RecoveryLocation::CopyToFolder,
                    None,
                    OverwriteType::Overwrite,
                ),
                items: whole(OverwriteType::Overwrite).items,
            },
            400,
            ErrorId::InvalidRequest,
        ),
        (
            RestoreRequest {
                option: option(
                    RecoveryLocation::CopyToFolder,
                    Some(&target),
                    OverwriteType::Overwrite,
                ),
                items: vec![],
            },
            400,
            ErrorId::InvalidRequest,
        ),
        (
            RestoreRequest {
                option: option(
                    RecoveryLocation::CopyToFolder,
                    Some(&target),
                    OverwriteType::Overwrite,
                ),
                items: vec![RestoreItem {
                    recovery_point_id: point.id.clone(),
                    path: Some(FsPath::from_text("/etc/passwd")),
                }],
            },
            404,
            ErrorId::RecoverableItemNotFound,
        ),
        (
            RestoreRequest {
                option: RecoveryOption {
                    target_server: "elsewhere".into(),
                    ..option(
                        RecoveryLocation::CopyToFolder,
                        Some(&target),
                        OverwriteType::Overwrite,
                    )
                },
                items: whole(OverwriteType::Overwrite).items,
            },
            400,
            ErrorId::NotSupported,
        ),
    ];
    for (request, status, id) in cases {
        expect_problem(t.restore(&s, &request).await, status, id).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_restore_ends_cancelled_and_restores_run_beside_backups() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let big = large_tree(&t.dir.path().join("big"), 48, 4 << 20);
    let point = t.backed_up(&s, "Big", &big).await;
    let target = t.dir.path().join("restore");
    let request = RestoreRequest {
        option: option(
            RecoveryLocation::CopyToFolder,
            Some(&target),
            OverwriteType::Overwrite,
        ),
        items: vec![RestoreItem {
            recovery_point_id: point.id.clone(),
            path: None,
        }],
    };

    // Stop mid-way: the job ends cancelled, nothing half-written left.
    let response = t.restore(&s, &request).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let job: Vec<Job> = t.json(response).await;
    t.wait_for_status(&s, &job[0], JobStatus::InProgress).await;
    let stop = t
        .post_json(&paths::job_stop(&job[0].id), &s.token, &())
        .await;
    assert_eq!(stop.status(), StatusCode::OK);
    let ended = t.wait(&s, &job[0]).await;
    assert_eq!(ended.status, JobStatus::Failed);
    assert_eq!(ended.error.as_ref().unwrap().kind, "Cancelled");
    assert!(ended
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("stays in place"));
    for entry in walk(&target) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with('.'),
            "temporary file left: {}",
            entry.display()
        );
    }

    // A restore runs while another datasource's backup runs.
    let other = large_tree(&t.dir.path().join("other"), 48, 4 << 20);
    let group = t.committed_group(&s, "Other", &other).await;
    let backup = t.backup(&s, &group).await.remove(0);
    t.wait_for_status(&s, &backup, JobStatus::InProgress).await;
    let restore = t.restored(&s, &request).await;
    assert_eq!(restore.status, JobStatus::Succeeded, "{restore:?}");
    let backup = t.wait(&s, &backup).await;
    assert_eq!(backup.status, JobStatus::Succeeded);
    assert!(restore.start_time.unwrap() < backup.end_time.unwrap());
    for i in [0, 47] {
        let name = format!("f{i:03}.bin");
        assert_eq!(
            std::fs::read(target.join("big").join(&name)).unwrap(),
            std::fs::read(big.join(&name)).unwrap()
        );
    }
}

/// Every path below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}
