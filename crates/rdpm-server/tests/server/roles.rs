//! Recovery roles through the API: managing them, and what a member of
//! one sees and may do: only its items, only into its targets, and
//! nothing else, not even that anything else is there.

use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use rdpm_types::{
    paths, BrowseRequest, BrowseType, ChildDatasourcePage, Datasource, ErrorId, FsPath, Job,
    JobStatus, OverwriteType, ProductionServer, ProductionServerId, ProtectionGroup, RecoveryItem,
    RecoveryItemType, RecoveryLocation, RecoveryOption, RecoveryPoint, RecoveryRole,
    RecoveryTarget, RecoveryType, RestoreItem, RestoreRequest, Right, RoleSpec, SearchDetail,
    SearchRequest, SearchType,
};
use reqwest::{Method, StatusCode};

use super::support::{expect_problem, Session, TestServer};

fn host() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    name.trim().split('.').next().unwrap().to_string()
}

fn bytes(path: &Path) -> FsPath {
    FsPath::from_bytes(path.as_os_str().as_bytes())
}

fn copy_to(folder: &Path, point: &RecoveryPoint) -> RestoreRequest {
    RestoreRequest {
        option: RecoveryOption {
            target_server: host(),
            recovery_location: RecoveryLocation::CopyToFolder,
            alternate_location: Some(bytes(folder)),
            create_alternate_location: true,
            overwrite_type: OverwriteType::Overwrite,
            restore_security: false,
            recovery_type: RecoveryType::Recover,
        },
        items: vec![RestoreItem {
            recovery_point_id: point.id.clone(),
            path: None,
        }],
    }
}

/// Two datasources with a recovery point each: the role's and another.
struct Fixture {
    t: TestServer,
    admin: Session,
    mine: RecoveryPoint,
    mine_job: Job,
    theirs: RecoveryPoint,
    theirs_job: Job,
    allowed: std::path::PathBuf,
}

async fn fixture() -> Fixture {
    let t = TestServer::start().await;
    let admin = t.open_session().await;
    let mut made = Vec::new();
    for name in ["Mine", "Theirs"] {
        let src = t.dir.path().join(name.to_lowercase());
        std::fs::create_dir_all(src.join("docs")).unwrap();
        std::fs::write(src.join("docs/readme.txt"), format!("{name} data")).unwrap();
        let group: ProtectionGroup = t.committed_group(&admin, name, &src).await;
        let job = t.backup(&admin, &group).await.remove(0);
        let done = t.wait(&admin, &job).await;
        assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
        let point = t.points(&admin, &done).await.pop().unwrap();
        made.push((point, done));
    }
    let (theirs, theirs_job) = made.pop().unwrap();
    let (mine, mine_job) = made.pop().unwrap();
    let allowed = t.dir.path().join("allowed");
    std::fs::create_dir_all(&allowed).unwrap();
    Fixture {
        t,
        admin,
        mine,
        mine_job,
        theirs,
        theirs_job,
        allowed,
    }
}

impl Fixture {
    /// A user whose only right is a recovery role over the `Mine`
    /// datasource, restoring into `allowed`.
    async fn role_user(&self) -> Session {
        self.t.add_recovery_role_user(
            "sqlowner",
            "pw-of-sqlowner",
            &[RecoveryItem {
                item_type: RecoveryItemType::Datasource,
                id: self.mine.datasource_id.0,
                name: None,
            }],
            &[RecoveryTarget {
                production_server: host(),
                path: Some(self.allowed.display().to_string()),
            }],
        );
        self.t.open_user_session("sqlowner", "pw-of-sqlowner").await
    }
}

async fn status_of(t: &TestServer, method: Method, path: &str, s: &Session) -> StatusCode {
    t.request(method, path, Some(&s.token))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_recovery_role_user_restores_an_item_into_its_target_and_is_refused_every_other_item_and_target(
) {
    let f = fixture().await;
    let t = &f.t;
    let u = f.role_user().await;

    // It lists only its item, and its points.
    let listed: Vec<Datasource> = t.json(t.get(paths::DATASOURCES, &u.token).await).await;
    assert_eq!(
        listed.iter().map(|d| d.id).collect::<Vec<_>>(),
        [f.mine.datasource_id]
    );
    let groups: Vec<ProtectionGroup> = t
        .json(t.get(paths::PROTECTION_GROUPS, &u.token).await)
        .await;
    assert!(groups.is_empty(), "{groups:?}");
    for (point, expected) in [(&f.mine, 1), (&f.theirs, 0)] {
        let path = format!(
            "{}?datasource={}",
            paths::RECOVERY_POINTS,
            point.datasource_id
        );
        let points: Vec<RecoveryPoint> = t.json(t.get(&path, &u.token).await).await;
        assert_eq!(points.len(), expected, "{points:?}");
    }
    let jobs: Vec<Job> = t.json(t.get(paths::JOBS, &u.token).await).await;
    assert!(!jobs.is_empty());
    assert!(jobs.iter().all(|j| j.datasource_id == f.mine.datasource_id));
    let servers: Vec<ProductionServer> = t
        .json(t.get(paths::PRODUCTION_SERVERS, &u.token).await)
        .await;
    assert_eq!(servers.len(), 1);

    // Another datasource's point and job are as absent.
    let response = t.get(&paths::job(&f.theirs_job.id), &u.token).await;
    expect_problem(response, 404, ErrorId::JobNotFound).await;
    let mine_job: Job = t
        .json(t.get(&paths::job(&f.mine_job.id), &u.token).await)
        .await;
    assert_eq!(mine_job.id, f.mine_job.id);
    let response = t
        .get(&paths::recovery_point_location(&f.theirs.id), &u.token)
        .await;
    let refused = expect_problem(response, 404, ErrorId::RecoveryPointNotFound).await;
    let absent = t
        .get(&paths::recovery_point_location("0123abcd"), &f.admin.token)
        .await;
    let absent = expect_problem(absent, 404, ErrorId::RecoveryPointNotFound).await;
    assert_eq!(
        refused.detail.replace(&f.theirs.id, "ID"),
        absent.detail.replace("0123abcd", "ID"),
        "another's point looks exactly like none"
    );
    let browse = BrowseRequest {
        path: None,
        browse_type: BrowseType::Child,
        page_size: None,
    };
    let response = t
        .post_json(
            &paths::recovery_point_browse(&f.theirs.id),
            &u.token,
            &browse,
        )
        .await;
    expect_problem(response, 404, ErrorId::RecoveryPointNotFound).await;
    let response = t
        .post_json(&paths::recovery_point_browse(&f.mine.id), &u.token, &browse)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let search = SearchRequest {
        from: f.theirs.backup_time - chrono::TimeDelta::days(1),
        to: f.theirs.backup_time + chrono::TimeDelta::days(1),
        detail: SearchDetail::FilesFolders,
        search_type: SearchType::Contains,
        search_string: "readme".into(),
        location: None,
        recursive: true,
        page_size: None,
    };
    let response = t
        .post_json(
            &paths::datasource_search(&f.theirs.datasource_id),
            &u.token,
            &search,
        )
        .await;
    expect_problem(response, 404, ErrorId::DatasourceNotFound).await;

    // Another item, even into its target: as absent.
    let response = t
        .post_json(
            paths::JOBS_RESTORE,
            &u.token,
            &copy_to(&f.allowed.join("x"), &f.theirs),
        )
        .await;
    expect_problem(response, 404, ErrorId::RecoveryPointNotFound).await;
    // Its item outside its targets: refused, naming Recover and the folder.
    let elsewhere = t.dir.path().join("elsewhere");
    for request in [
        copy_to(&elsewhere, &f.mine),
        RestoreRequest {
            option: RecoveryOption {
                recovery_location: RecoveryLocation::OriginalServer,
                alternate_location: None,
                create_alternate_location: false,
                ..copy_to(&elsewhere, &f.mine).option
            },
            ..copy_to(&elsewhere, &f.mine)
        },
    ] {
        let response = t.post_json(paths::JOBS_RESTORE, &u.token, &request).await;
        let problem = expect_problem(response, 403, ErrorId::PermissionDenied).await;
        assert_eq!(problem.right, Some(Right::Recover), "{problem:?}");
        assert!(problem.detail.contains("Recover"), "{}", problem.detail);
        assert!(problem.target.is_some(), "{problem:?}");
    }
    assert!(
        !elsewhere.exists(),
        "nothing was written outside the targets"
    );
    // A link inside the target that leads out of it is outside too.
    std::os::unix::fs::symlink(&elsewhere, f.allowed.join("out")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let response = t
        .post_json(
            paths::JOBS_RESTORE,
            &u.token,
            &copy_to(&f.allowed.join("out"), &f.mine),
        )
        .await;
    expect_problem(response, 403, ErrorId::PermissionDenied).await;
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    // Its item into its target: restored.
    let into = f.allowed.join("restored");
    let response = t
        .post_json(paths::JOBS_RESTORE, &u.token, &copy_to(&into, &f.mine))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let jobs: Vec<Job> = t.json(response).await;
    let done = t.wait(&u, &jobs[0]).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(
        std::fs::read(into.join("mine/docs/readme.txt")).unwrap(),
        b"Mine data"
    );

    // Live inquiry: of a server it reaches, only its items' volumes (none:
    // its item is a folder), and folders only inside its targets; a
    // server it does not reach is as absent.
    let local = &servers[0];
    let all: Vec<Datasource> = t
        .json(
            t.get(
                &paths::production_server_datasources(&local.id),
                &f.admin.token,
            )
            .await,
        )
        .await;
    assert!(!all.is_empty(), "the administrator sees the volumes");
    let volumes: Vec<Datasource> = t
        .json(
            t.get(&paths::production_server_datasources(&local.id), &u.token)
                .await,
        )
        .await;
    assert!(volumes.is_empty(), "{volumes:?}");
    let children = |token: String, folder: std::path::PathBuf| {
        let t = &t;
        async move {
            t.request(
                Method::GET,
                &paths::production_server_children(&local.id),
                Some(&token),
            )
            .query(&[("path_raw", bytes(&folder).raw.unwrap())])
            .send()
            .await
            .unwrap()
        }
    };
    let page: ChildDatasourcePage = t
        .json(children(u.token.clone(), f.allowed.clone()).await)
        .await;
    assert!(page.items.iter().any(|d| d.name == "restored"), "{page:?}");
    for outside in [t.dir.path().to_path_buf(), f.allowed.join("out")] {
        let response = children(u.token.clone(), outside.clone()).await;
        let problem = expect_problem(response, 403, ErrorId::PermissionDenied).await;
        assert_eq!(problem.right, Some(Right::ReadProtection), "{problem:?}");
        assert!(
            problem.detail.contains("ReadProtection"),
            "{}",
            problem.detail
        );
    }
    let nowhere = ProductionServerId(uuid::Uuid::new_v4());
    for path in [
        paths::production_server_datasources(&nowhere),
        format!("{}?path=/", paths::production_server_children(&nowhere)),
        paths::production_server(&nowhere),
    ] {
        let response = t.get(&path, &u.token).await;
        expect_problem(response, 404, ErrorId::ProductionServerNotFound).await;
    }

    // The server's own state, running jobs and roles: refused.
    for (method, path, right) in [
        (Method::GET, paths::ALERTS.to_string(), Right::ReadServer),
        (Method::GET, paths::ROLES.to_string(), Right::Administer),
        (Method::POST, paths::JOBS_BACKUP.to_string(), Right::RunJobs),
    ] {
        let response = t
            .request(method.clone(), &path, Some(&u.token))
            .json(&serde_json::json!({"datasources": [], "option": "WithSynchronize"}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 403, ErrorId::PermissionDenied).await;
        assert_eq!(problem.right, Some(right), "{method} {path}: {problem:?}");
    }
}

#[tokio::test]
async fn removing_the_user_from_the_group_takes_the_rights_away() {
    let f = fixture().await;
    let t = &f.t;
    let u = f.role_user().await;
    assert_eq!(
        status_of(t, Method::GET, paths::DATASOURCES, &u).await,
        StatusCode::OK
    );
    // As 'rdpm server group remove-member' does, from outside the server.
    let catalog = rdpm_server::users::open_catalog(&t.data_dir()).unwrap();
    assert!(catalog
        .remove_group_member("sqlowner-group", "sqlowner")
        .unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = status_of(t, Method::GET, paths::DATASOURCES, &u).await;
        if status == StatusCode::FORBIDDEN {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(Instant::now() < deadline, "the rights stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let response = t
        .post_json(paths::JOBS_RESTORE, &u.token, &copy_to(&f.allowed, &f.mine))
        .await;
    let problem = expect_problem(response, 403, ErrorId::PermissionDenied).await;
    assert_eq!(problem.right, Some(Right::Recover));
}

#[tokio::test]
async fn roles_are_managed_whole_and_a_change_applies_at_the_next_request() {
    let f = fixture().await;
    let t = &f.t;
    let u = f.role_user().await;
    let a = &f.admin;
    let roles: Vec<RecoveryRole> = t.json(t.get(paths::ROLES, &a.token).await).await;
    assert_eq!(roles.len(), 1);
    let role = &roles[0];
    assert_eq!(role.security_groups, ["sqlowner-group"]);
    assert!(
        role.items[0].name.as_deref().unwrap().ends_with("/mine"),
        "{role:?}"
    );

    let put = |spec: RoleSpec| {
        t.request(Method::PUT, &paths::role(&role.id), Some(&a.token))
            .json(&spec)
            .send()
    };
    // A new role of the same name (any case) clashes; unknown groups and
    // items are named.
    let response = t
        .post_json(
            paths::ROLES,
            &a.token,
            &RoleSpec {
                name: "SQLOWNER-ROLE".into(),
                ..role.spec()
            },
        )
        .await;
    expect_problem(response, 409, ErrorId::RoleNameInUse).await;
    let problem = expect_problem(
        put(RoleSpec {
            security_groups: vec!["Ghosts".into()],
            ..role.spec()
        })
        .await
        .unwrap(),
        404,
        ErrorId::SecurityGroupNotFound,
    )
    .await;
    assert!(problem.detail.contains("'Ghosts'"), "{}", problem.detail);
    let ghost = uuid::Uuid::from_u128(42);
    let problem = expect_problem(
        put(RoleSpec {
            items: vec![RecoveryItem {
                item_type: RecoveryItemType::ProtectionGroup,
                id: ghost,
                name: None,
            }],
            ..role.spec()
        })
        .await
        .unwrap(),
        404,
        ErrorId::ProtectionGroupNotFound,
    )
    .await;
    assert_eq!(problem.target, Some(ghost.to_string()));
    let problem = expect_problem(
        put(RoleSpec {
            targets: vec![RecoveryTarget {
                production_server: host(),
                path: Some("relative/folder".into()),
            }],
            ..role.spec()
        })
        .await
        .unwrap(),
        400,
        ErrorId::InvalidRequest,
    )
    .await;
    assert!(
        problem.detail.contains("relative/folder"),
        "{}",
        problem.detail
    );

    // The role now names the other group instead: the user's very next
    // request sees it, without waiting for the access cache.
    let theirs_group = f.theirs_job.protection_group_id.unwrap();
    let saved: RecoveryRole = t
        .json(
            put(RoleSpec {
                items: vec![RecoveryItem {
                    item_type: RecoveryItemType::ProtectionGroup,
                    id: theirs_group.0,
                    name: None,
                }],
                ..role.spec()
            })
            .await
            .unwrap(),
        )
        .await;
    assert_eq!(saved.items[0].name.as_deref(), Some("Theirs"));
    let listed: Vec<Datasource> = t.json(t.get(paths::DATASOURCES, &u.token).await).await;
    assert_eq!(
        listed.iter().map(|d| d.id).collect::<Vec<_>>(),
        [f.theirs.datasource_id]
    );
    let groups: Vec<ProtectionGroup> = t
        .json(t.get(paths::PROTECTION_GROUPS, &u.token).await)
        .await;
    assert_eq!(groups.len(), 1);

    // Removed: the user holds nothing at once.
    let response = t.delete(&paths::role(&role.id), &a.token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        status_of(t, Method::GET, paths::DATASOURCES, &u).await,
        StatusCode::FORBIDDEN
    );
    let response = t.delete(&paths::role(&role.id), &a.token).await;
    expect_problem(response, 404, ErrorId::RoleNotFound).await;
}
