//! Production servers, datasources and protection groups over HTTP: the
//! model of protection, its drafts as session objects, and their locks.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdpm_types::{
    paths, AddChildDatasources, ChildDatasourcePage, Datasource, DatasourceKind, DatasourceRef,
    ErrorId, FsPath, ModifiableProtectionGroup, NewProtectionGroup, ObjectKind, ProductionServer,
    ProtectionGroup, ReplicaCreationMethod, ServerProtectionState, SessionInfo, SetPolicyObjective,
    SetProtectionType,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::support::{expect_problem, Session, TestServer};

/// A folder tree next to the data directory, so that it is on the data
/// directory's file system, which is always a volume.
fn tree(t: &TestServer) -> PathBuf {
    let root = t.dir.path().join("content");
    std::fs::create_dir_all(root.join("www/img")).unwrap();
    std::fs::create_dir_all(root.join("logs")).unwrap();
    std::fs::write(root.join("readme.txt"), b"hello").unwrap();
    root
}

fn bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_bytes()
}

impl TestServer {
    pub(super) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> T {
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub(super) async fn local_server(&self, s: &Session) -> ProductionServer {
        let servers: Vec<ProductionServer> = self
            .json(self.get(paths::PRODUCTION_SERVERS, &s.token).await)
            .await;
        assert_eq!(servers.len(), 1);
        servers.into_iter().next().unwrap()
    }

    pub(super) async fn new_draft(&self, s: &Session, name: &str) -> ModifiableProtectionGroup {
        let response = self
            .post_json(
                paths::MODIFIABLE_PROTECTION_GROUPS,
                &s.token,
                &NewProtectionGroup {
                    name: Some(name.into()),
                },
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        self.json(response).await
    }

    pub(super) async fn add(
        &self,
        s: &Session,
        draft: &ModifiableProtectionGroup,
        server: &ProductionServer,
        path: &Path,
    ) -> reqwest::Response {
        let body = AddChildDatasources {
            datasources: vec![DatasourceRef {
                production_server_id: server.id,
                path: FsPath::from_bytes(bytes(path)),
            }],
        };
        self.post_json(
            &paths::modifiable_members(&draft.object_id),
            &s.token,
            &body,
        )
        .await
    }

    pub(super) async fn commit(
        &self,
        s: &Session,
        draft: &ModifiableProtectionGroup,
    ) -> reqwest::Response {
        self.request(
            Method::POST,
            &paths::modifiable_commit(&draft.object_id),
            Some(&s.token),
        )
        .send()
        .await
        .unwrap()
    }

    pub(super) async fn open_for_modification(
        &self,
        s: &Session,
        group: &ProtectionGroup,
        timeout_secs: u64,
    ) -> reqwest::Response {
        self.request(
            Method::POST,
            &paths::protection_group_modifiable(&group.id),
            Some(&s.token),
        )
        .query(&[("timeout_secs", timeout_secs)])
        .send()
        .await
        .unwrap()
    }

    async fn groups(&self, s: &Session) -> Vec<ProtectionGroup> {
        self.json(self.get(paths::PROTECTION_GROUPS, &s.token).await)
            .await
    }

    /// A committed group protecting `path`.
    pub(super) async fn committed_group(
        &self,
        s: &Session,
        name: &str,
        path: &Path,
    ) -> ProtectionGroup {
        let server = self.local_server(s).await;
        let draft = self.new_draft(s, name).await;
        assert_eq!(self.add(s, &draft, &server, path).await.status(), 200);
        self.json(self.commit(s, &draft).await).await
    }
}

#[tokio::test]
async fn the_data_directory_volume_is_listed() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let server = t.local_server(&s).await;
    assert!(!server.server_name.is_empty());
    assert!(!server.server_name.contains('.'));
    assert_eq!(server.machine_name, server.server_name);
    assert_eq!(
        server.server_protection_state,
        ServerProtectionState::NoDatasourcesProtected
    );

    let volumes: Vec<Datasource> = t
        .json(
            t.get(&paths::production_server_datasources(&server.id), &s.token)
                .await,
        )
        .await;
    let root = tree(&t);
    let found: Datasource = t
        .json(
            t.request(Method::GET, paths::DATASOURCE_SEARCH, Some(&s.token))
                .query(&[("path", root.to_str().unwrap())])
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(found.object_type, DatasourceKind::Volume);
    assert!(
        volumes
            .iter()
            .any(|v| v.id == found.id && v.name == found.name),
        "{} not among {:?}",
        found.name,
        volumes.iter().map(|v| &v.name).collect::<Vec<_>>()
    );
    for v in &volumes {
        assert_eq!(v.object_type, DatasourceKind::Volume);
        assert!(!["proc", "sysfs", "devpts", "cgroup", "cgroup2"].contains(&v.file_system.as_str()));
        assert_eq!(v.computer, server.server_name);
    }
}

#[tokio::test]
async fn children_page_with_a_limit_and_carry_any_name() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let server = t.local_server(&s).await;
    let root = tree(&t);
    let odd: &[u8] = b"caf\xe9";
    std::fs::create_dir(root.join(OsStr::from_bytes(odd))).unwrap();
    std::fs::write(root.join("two\nlines"), b"x").unwrap();

    let mut names: Vec<(Vec<u8>, String, DatasourceKind)> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![
            ("path_raw", FsPath::from_bytes(bytes(&root)).raw.unwrap()),
            ("limit", "2".to_string()),
        ];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page: ChildDatasourcePage = t
            .json(
                t.request(
                    Method::GET,
                    &paths::production_server_children(&server.id),
                    Some(&s.token),
                )
                .query(&query)
                .send()
                .await
                .unwrap(),
            )
            .await;
        pages += 1;
        assert!(page.items.len() <= 2);
        for item in &page.items {
            let raw = item.path.to_bytes().unwrap();
            assert_eq!(
                raw,
                [bytes(&root), b"/", &raw[bytes(&root).len() + 1..]].concat()
            );
            names.push((
                raw[bytes(&root).len() + 1..].to_vec(),
                item.name.clone(),
                item.object_type,
            ));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<(Vec<u8>, String, DatasourceKind)> = vec![
        (
            b"caf\xe9".to_vec(),
            "caf\u{fffd}".into(),
            DatasourceKind::Folder,
        ),
        (b"logs".to_vec(), "logs".into(), DatasourceKind::Folder),
        (
            b"readme.txt".to_vec(),
            "readme.txt".into(),
            DatasourceKind::File,
        ),
        (
            b"two\nlines".to_vec(),
            "two\nlines".into(),
            DatasourceKind::File,
        ),
        (b"www".to_vec(), "www".into(), DatasourceKind::Folder),
    ];
    assert_eq!(names, expected);

    // Bad input names itself.
    type Case<'a> = (Vec<(&'a str, String)>, u16, ErrorId, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("path", "relative".into())],
            400,
            ErrorId::InvalidRequest,
            "relative",
        ),
        (
            vec![("path", root.join("missing").to_str().unwrap().into())],
            404,
            ErrorId::DatasourceNotFound,
            "missing",
        ),
        (
            vec![("path", root.join("readme.txt").to_str().unwrap().into())],
            400,
            ErrorId::InvalidRequest,
            "readme.txt",
        ),
        (
            vec![
                ("path", root.to_str().unwrap().into()),
                ("limit", "0".into()),
            ],
            400,
            ErrorId::InvalidRequest,
            "limit",
        ),
        (
            vec![
                ("path", root.to_str().unwrap().into()),
                ("cursor", "%%%".into()),
            ],
            400,
            ErrorId::InvalidRequest,
            "%%%",
        ),
    ];
    for (query, status, id, named) in cases {
        let response = t
            .request(
                Method::GET,
                &paths::production_server_children(&server.id),
                Some(&s.token),
            )
            .query(&query)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, status, id).await;
        assert!(
            problem.target.as_deref().unwrap_or("").contains(named),
            "{problem:?} does not name {named}"
        );
    }
}

#[tokio::test]
async fn a_new_group_is_drafted_filled_and_committed() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let server = t.local_server(&s).await;
    let root = tree(&t);
    let www = root.join("www");

    let draft = t.new_draft(&s, "Web content").await;
    assert!(draft.is_new);
    assert_eq!(t.groups(&s).await, Vec::new(), "nothing before the commit");
    let added: ModifiableProtectionGroup = t.json(t.add(&s, &draft, &server, &www).await).await;
    assert_eq!(added.protection_group.members.len(), 1);
    assert_eq!(
        added.protection_group.members[0].object_type,
        DatasourceKind::Folder
    );
    let put = |path: String, body: serde_json::Value| {
        t.request(Method::PUT, &path, Some(&s.token))
            .json(&body)
            .send()
    };
    let typed: ModifiableProtectionGroup = t
        .json(
            put(
                paths::modifiable_protection_type(&draft.object_id),
                serde_json::to_value(SetProtectionType {
                    short_term: Some(rdpm_types::DataLocation::Disk),
                })
                .unwrap(),
            )
            .await
            .unwrap(),
        )
        .await;
    assert_eq!(
        typed.protection_group.short_term,
        Some(rdpm_types::DataLocation::Disk)
    );
    let policy: ModifiableProtectionGroup = t
        .json(
            put(
                paths::modifiable_policy_objective(&draft.object_id),
                serde_json::to_value(SetPolicyObjective {
                    retention_range_days: 14,
                    synchronization_frequency_minutes: Some(60),
                    before_recovery_point: false,
                })
                .unwrap(),
            )
            .await
            .unwrap(),
        )
        .await;
    assert_eq!(
        policy
            .protection_group
            .policy_objective
            .retention_range
            .range,
        14
    );
    let method: ModifiableProtectionGroup = t
        .json(
            put(
                paths::modifiable_replica_creation_method(&draft.object_id),
                json!({"method": "Now"}),
            )
            .await
            .unwrap(),
        )
        .await;
    assert_eq!(
        method.protection_group.replica_creation_method,
        ReplicaCreationMethod::Now
    );

    let committed: ProtectionGroup = t.json(t.commit(&s, &draft).await).await;
    assert_eq!(committed.id, draft.protection_group.id, "the id is kept");
    assert_eq!(committed.version, 1);
    assert_eq!(
        committed.policy_objective.synchronization_frequency_minutes,
        Some(60)
    );
    assert_eq!(t.groups(&s).await, vec![committed.clone()]);

    // The draft is gone with its commit.
    let response = t
        .get(
            &paths::modifiable_protection_group(&draft.object_id),
            &s.token,
        )
        .await;
    expect_problem(response, 404, ErrorId::ObjectNotFound).await;

    // The datasource reads as protected everywhere.
    let members: Vec<Datasource> = t
        .json(
            t.get(
                &paths::protection_group_datasources(&committed.id),
                &s.token,
            )
            .await,
        )
        .await;
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].name, "www");
    assert!(members[0].currently_protected);
    assert_eq!(
        members[0].protection_group_name.as_deref(),
        Some("Web content")
    );
    let protected: Vec<Datasource> = t.json(t.get(paths::DATASOURCES, &s.token).await).await;
    assert_eq!(protected, members);
    assert_eq!(
        t.local_server(&s).await.server_protection_state,
        ServerProtectionState::HasDatasourcesProtected
    );
}

#[tokio::test]
async fn a_held_group_is_refused_naming_the_holder_and_freed_by_disconnect() {
    let t = TestServer::start().await;
    let first = t.open_session().await;
    let group = t
        .committed_group(&first, "Web", &tree(&t).join("www"))
        .await;

    let opened = t.open_for_modification(&first, &group, 0).await;
    assert_eq!(opened.status(), StatusCode::CREATED);
    let draft: ModifiableProtectionGroup = opened.json().await.unwrap();
    assert!(!draft.is_new);
    let info: SessionInfo = t
        .json(t.get(paths::CURRENT_SESSION, &first.token).await)
        .await;
    assert_eq!(
        info.objects.get(&ObjectKind::ModifiableProtectionGroup),
        Some(&1)
    );

    let second = t
        .open_session_as(rdpm_types::CreateSessionRequest {
            client_host: "ws-bob".into(),
            client_process: "rdpm[42]".into(),
            expected_server_name: None,
            allow_name_mismatch: false,
            credential: None,
        })
        .await;
    let refused = t.open_for_modification(&second, &group, 0).await;
    let problem = expect_problem(refused, 409, ErrorId::EditLockHeld).await;
    for part in [
        format!("ProtectionGroup:{}", group.id),
        "administrator".to_string(),
        first.id().to_string(),
        "testhost".to_string(),
        " since ".to_string(),
    ] {
        assert!(
            problem.detail.contains(&part),
            "{part} missing from {}",
            problem.detail
        );
    }

    // The second waits (up to an hour); the first disconnects; the second
    // has it at the release, long before its timeout.
    let activity = || async {
        let open: Vec<rdpm_types::SessionInfo> =
            t.json(t.get(paths::SESSIONS, &t.admin).await).await;
        open.into_iter()
            .find(|i| i.id == second.id())
            .expect("the second session is open")
            .last_activity
    };
    let before = activity().await;
    // Leases count in milliseconds: let the next one begin, so that the
    // waiting request's renewal shows.
    while chrono::Utc::now().timestamp_millis() <= before.timestamp_millis() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let waiting = {
        let request = t
            .request(
                Method::POST,
                &paths::protection_group_modifiable(&group.id),
                Some(&second.token),
            )
            .query(&[("timeout_secs", 3600)]);
        tokio::spawn(async move { request.send().await.unwrap().status() })
    };
    // The waiting request has reached the server once it renewed the
    // second session's lease.
    let deadline = Instant::now() + Duration::from_secs(30);
    while activity().await <= before {
        assert!(
            Instant::now() < deadline,
            "the waiting request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        t.delete(paths::CURRENT_SESSION, &first.token)
            .await
            .status(),
        200
    );
    let status = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("woken by the release, not by its hour's timeout")
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    // The discarded draft changed nothing.
    assert_eq!(t.groups(&second).await, vec![group]);
}

#[tokio::test]
async fn uncommitted_new_groups_vanish_with_their_session() {
    let t = TestServer::start_with(Duration::from_millis(300)).await;
    let root = tree(&t);
    for close_by_delete in [true, false] {
        let s = t.open_session().await;
        let server = t.local_server(&s).await;
        let draft = t.new_draft(&s, "Never committed").await;
        assert_eq!(
            t.add(&s, &draft, &server, &root.join("www")).await.status(),
            200
        );
        if close_by_delete {
            let report: rdpm_types::ReleaseReport = t
                .json(t.delete(paths::CURRENT_SESSION, &s.token).await)
                .await;
            assert_eq!(
                report.released.get(&ObjectKind::ModifiableProtectionGroup),
                Some(&1)
            );
        } else {
            // Left alone, the session expires through its lease.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let open: Vec<rdpm_types::SessionInfo> =
                    t.json(t.get(paths::SESSIONS, &t.admin).await).await;
                if open.iter().all(|i| i.id != s.id()) {
                    break;
                }
                assert!(Instant::now() < deadline, "the session never expired");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let response = t.get(paths::CURRENT_SESSION, &s.token).await;
            expect_problem(response, 410, ErrorId::SessionClosed).await;
        }
        let other = t.open_session().await;
        assert_eq!(t.groups(&other).await, Vec::new());
        // Its handle means nothing elsewhere, and its name is free.
        let response = t
            .get(
                &paths::modifiable_protection_group(&draft.object_id),
                &other.token,
            )
            .await;
        expect_problem(response, 404, ErrorId::ObjectNotFound).await;
        let again = t.new_draft(&other, "Never committed").await;
        t.delete(
            &paths::modifiable_protection_group(&again.object_id),
            &other.token,
        )
        .await;
    }
}

#[tokio::test]
async fn commits_cannot_interleave() {
    let t = TestServer::start().await;
    let root = tree(&t);
    let a = t.open_session().await;
    let b = t.open_session().await;
    let server = t.local_server(&a).await;

    // Two sessions create the same name: exactly one commit wins.
    let da = t.new_draft(&a, "Same").await;
    let db = t.new_draft(&b, "same").await;
    assert_eq!(
        t.add(&a, &da, &server, &root.join("www")).await.status(),
        200
    );
    assert_eq!(
        t.add(&b, &db, &server, &root.join("logs")).await.status(),
        200
    );
    let (ra, rb) = tokio::join!(t.commit(&a, &da), t.commit(&b, &db));
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let loser = if ra.status() == 409 { ra } else { rb };
    expect_problem(loser, 409, ErrorId::ProtectionGroupNameInUse).await;
    let groups = t.groups(&a).await;
    assert_eq!(groups.len(), 1);

    // An existing group: the lock lets only one session commit at a time,
    // and a draft is committed once.
    let group = &groups[0];
    let opened = t.open_for_modification(&a, group, 0).await;
    let draft: ModifiableProtectionGroup = t.json(opened).await;
    expect_problem(
        t.open_for_modification(&b, group, 0).await,
        409,
        ErrorId::EditLockHeld,
    )
    .await;
    let (first, second) = tokio::join!(t.commit(&a, &draft), t.commit(&a, &draft));
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert!(
        statuses == [200, 404] || statuses == [200, 409],
        "{statuses:?}"
    );
    let after = t.groups(&a).await;
    assert_eq!(after[0].version, group.version + 1);
    // The lock is free after the commit.
    assert_eq!(t.open_for_modification(&b, group, 0).await.status(), 201);
}

#[tokio::test]
async fn bad_input_is_a_problem_naming_it() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let server = t.local_server(&s).await;
    let root = tree(&t);
    t.committed_group(&s, "Web", &root.join("www")).await;
    let draft = t.new_draft(&s, "Other").await;

    let missing = root.join("missing");
    let problem = expect_problem(
        t.add(&s, &draft, &server, &missing).await,
        404,
        ErrorId::DatasourceNotFound,
    )
    .await;
    assert_eq!(problem.target.as_deref(), missing.to_str());

    for inside in [root.join("www"), root.join("www/img"), root.clone()] {
        let problem = expect_problem(
            t.add(&s, &draft, &server, &inside).await,
            409,
            ErrorId::DatasourceAlreadyProtected,
        )
        .await;
        assert!(problem.detail.contains("'Web'"), "{}", problem.detail);
        assert_eq!(problem.target.as_deref(), inside.to_str());
    }

    // A folder whose own path is not UTF-8 cannot be a datasource (a
    // recovery point records its path as text); its parent can, and the
    // name inside it is kept as bytes.
    let odd = root.join(OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir(&odd).unwrap();
    let problem = expect_problem(
        t.add(&s, &draft, &server, &odd).await,
        400,
        ErrorId::InvalidRequest,
    )
    .await;
    assert!(
        problem
            .detail
            .contains("is not valid UTF-8, so it cannot be protected"),
        "{}",
        problem.detail
    );
    assert_eq!(
        problem.target.as_deref(),
        Some(odd.to_string_lossy().as_ref())
    );

    let proc_path = Path::new("/proc/self");
    let problem = expect_problem(
        t.add(&s, &draft, &server, proc_path).await,
        404,
        ErrorId::DatasourceNotFound,
    )
    .await;
    assert!(
        problem.detail.contains("not a volume"),
        "{}",
        problem.detail
    );

    let policy = |days: i64, minutes: Option<i64>| SetPolicyObjective {
        retention_range_days: days,
        synchronization_frequency_minutes: minutes,
        before_recovery_point: false,
    };
    let cases = [
        (
            policy(0, None),
            "RetentionRangeDays",
            "0 is out of range: short-term disk retention is 1 to 448 days",
        ),
        (
            policy(449, None),
            "RetentionRangeDays",
            "449 is out of range",
        ),
        (
            policy(14, Some(50)),
            "SynchronizationFrequencyMinutes",
            "50 is not one of the allowed values: 15, 30, 45, 60, 120, 240, 360, 720, 1440",
        ),
    ];
    for (body, target, text) in cases {
        let response = t
            .request(
                Method::PUT,
                &paths::modifiable_policy_objective(&draft.object_id),
                Some(&s.token),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, ErrorId::InvalidRequest).await;
        assert_eq!(problem.target.as_deref(), Some(target));
        assert!(problem.detail.contains(text), "{}", problem.detail);
    }

    let response = t
        .request(
            Method::PUT,
            &paths::modifiable_protection_type(&draft.object_id),
            Some(&s.token),
        )
        .json(&json!({"short_term": "Tape"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 400, ErrorId::NotSupported).await;

    // Names: taken (case-insensitively), at creation and on rename.
    let response = t
        .post_json(
            paths::MODIFIABLE_PROTECTION_GROUPS,
            &s.token,
            &NewProtectionGroup {
                name: Some("WEB".into()),
            },
        )
        .await;
    let problem = expect_problem(response, 409, ErrorId::ProtectionGroupNameInUse).await;
    assert_eq!(problem.target.as_deref(), Some("Web"));
    let response = t
        .request(
            Method::PUT,
            &paths::modifiable_name(&draft.object_id),
            Some(&s.token),
        )
        .json(&json!({"new_name": "web"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 409, ErrorId::ProtectionGroupNameInUse).await;

    // A new group without members is not created.
    let problem = expect_problem(t.commit(&s, &draft).await, 400, ErrorId::InvalidRequest).await;
    assert_eq!(problem.target.as_deref(), Some("Other"));

    // Unknown ids.
    let response = t
        .get(
            &paths::protection_group(&rdpm_types::ProtectionGroupId::new_random()),
            &s.token,
        )
        .await;
    expect_problem(response, 404, ErrorId::ProtectionGroupNotFound).await;
    let response = t
        .get(
            &paths::production_server_datasources(&rdpm_types::ProductionServerId::new_random()),
            &s.token,
        )
        .await;
    expect_problem(response, 404, ErrorId::ProductionServerNotFound).await;
}

#[tokio::test]
async fn removing_a_member_commits_and_frees_the_datasource() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let root = tree(&t);
    let group = t.committed_group(&s, "Web", &root.join("www")).await;
    let draft: ModifiableProtectionGroup =
        t.json(t.open_for_modification(&s, &group, 0).await).await;
    let member = &group.members[0];
    let response = t
        .request(
            Method::DELETE,
            &paths::modifiable_member(&draft.object_id, &member.datasource_id),
            Some(&s.token),
        )
        .query(&[("keep_disk_data", "true")])
        .send()
        .await
        .unwrap();
    let edited: ModifiableProtectionGroup = t.json(response).await;
    assert!(edited.protection_group.members.is_empty());
    assert_eq!(edited.stopped.len(), 1);
    assert!(edited.stopped[0].keep_disk_data);
    let committed: ProtectionGroup = t.json(t.commit(&s, &draft).await).await;
    assert!(committed.members.is_empty());
    // Another group may protect it now.
    t.committed_group(&s, "Again", &root.join("www")).await;
}
