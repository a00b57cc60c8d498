//! The connection loop: accepts connections up to a cap, and closes those
//! that bring no request in time, so that idle or half-sent connections of
//! any local process cannot take every file descriptor or every slot.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use crate::error::ServerError;

/// How the server treats its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a connection may take to bring a complete request head
    /// once the server waits for one: a new connection that sends nothing,
    /// a kept-alive connection between requests, and a request head sent
    /// slowly are all closed after this. HTTP/2 connections are pinged at
    /// this interval and closed when a ping goes unanswered.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the listen queue until one
    /// closes, and the server logs that the cap is reached.
    pub max_connections: usize,
    /// How often the server pings each agent's channel; a channel silent
    /// for three times this long is dropped, by the server and by the
    /// agent, and the agent connects again.
    pub agent_keepalive: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            idle_timeout: ConnectionLimits::DEFAULT_IDLE_TIMEOUT,
            max_connections: ConnectionLimits::DEFAULT_MAX_CONNECTIONS,
            agent_keepalive: ConnectionLimits::DEFAULT_AGENT_KEEPALIVE,
        }
    }
}

impl ConnectionLimits {
    /// Default [`ConnectionLimits::idle_timeout`]: 60 s, longer than the
    /// 30 s a client keeps an idle connection, so that the server does not
    /// close a connection a client is about to reuse.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default [`ConnectionLimits::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// Default [`ConnectionLimits::agent_keepalive`]: a cut is noticed
    /// within 45 s.
    pub const DEFAULT_AGENT_KEEPALIVE: Duration = Duration::from_secs(15);

    pub(crate) fn validate(&self) -> Result<(), ServerError> {
        if self.idle_timeout < Duration::from_millis(100) {
            return Err(ServerError::InvalidConfig(format!(
                "the connection idle timeout ({:?}) is below the minimum of 100 ms",
                self.idle_timeout
            )));
        }
        if self.agent_keepalive < Duration::from_millis(100) {
            return Err(ServerError::InvalidConfig(format!(
                "the agent keepalive ({:?}) is below the minimum of 100 ms",
                self.agent_keepalive
            )));
        }
        if self.max_connections == 0 {
            return Err(ServerError::InvalidConfig(
                "the connection cap is 0: no request could be served".into(),
            ));
        }
        Ok(())
    }
}

/// How long a request body may take to arrive, as the connection loop
/// tells the body extractors (a request extension): a body sent slowly, or
/// announced and never sent, holds a connection like a slow head would.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeout(pub(crate) Duration);

/// How long an unanswered HTTP/2 keep-alive ping keeps a connection open.
const PING_TIMEOUT: Duration = Duration::from_secs(20);
/// At most one "cap reached" (or accept failure) log line per this period.
const LOG_PERIOD: Duration = Duration::from_secs(10);

/// The HTTP/2 connection preface, which tells the two protocols apart.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A log line at most once per [`LOG_PERIOD`], with how many times it was due.
struct RateLimited {
    last: Option<Instant>,
    missed: u64,
}

impl RateLimited {
    fn due(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < LOG_PERIOD)
        {
            self.missed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.missed))
    }
}

/// Serves `app` on `listener` until `stopped`; then stops accepting, asks
/// open connections to finish and waits for them (the caller bounds how
/// long).
pub(crate) async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: ConnectionLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    metrics: Arc<crate::metrics::Metrics>,
    stopped: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.idle_timeout)
        .keep_alive_timeout(PING_TIMEOUT);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut cap_log = RateLimited {
        last: None,
        missed: 0,
    };
    let mut accept_log = RateLimited {
        last: None,
        missed: 0,
    };
    loop {
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if let Some(missed) = cap_log.due() {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        times_since_last_line = missed,
                        "the connection cap is reached: new connections wait until one closes \
                         (idle connections close after {:?})",
                        limits.idle_timeout
                    );
                }
                tokio::select! {
                    permit = Arc::clone(&slots).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    () = wait_for_stop(stopped.clone()) => break,
                }
            }
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: the connections that hold
                    // them close by themselves; try again shortly.
                    if let Some(missed) = accept_log.due() {
                        tracing::warn!(error = %e, times_since_last_line = missed, "cannot accept a connection");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = wait_for_stop(stopped.clone()) => break,
        };
        // Responses go out as soon as they are written: with Nagle's
        // algorithm a small write behind an unacknowledged one (the TLS
        // session tickets, then the response) waits for the client's
        // delayed acknowledgement, some 40 ms on Linux.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%remote, error = %e, "cannot turn Nagle's algorithm off");
        }
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        let app = app.clone();
        let tls = tls.clone();
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            let _permit = permit;
            // The TLS handshake counts against the same idle timeout as the
            // first bytes of a request: a client that stalls in it holds a
            // slot like one that sends nothing.
            let opened = async {
                match tls {
                    Some(acceptor) => {
                        if plain_http_on_tls(&stream).await? {
                            answer_plain_http(stream).await;
                            return Err(std::io::Error::other("plain HTTP on an HTTPS listener"));
                        }
                        match acceptor.accept(stream).await {
                            Ok(stream) => {
                                metrics.tls_handshake(matches!(
                                    stream.get_ref().1.handshake_kind(),
                                    Some(rustls::HandshakeKind::Resumed)
                                ));
                                preface(Connection::Tls(Box::new(stream))).await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    None => preface(Connection::Plain(stream)).await,
                }
            };
            let io = match tokio::time::timeout(limits.idle_timeout, opened).await {
                Ok(Ok(io)) => io,
                Ok(Err(e)) => {
                    tracing::debug!(%remote, error = %e, "connection closed before a request");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%remote, "connection sent no request in time; closed");
                    return;
                }
            };
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(remote));
                    request
                        .extensions_mut()
                        .insert(BodyTimeout(limits.idle_timeout));
                    tower::Service::call(&mut app.clone(), request)
                },
            );
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Whether a connection to the HTTPS listener opens in plain HTTP: its
/// first byte is a letter (a method such as `GET`) where a TLS handshake
/// record starts with 0x16.
async fn plain_http_on_tls(stream: &TcpStream) -> std::io::Result<bool> {
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await?;
    Ok(n == 1 && first[0].is_ascii_uppercase())
}

/// Answers a plain-HTTP request on the HTTPS listener with a 400 that says
/// what to change, instead of TLS bytes the client cannot read, and
/// closes. Nothing of the request is read or served.
async fn answer_plain_http(mut stream: TcpStream) {
    let problem = rdpm_types::Problem::new(
        rdpm_types::ErrorId::InvalidRequest,
        "This server speaks HTTPS only on this address, and the request came in plain HTTP: \
         use https:// in the server's URL.",
    );
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: {}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        rdpm_types::PROBLEM_CONTENT_TYPE,
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads the first bytes of a connection, enough to tell HTTP/1 from the
/// HTTP/2 preface (hyper-util's own detection waits for them without a
/// limit), and hands them back in front of the rest.
async fn preface(mut stream: Connection) -> std::io::Result<Prefixed> {
    let mut head = Vec::with_capacity(H2_PREFACE.len());
    let mut buf = [0u8; 24];
    while head.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(&head) {
        let n = stream
            .read(&mut buf[..H2_PREFACE.len() - head.len()])
            .await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(Prefixed {
        head,
        read: 0,
        stream,
    })
}

/// An accepted connection: plain, or after its TLS handshake.
enum Connection {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Connection::Plain(s) => s.is_write_vectored(),
            Connection::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A connection whose first bytes were read already.
struct Prefixed {
    head: Vec<u8>,
    read: usize,
    stream: Connection,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.read < this.head.len() {
            let rest = &this.head[this.read..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.read += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Completes once `stopped` says stop (or its sender is gone).
pub(crate) async fn wait_for_stop(mut stopped: watch::Receiver<bool>) {
    // An error means the sender is gone, which is a stop too.
    let _ = stopped.wait_for(|stop| *stop).await;
}
