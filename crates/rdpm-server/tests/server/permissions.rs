//! The permission matrix: every route of the route table against every
//! built-in role, as docs/permissions.md documents it, checked against a
//! real server. The document is held to the table (each route once, with
//! its right), and the server to the document: a role the document refuses
//! gets 403 naming the route's right, a role it allows never gets 403.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdpm_types::routes::{self, Method as RouteMethod, Route};
use rdpm_types::{BuiltinRole, ErrorId, Problem, Right, Rights, RECOVERY_ROLE_RIGHTS};
use reqwest::{Method, StatusCode};

use super::support::{Session, TestServer};

const DOC: &str = include_str!("../../../../docs/permissions.md");

/// The roles of the document's columns, in order.
const COLUMNS: [&str; 5] = [
    "Administrator",
    "Operator",
    "Reader",
    "Recovery role",
    "No role",
];

/// What a column's cell says of a route.
fn cell(rights: Rights, scoped: Rights, right: Right) -> &'static str {
    // A recovery role's own session is its own, not an item.
    if rights.contains(right) || (scoped.contains(right) && right == Right::UseSession) {
        "yes"
    } else if scoped.contains(right) {
        "its items"
    } else {
        "no"
    }
}

/// The matrix's rows as the route table and the roles make them.
fn expected_rows() -> Vec<String> {
    routes::ALL
        .iter()
        .map(|route| {
            let mut cells = vec![
                route.name.to_string(),
                format!("`{} {}`", route.method, route.path),
                route.right.to_string(),
            ];
            for role in BuiltinRole::ALL {
                cells.push(cell(role.rights(), Rights::NONE, route.right).into());
            }
            cells.push(cell(Rights::NONE, RECOVERY_ROLE_RIGHTS, route.right).into());
            cells.push(cell(Rights::NONE, Rights::NONE, route.right).into());
            format!("| {} |", cells.join(" | "))
        })
        .collect()
}

/// The document's rows of the matrix: the lines of its first table after
/// its header.
fn documented_rows() -> Vec<String> {
    DOC.lines()
        .skip_while(|l| !l.starts_with("| Route |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim().to_string())
        .collect()
}

/// The document's verdict for a route and a column: allowed or not.
fn documented(route: &Route) -> BTreeMap<&'static str, String> {
    let prefix = format!("| {} |", route.name);
    let row = documented_rows()
        .into_iter()
        .find(|r| r.starts_with(&prefix))
        .unwrap_or_else(|| panic!("docs/permissions.md has no row for {}", route.name));
    let cells: Vec<String> = row
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect();
    COLUMNS
        .iter()
        .zip(cells.into_iter().skip(3))
        .map(|(column, cell)| (*column, cell))
        .collect()
}

#[test]
fn the_documented_matrix_is_the_route_tables() {
    let expected = expected_rows();
    let documented = documented_rows();
    assert!(
        expected == documented,
        "docs/permissions.md's matrix differs from the route table and the roles; \
         its rows should be:\n{}",
        expected.join("\n")
    );
}

/// A path of the route with placeholder values: nil ids, which no object
/// has.
fn path_of(route: &Route) -> String {
    let nil = uuid::Uuid::nil().to_string();
    let values = vec![nil; route.path_params];
    routes::fill(route.path, &values)
}

fn method_of(route: &Route) -> Method {
    match route.method {
        RouteMethod::Get => Method::GET,
        RouteMethod::Post => Method::POST,
        RouteMethod::Put => Method::PUT,
        RouteMethod::Delete => Method::DELETE,
    }
}

/// Calls `route` with `token` (without a credential for routes anyone may
/// call) and an empty JSON object as its body; the status and problem.
async fn call(t: &TestServer, route: &Route, token: &str) -> (StatusCode, Option<Problem>) {
    let token = (route.right != Right::Anyone).then_some(token);
    let mut request = t.request(method_of(route), &path_of(route), token);
    if matches!(route.method, RouteMethod::Post | RouteMethod::Put) {
        request = request.json(&serde_json::json!({}));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let problem = if status.is_success() {
        None
    } else {
        response.json::<Problem>().await.ok()
    };
    (status, problem)
}

/// Checks every route of the table for the session `s` of `column`; the
/// routes that close the caller's own session go last.
async fn check_column(t: &TestServer, column: &str, s: &Session) -> Vec<String> {
    let mut wrong = Vec::new();
    let (closing, others): (Vec<&Route>, Vec<&Route>) = routes::ALL
        .iter()
        // Served only on a simulated clock, and there to the administrator
        // token only (a test aid): see the document.
        .filter(|r| r.path != routes::SIMULATED_CLOCK_ONLY)
        .partition(|r| r.name == "CloseCurrentSession");
    for route in others.into_iter().chain(closing) {
        let allowed = documented(route)[column] != "no";
        let (status, problem) = call(t, route, &s.token).await;
        let at = format!("{column}: {} {} ({})", route.method, route.path, route.name);
        if allowed {
            if status == StatusCode::FORBIDDEN && problem.as_ref().and_then(|p| p.right).is_some() {
                wrong.push(format!(
                    "{at}: allowed by the document, refused: {problem:?}"
                ));
            }
        } else {
            match problem {
                Some(p)
                    if status == StatusCode::FORBIDDEN
                        && p.error_id == ErrorId::PermissionDenied
                        && p.right == Some(route.right)
                        && p.detail.contains(route.right.as_str()) => {}
                other => wrong.push(format!(
                    "{at}: refused by the document, answered {status}: {other:?}"
                )),
            }
        }
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_exactly_the_roles_the_matrix_refuses() {
    let t = TestServer::start().await;
    let mut wrong = Vec::new();
    for (column, role) in [
        ("Administrator", Some(BuiltinRole::Administrator)),
        ("Operator", Some(BuiltinRole::Operator)),
        ("Reader", Some(BuiltinRole::Reader)),
        ("No role", None),
    ] {
        let name = column.replace(' ', "").to_lowercase();
        t.add_user_with_role(&name, "pw-matrix", role);
        let s = t.open_user_session(&name, "pw-matrix").await;
        wrong.extend(check_column(&t, column, &s).await);
    }
    // The administrator token holds every right, as an Administrator does.
    let s = t.open_session().await;
    wrong.extend(check_column(&t, "Administrator", &s).await);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_changed_on_the_servers_host_applies_to_open_sessions() {
    let t = TestServer::start().await;
    t.add_user_with_role("bob", "pw-bob", Some(BuiltinRole::Reader));
    let s = t.open_user_session("bob", "pw-bob").await;
    let pool = rdpm_types::paths::STORAGE_POOL;
    let add = |token: String| {
        let t = &t;
        async move {
            let response = t
                .request(Method::POST, pool, Some(&token))
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Problem>().await.ok())
        }
    };
    let (status, problem) = add(s.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let problem = problem.unwrap();
    assert_eq!(problem.right, Some(Right::Configure));
    assert!(
        problem.detail.contains("user 'bob' (role Reader)"),
        "{}",
        problem.detail
    );

    let catalog = rdpm_server::users::open_catalog(&t.data_dir()).unwrap();
    rdpm_server::users::set_role(catalog.as_ref(), "bob", Some(BuiltinRole::Administrator))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Allowed now: the empty body is refused for what it is instead.
        let (status, _) = add(s.token.clone()).await;
        if status != StatusCode::FORBIDDEN {
            assert_eq!(status, StatusCode::BAD_REQUEST);
            break;
        }
        assert!(Instant::now() < deadline, "the new role never applied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Disabled: the open session keeps no right at all.
    rdpm_server::users::set_enabled(catalog.as_ref(), "bob", false, chrono::Utc::now()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = t.get(rdpm_types::paths::CURRENT_SESSION, &s.token).await;
        if response.status() == StatusCode::FORBIDDEN {
            let problem: Problem = response.json().await.unwrap();
            assert!(problem.detail.contains("disabled"), "{}", problem.detail);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the disabled user kept their rights"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
