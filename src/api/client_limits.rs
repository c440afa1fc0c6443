//! Slow and greedy clients (issue 9.4). actix bounds the time to read a request head
//! (`client_request_timeout`, set from `MUX_CLIENT_TIMEOUT_MS` in `startup`) but not the body:
//! a client that sends headers and then stalls would hold its connection as long as it liked.
//! Here, every request's body gets the same time again — past it the request is answered `408`
//! and the connection closed. And one address may hold at most `MUX_MAX_CONNECTIONS_PER_PEER`
//! connections: each connection is counted when accepted (`on_connect`) and uncounted when it
//! closes; one beyond the cap is answered `429` on its first request and closed.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Extensions, Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::Stream;
use ipnet::IpNet;
use tokio::time::Sleep;

use super::AppState;
use super::error::ApiError;
use crate::config::HttpConfig;

/// Open connections per peer address, shared by all HTTP workers.
#[derive(Clone)]
pub struct PeerConnections {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    cap: usize,
    exempt: Arc<Vec<IpNet>>,
}

/// Kept with a connection (its `conn_data`) while it is open; uncounts it when dropped.
pub struct PeerSlot {
    table: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
    /// This connection took the peer past the cap.
    over_cap: bool,
}

impl PeerConnections {
    pub fn new(cfg: &HttpConfig) -> PeerConnections {
        PeerConnections {
            open: Arc::default(),
            cap: cfg.max_connections_per_peer,
            exempt: Arc::new(cfg.connection_cap_exempt.clone()),
        }
    }

    /// `HttpServer::on_connect`: counts a new TCP connection against its peer.
    pub fn on_connect(&self, conn: &dyn std::any::Any, data: &mut Extensions) {
        let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        let ip = peer.ip().to_canonical();
        if self.cap == 0 || self.exempt.iter().any(|n| n.contains(&ip)) {
            return;
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        *count += 1;
        data.insert(PeerSlot {
            table: self.open.clone(),
            ip,
            over_cap: *count > self.cap,
        });
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// App-wide middleware: refuses a connection over its peer's cap, and bounds the body's time.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if req.conn_data::<PeerSlot>().is_some_and(|s| s.over_cap) {
        log::warn!(
            "event=peer_connection_cap peer={}",
            req.peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default()
        );
        let refusal = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections from this address",
        )
        .with_code("TOO_MANY_CONNECTIONS");
        return Ok(req.into_response(closing(&refusal)).map_into_right_body());
    }
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|s| Duration::from_millis(s.config.http.client_timeout_ms))
        .unwrap_or(Duration::from_secs(5));
    let timed_out = Rc::new(Cell::new(false));
    let body = Deadlined {
        inner: req.take_payload(),
        sleep: Box::pin(tokio::time::sleep(timeout)),
        timed_out: timed_out.clone(),
    };
    let body: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(body);
    req.set_payload(Payload::from(body));
    let res = next.call(req).await?;
    if !timed_out.get() {
        return Ok(res.map_into_left_body());
    }
    // Whatever the extractor made of the cut-off body, the client was too slow.
    log::warn!("event=request_body_timeout path={}", res.request().path());
    let timeout = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request body not received in time",
    )
    .with_code("REQUEST_TIMEOUT");
    let (req, _) = res.into_parts();
    Ok(ServiceResponse::new(req, closing(&timeout)).map_into_right_body())
}

/// The error's response with `Connection: close`.
fn closing(err: &ApiError) -> actix_web::HttpResponse {
    let mut res = err.error_response();
    res.head_mut().set_connection_type(ConnectionType::Close);
    res
}

/// A request body that ends with an error once its time is up.
struct Deadlined {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    timed_out: Rc<Cell<bool>>,
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.timed_out.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.timed_out.set(true);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request body not received in time",
            )))));
        }
        Poll::Pending
    }
}
