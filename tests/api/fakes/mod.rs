//! Local fakes of the platforms and of tenants' OpenClaw, speaking the real wire formats on
//! 127.0.0.1 random ports. Each records what it receives for the test to inspect.

pub mod discord;
pub mod graph;
pub mod openclaw;
pub mod telegram;

use std::time::Duration;

/// Waits (bounded) until `cond` holds; panics with `what` if it never does. Not a timing
/// assertion: the bound only keeps a broken build from hanging CI.
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut cond: F) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Binds an actix-web app on 127.0.0.1:0 in the current system; returns its base URL.
pub fn serve<F, I, B>(factory: F) -> (String, actix_web::dev::ServerHandle)
where
    F: Fn() -> actix_web::App<I> + Send + Clone + 'static,
    I: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake");
    let port = listener.local_addr().expect("addr").port();
    let server = actix_web::HttpServer::new(factory)
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}
