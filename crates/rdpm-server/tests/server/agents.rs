//! Production-server agents against a real server: attaching with a
//! one-time key, what the agent credential may and may not do, and the
//! agent channel spoken as `rdpm agent` speaks it, over a real WebSocket.

use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use rdpm_types::routes::{self, Method as RouteMethod};
use rdpm_types::{
    paths, AgentAttachRequest, AgentAttached, AgentMessage, AgentNames, AgentReply, AgentRequest,
    AgentResult, AgentState, BuiltinRole, CreateSessionRequest, Datasource, ErrorId, Problem,
    ProductionServer, ProductionServerId, Right, ServerMessage, WireMount, WirePath,
    AGENT_PROTOCOL,
};
use reqwest::{Method, Response, StatusCode};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::support::{expect_problem, Session, TestServer, NAME};

/// The server's rdpm version, which an agent must run.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long a test waits for the server to notice something.
const PATIENCE: Duration = Duration::from_secs(15);

type Channel = WebSocketStream<TcpStream>;

/// A new attach key of `t`'s, made as `rdpm server attach-key` makes it:
/// in the catalog of its data directory, while it runs.
fn attach_key(t: &TestServer) -> String {
    attach_key_made(t, Duration::from_secs(3600), chrono::Utc::now())
}

fn attach_key_made(
    t: &TestServer,
    lifetime: Duration,
    at: chrono::DateTime<chrono::Utc>,
) -> String {
    let catalog = rdpm_server::users::open_catalog(&t.data_dir()).unwrap();
    let (key, expires) =
        rdpm_server::agents::new_attach_key(catalog.as_ref(), lifetime, at).unwrap();
    assert!(key.starts_with(rdpm_server::agents::ATTACH_KEY_PREFIX));
    assert!(expires > at);
    key
}

/// The names of the host `short`, in the domain example.com.
fn names(short: &str) -> AgentNames {
    AgentNames {
        server_name: short.into(),
        name: format!("{short}.example.com"),
        domain: "example.com".into(),
    }
}

/// `POST /api/v1/agents/attach`, without a credential as `rdpm agent
/// attach` sends it.
async fn attach(t: &TestServer, key: &str, version: &str, names: AgentNames) -> Response {
    t.request(Method::POST, paths::AGENTS_ATTACH, None)
        .json(&AgentAttachRequest {
            attach_key: key.into(),
            version: version.into(),
            names,
        })
        .send()
        .await
        .unwrap()
}

/// Attaches the host `short` with a new key.
async fn attached(t: &TestServer, short: &str) -> AgentAttached {
    let response = attach(t, &attach_key(t), VERSION, names(short)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "attach of {short}");
    response.json().await.unwrap()
}

/// The production server `id`, as `Get-DPMProductionServer` shows it to
/// the administrator (in a session of its own: listings act in one).
async fn production_server(t: &TestServer, id: ProductionServerId) -> ProductionServer {
    let response = t
        .get(paths::PRODUCTION_SERVERS, &t.open_session().await.token)
        .await;
    let status = response.status();
    assert_eq!(status, StatusCode::OK, "{}", response.text().await.unwrap());
    let servers: Vec<ProductionServer> = response.json().await.unwrap();
    servers
        .into_iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no production server {id} is listed"))
}

/// The production server `id` once its agent is in `state`.
async fn production_server_once(
    t: &TestServer,
    id: ProductionServerId,
    state: AgentState,
) -> ProductionServer {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let server = production_server(t, id).await;
        if server.agent_state == state {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "production server {id} is {:?}, never {state:?}",
            server.agent_state
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `Get-DPMDatasource -ProductionServer -Inquire` of `id` in the session
/// `s`, in a task of its own: the server waits for the agent to answer it.
fn inquire(
    t: &TestServer,
    s: &Session,
    id: ProductionServerId,
) -> tokio::task::JoinHandle<Response> {
    let request = t.request(
        Method::GET,
        &paths::production_server_datasources(&id),
        Some(&s.token),
    );
    tokio::spawn(async move { request.send().await.unwrap() })
}

/// Opens the agent channel with `credential` as `rdpm agent` does.
async fn open_channel(
    t: &TestServer,
    credential: &str,
) -> Result<Channel, tokio_tungstenite::tungstenite::Error> {
    let address = t.server.local_addr();
    let stream = TcpStream::connect(address).await.unwrap();
    let mut request = format!("ws://{address}{}", paths::AGENT_CHANNEL)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {credential}").parse().unwrap(),
    );
    tokio_tungstenite::client_async(request, stream)
        .await
        .map(|(channel, _)| channel)
}

async fn say(channel: &mut Channel, message: &AgentMessage) {
    channel
        .send(Message::text(serde_json::to_string(message).unwrap()))
        .await
        .unwrap();
}

fn hello(version: &str, short: &str) -> AgentMessage {
    AgentMessage::Hello {
        version: version.into(),
        protocol: AGENT_PROTOCOL,
        names: names(short),
    }
}

/// The server's next message; `None` once it ended the channel. Fails
/// the test when the server says nothing for [`PATIENCE`].
async fn next(channel: &mut Channel) -> Option<ServerMessage> {
    loop {
        let received = tokio::time::timeout(PATIENCE, channel.next())
            .await
            .expect("the server neither spoke nor closed the channel");
        match received {
            Some(Ok(Message::Text(text))) => {
                return Some(serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("the server sent a message that does not parse ({e}): {text}")
                }))
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
            Some(Ok(other)) => panic!("the server sent {other:?}"),
        }
    }
}

/// Opens the channel of `agent` and says hello; asserts the welcome.
async fn connect(t: &TestServer, agent: &AgentAttached, short: &str) -> Channel {
    let mut channel = open_channel(t, &agent.credential).await.unwrap();
    say(&mut channel, &hello(VERSION, short)).await;
    match next(&mut channel).await {
        Some(ServerMessage::Welcome {
            server_version,
            production_server_id,
            ..
        }) => {
            assert_eq!(server_version, VERSION);
            assert_eq!(production_server_id, agent.production_server_id);
        }
        other => panic!("a hello of the right version got {other:?}"),
    }
    channel
}

fn volume(mount_point: &str) -> WireMount {
    WireMount {
        mount_point: WirePath(mount_point.as_bytes().to_vec()),
        file_system: "xfs".into(),
        source: "/dev/sdb1".into(),
        is_volume: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attach_key_attaches_one_host_once() {
    let t = TestServer::start().await;
    let key = attach_key(&t);
    let response = attach(&t, &key, VERSION, names("web01")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let attached: AgentAttached = response.json().await.unwrap();
    assert!(
        attached
            .credential
            .starts_with(rdpm_types::AGENT_CREDENTIAL_PREFIX),
        "{attached:?}"
    );
    assert_eq!(
        rdpm_types::split_agent_credential(&attached.credential).map(|(id, _)| id),
        Some(attached.production_server_id)
    );
    assert!(!attached.reattached);
    assert_eq!(attached.server_version, VERSION);
    let server = production_server(&t, attached.production_server_id).await;
    assert_eq!(server.server_name, "web01");
    assert_eq!(server.name, "web01.example.com");
    assert_eq!(server.agent, rdpm_types::AgentKind::Remote);
    assert_eq!(server.agent_state, AgentState::Disconnected);

    // Used: it attaches nobody else.
    let problem = expect_problem(
        attach(&t, &key, VERSION, names("web02")).await,
        401,
        ErrorId::InvalidCredential,
    )
    .await;
    assert!(
        problem.detail.contains("used already"),
        "{}",
        problem.detail
    );

    let problem = expect_problem(
        attach(&t, "rdpm-attach-madeup", VERSION, names("web02")).await,
        401,
        ErrorId::InvalidCredential,
    )
    .await;
    assert!(
        problem.detail.contains("not one this server made"),
        "{}",
        problem.detail
    );

    // Made two hours ago to last a minute.
    let expired = attach_key_made(
        &t,
        Duration::from_secs(60),
        chrono::Utc::now() - chrono::Duration::hours(2),
    );
    let problem = expect_problem(
        attach(&t, &expired, VERSION, names("web02")).await,
        401,
        ErrorId::InvalidCredential,
    )
    .await;
    assert!(problem.detail.contains("expired"), "{}", problem.detail);

    // None of the refused attaches registered the host.
    let response = t
        .get(paths::PRODUCTION_SERVERS, &t.open_session().await.token)
        .await;
    let servers: Vec<ProductionServer> = response.json().await.unwrap();
    assert!(
        servers.iter().all(|s| s.server_name != "web02"),
        "{servers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attaching_a_host_again_keeps_its_id_and_retires_its_old_credential() {
    let t = TestServer::start().await;
    let first = attached(&t, "web01").await;
    let again = attached(&t, "web01").await;
    assert!(again.reattached);
    assert_eq!(again.production_server_id, first.production_server_id);
    assert_ne!(again.credential, first.credential);

    // The old credential is not refused for what it may do but for what
    // it is: no longer one.
    let response = t.get(paths::AGENT_CHANNEL, &first.credential).await;
    expect_problem(response, 401, ErrorId::InvalidCredential).await;
    match open_channel(&t, &first.credential).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401);
        }
        other => panic!("the old credential opened the channel: {other:?}"),
    }
    let mut channel = connect(&t, &again, "web01").await;
    channel.close(None).await.unwrap();

    // Another host is another production server.
    let other = attached(&t, "web02").await;
    assert!(!other.reattached);
    assert_ne!(other.production_server_id, first.production_server_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_of_another_version_is_refused_naming_both() {
    let t = TestServer::start().await;
    let key = attach_key(&t);
    let problem = expect_problem(
        attach(&t, &key, "0.0.1", names("web01")).await,
        409,
        ErrorId::AgentVersionMismatch,
    )
    .await;
    assert!(
        problem.detail.contains("rdpm 0.0.1")
            && problem.detail.contains(&format!("rdpm {VERSION}")),
        "{}",
        problem.detail
    );
    // The refusal did not use the key up.
    let response = attach(&t, &key, VERSION, names("web01")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_a_host_cannot_have_are_refused() {
    let t = TestServer::start().await;
    let key = attach_key(&t);
    let with = |change: &dyn Fn(&mut AgentNames)| {
        let mut names = names("web01");
        change(&mut names);
        names
    };
    for (names, says) in [
        (
            with(&|n| n.server_name.clear()),
            "names.server_name is empty",
        ),
        (with(&|n| n.name.clear()), "names.name is empty"),
        (
            with(&|n| n.name = "web 01".into()),
            "names.name 'web 01' holds ' '",
        ),
        (
            with(&|n| n.server_name = "web\u{7}01".into()),
            "names.server_name",
        ),
        (
            with(&|n| n.name = "a".repeat(254)),
            "names.name is longer than 253 bytes",
        ),
        (
            with(&|n| n.domain = "d".repeat(254)),
            "names.domain is longer than 253 bytes",
        ),
        (
            with(&|n| n.server_name = NAME.into()),
            "is this DPM server's own name",
        ),
        (
            with(&|n| n.name = format!("{}.example.com", NAME.to_lowercase())),
            "is this DPM server's own name",
        ),
    ] {
        let problem = expect_problem(
            attach(&t, &key, VERSION, names.clone()).await,
            400,
            ErrorId::InvalidRequest,
        )
        .await;
        assert!(
            problem.detail.contains(says),
            "{names:?}: {}",
            problem.detail
        );
    }
    // At the limit, and with no domain, a host attaches (with the key
    // the refusals left unused).
    let longest = with(&|n| {
        n.name = "a".repeat(253);
        n.domain.clear();
    });
    let response = attach(&t, &key, VERSION, longest).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_failed_attaches_from_one_address_wait_for_the_window() {
    let t = TestServer::start().await;
    for attempt in 0..10 {
        let response = attach(
            &t,
            &format!("rdpm-attach-guess{attempt}"),
            VERSION,
            names("web01"),
        )
        .await;
        expect_problem(response, 401, ErrorId::InvalidCredential).await;
    }
    let response = attach(&t, "rdpm-attach-guess10", VERSION, names("web01")).await;
    let retry_after: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .expect("a 429 says when to try again")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    let problem = expect_problem(response, 429, ErrorId::TooManyRequests).await;
    assert!(problem.detail.contains("127.0.0.1"), "{}", problem.detail);
    // A good key waits too: the address is what is held back.
    let response = attach(&t, &attach_key(&t), VERSION, names("web01")).await;
    expect_problem(response, 429, ErrorId::TooManyRequests).await;
}

/// Regression: the failed attaches were counted for the whole process,
/// so one server's failures held back another's clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_servers_failed_attaches_do_not_hold_back_another_servers_clients() {
    let busy = TestServer::start().await;
    for attempt in 0..11 {
        attach(
            &busy,
            &format!("rdpm-attach-guess{attempt}"),
            VERSION,
            names("web01"),
        )
        .await;
    }
    let response = attach(&busy, "rdpm-attach-guess", VERSION, names("web01")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);

    let quiet = TestServer::start().await;
    let response = attach(&quiet, &attach_key(&quiet), VERSION, names("web01")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Calls `route` with `token`, placeholder ids in its path and `{}` as
/// the body of a POST or PUT.
async fn call(t: &TestServer, route: &routes::Route, token: &str) -> (StatusCode, Option<Problem>) {
    let method = match route.method {
        RouteMethod::Get => Method::GET,
        RouteMethod::Post => Method::POST,
        RouteMethod::Put => Method::PUT,
        RouteMethod::Delete => Method::DELETE,
    };
    let id = uuid::Uuid::new_v4().to_string();
    let path = routes::fill(route.path, &vec![id; route.path_params]);
    let mut request = t.request(method, &path, Some(token));
    if matches!(route.method, RouteMethod::Post | RouteMethod::Put) {
        request = request.json(&serde_json::json!({}));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json::<Problem>().await.ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_credential_opens_nothing_but_its_channel() {
    let t = TestServer::start().await;
    let agent = attached(&t, "web01").await;
    let mut wrong = Vec::new();
    for route in routes::ALL
        .iter()
        // Served only on a simulated clock (see permissions.rs).
        .filter(|r| r.path != routes::SIMULATED_CLOCK_ONLY)
        .filter(|r| !matches!(r.right, Right::Anyone | Right::Agent))
    {
        let (status, problem) = call(&t, route, &agent.credential).await;
        match problem {
            Some(p)
                if status == StatusCode::FORBIDDEN
                    && p.error_id == ErrorId::PermissionDenied
                    && p.right == Some(route.right)
                    && p.detail
                        .contains("the agent credential of production server") => {}
            other => wrong.push(format!(
                "{} {} ({}): answered {status}: {other:?}",
                route.method, route.path, route.name
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Of the routes anyone may call, it cannot open a session.
    let response = t
        .post_json(
            paths::SESSIONS,
            &agent.credential,
            &CreateSessionRequest {
                client_host: "web01".into(),
                client_process: "rdpm[1]".into(),
                expected_server_name: Some(NAME.into()),
                allow_name_mismatch: false,
                credential: None,
            },
        )
        .await;
    let problem = expect_problem(response, 403, ErrorId::PermissionDenied).await;
    assert_eq!(problem.right, Some(Right::UseSession));
    assert!(
        problem.detail.contains("agent credential"),
        "{}",
        problem.detail
    );
    // Its own route lets it in: a plain GET is refused for not being an
    // upgrade, not for who sent it.
    let response = t.get(paths::AGENT_CHANNEL, &agent.credential).await;
    let problem = expect_problem(response, 400, ErrorId::InvalidRequest).await;
    assert!(problem.detail.contains("WebSocket"), "{}", problem.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_agent_credential_opens_the_channel() {
    let t = TestServer::start().await;
    t.add_user_with_role("root", "pw-root", Some(BuiltinRole::Administrator));
    let user = t.open_user_session("root", "pw-root").await;
    let admin_session = t.open_session().await;
    for (who, token) in [
        ("the administrator token", t.admin.as_str()),
        ("a session of the administrator token", &admin_session.token),
        ("an Administrator's session", &user.token),
    ] {
        let response = t.get(paths::AGENT_CHANNEL, token).await;
        let problem = expect_problem(response, 403, ErrorId::PermissionDenied).await;
        assert_eq!(problem.right, Some(Right::Agent), "{who}");
        assert!(
            problem.detail.contains("right Agent"),
            "{who}: {}",
            problem.detail
        );
        match open_channel(&t, token).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 403, "{who}");
            }
            other => panic!("{who} opened the agent channel: {other:?}"),
        }
    }
    // Without a credential, or with one shaped as an agent's that the
    // server did not make.
    let response = t
        .request(Method::GET, paths::AGENT_CHANNEL, None)
        .send()
        .await
        .unwrap();
    expect_problem(response, 401, ErrorId::AuthenticationRequired).await;
    let forged =
        rdpm_types::agent_credential_text(ProductionServerId::new_random(), &"ab".repeat(32));
    let response = t.get(paths::AGENT_CHANNEL, &forged).await;
    expect_problem(response, 401, ErrorId::InvalidCredential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_agent_answers_the_servers_inquiries() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let agent = attached(&t, "web01").await;
    let id = agent.production_server_id;
    let mut channel = connect(&t, &agent, "web01").await;

    // Welcomed means reachable: no wait.
    let server = production_server(&t, id).await;
    assert_eq!(server.agent_state, AgentState::Connected);
    assert_eq!(server.agent_version, VERSION);
    assert!(server.last_seen.is_some(), "{server:?}");

    let inquiry = inquire(&t, &s, id);
    let request = match next(&mut channel).await {
        Some(ServerMessage::Request {
            id,
            request: AgentRequest::Volumes,
        }) => id,
        other => panic!("the inquiry sent {other:?}"),
    };
    say(
        &mut channel,
        &AgentMessage::Response {
            id: request,
            result: AgentResult::Ok(AgentReply::Volumes {
                volumes: vec![volume("/srv/data")],
            }),
        },
    )
    .await;
    let response = inquiry.await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let volumes: Vec<Datasource> = response.json().await.unwrap();
    assert_eq!(volumes.len(), 1, "{volumes:?}");
    let data = &volumes[0];
    assert_eq!(data.name, "/srv/data");
    assert_eq!(data.path.to_bytes().as_deref(), Some(&b"/srv/data"[..]));
    assert_eq!(data.file_system, "xfs");
    assert_eq!(data.production_server_id, id);
    assert_eq!(data.computer, "web01");
    assert_eq!(data.production_server_name, "web01.example.com");

    // What the agent cannot do reaches the caller as its failure, not as
    // the server's.
    let inquiry = inquire(&t, &s, id);
    let request = match next(&mut channel).await {
        Some(ServerMessage::Request { id, .. }) => id,
        other => panic!("the inquiry sent {other:?}"),
    };
    say(
        &mut channel,
        &AgentMessage::Response {
            id: request,
            result: AgentResult::Err(rdpm_types::AgentFailure::Unsupported {
                message: "not this one".into(),
            }),
        },
    )
    .await;
    let problem = expect_problem(inquiry.await.unwrap(), 400, ErrorId::NotSupported).await;
    assert!(
        problem.detail.contains("'web01'") && problem.detail.contains("not this one"),
        "{}",
        problem.detail
    );

    // Gone: listed as such, and inquiries say since when.
    channel.close(None).await.unwrap();
    let server = production_server_once(&t, id, AgentState::Disconnected).await;
    let last_seen = server.last_seen.expect("a disconnected agent was seen");
    assert!(
        (chrono::Utc::now() - last_seen).num_seconds().abs() < 60,
        "{last_seen}"
    );
    assert_eq!(server.agent_version, VERSION);
    let response = inquire(&t, &s, id).await.unwrap();
    let problem = expect_problem(response, 503, ErrorId::AgentUnreachable).await;
    let seen = last_seen.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    assert!(
        problem.detail.contains("'web01'")
            && problem.detail.contains("not connected")
            && problem.detail.contains(&format!("last seen at {seen}")),
        "{}",
        problem.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_of_another_version_or_protocol_is_refused() {
    let t = TestServer::start().await;
    let agent = attached(&t, "web01").await;
    let mut channel = open_channel(&t, &agent.credential).await.unwrap();
    say(&mut channel, &hello("0.0.1", "web01")).await;
    match next(&mut channel).await {
        Some(ServerMessage::Refused { message, retry }) => {
            assert!(!retry, "{message}");
            assert!(
                message.contains("rdpm 0.0.1") && message.contains(&format!("rdpm {VERSION}")),
                "{message}"
            );
        }
        other => panic!("an old agent's hello got {other:?}"),
    }
    assert_eq!(next(&mut channel).await, None, "the channel stays open");

    let mut channel = open_channel(&t, &agent.credential).await.unwrap();
    say(
        &mut channel,
        &AgentMessage::Hello {
            version: VERSION.into(),
            protocol: AGENT_PROTOCOL + 1,
            names: names("web01"),
        },
    )
    .await;
    match next(&mut channel).await {
        Some(ServerMessage::Refused { message, retry }) => {
            assert!(!retry, "{message}");
            assert!(
                message.contains(&format!("protocol {}", AGENT_PROTOCOL + 1)),
                "{message}"
            );
        }
        other => panic!("a hello of another protocol got {other:?}"),
    }
    assert_eq!(next(&mut channel).await, None, "the channel stays open");
    let server = production_server(&t, agent.production_server_id).await;
    assert_eq!(server.agent_state, AgentState::Disconnected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_must_say_hello_first_and_in_time() {
    let t = TestServer::start().await;
    let agent = attached(&t, "web01").await;
    let mut channel = open_channel(&t, &agent.credential).await.unwrap();
    say(
        &mut channel,
        &AgentMessage::Response {
            id: 1,
            result: AgentResult::Ok(AgentReply::Volumes { volumes: vec![] }),
        },
    )
    .await;
    match next(&mut channel).await {
        Some(ServerMessage::Refused { message, retry }) => {
            assert!(retry, "{message}");
            assert!(message.contains("must be a hello"), "{message}");
        }
        other => panic!("an answer before the hello got {other:?}"),
    }
    assert_eq!(next(&mut channel).await, None, "the channel stays open");

    let mut channel = open_channel(&t, &agent.credential).await.unwrap();
    channel.send(Message::text("hello, server")).await.unwrap();
    assert!(
        matches!(
            next(&mut channel).await,
            Some(ServerMessage::Refused { .. })
        ),
        "text that is no message was not refused"
    );

    // An agent that says nothing is dropped (within `next`'s patience).
    let started = Instant::now();
    let mut silent = open_channel(&t, &agent.credential).await.unwrap();
    assert_eq!(next(&mut silent).await, None);
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "dropped at once"
    );
    let server = production_server(&t, agent.production_server_id).await;
    assert_eq!(server.agent_state, AgentState::Disconnected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inquiry_waiting_on_a_channel_that_closes_fails_at_once() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let agent = attached(&t, "web01").await;
    let id = agent.production_server_id;
    let mut channel = connect(&t, &agent, "web01").await;
    let started = Instant::now();
    let inquiry = inquire(&t, &s, id);
    match next(&mut channel).await {
        Some(ServerMessage::Request { .. }) => {}
        other => panic!("the inquiry sent {other:?}"),
    }
    // Asked, and gone without an answer: the caller does not wait out
    // the request's timeout.
    channel.close(None).await.unwrap();
    let problem = expect_problem(inquiry.await.unwrap(), 503, ErrorId::AgentUnreachable).await;
    assert!(
        started.elapsed() < rdpm_engine::fleet::REQUEST_TIMEOUT / 3,
        "failed after {:?}",
        started.elapsed()
    );
    assert!(
        problem.detail.contains("'web01'")
            && problem
                .detail
                .contains("closed while the server waited for an answer"),
        "{}",
        problem.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_channel_of_an_agent_replaces_the_older() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let agent = attached(&t, "web01").await;
    let id = agent.production_server_id;
    let mut older = connect(&t, &agent, "web01").await;
    let mut newer = connect(&t, &agent, "web01").await;
    assert_eq!(next(&mut older).await, None, "the older channel stays open");
    // The older channel's end is not the agent's.
    let server = production_server(&t, id).await;
    assert_eq!(server.agent_state, AgentState::Connected);

    // An answer nobody asked for and a second hello change nothing.
    say(
        &mut newer,
        &AgentMessage::Response {
            id: 999,
            result: AgentResult::Ok(AgentReply::Volumes { volumes: vec![] }),
        },
    )
    .await;
    say(&mut newer, &hello(VERSION, "web01")).await;
    let inquiry = inquire(&t, &s, id);
    let request = match next(&mut newer).await {
        Some(ServerMessage::Request {
            id,
            request: AgentRequest::Volumes,
        }) => id,
        other => panic!("the inquiry sent {other:?}"),
    };
    say(
        &mut newer,
        &AgentMessage::Response {
            id: request,
            result: AgentResult::Ok(AgentReply::Volumes {
                volumes: vec![volume("/"), volume("/srv")],
            }),
        },
    )
    .await;
    let response = inquiry.await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let volumes: Vec<Datasource> = response.json().await.unwrap();
    let names: Vec<&str> = volumes.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["/", "/srv"]);
}
