//! Redeeming a pairing token in a chat: the atomic claim behind contract §3.2, exercised through
//! the real Writer and Registry actors on a SQLite file (the ingress actors call the same
//! `RedeemToken` message).

use actix::{Actor, Addr};
use mux_server::actors::registry::{
    IssuePairingToken, RedeemToken, Registry, ResolveIncoming, ResolveRoute,
};
use mux_server::actors::writer::{CloseWriter, Writer, WriterThread};
use mux_server::config::TenantSeed;
use mux_server::db::{self, op::WriteOp, pairing::Redeemed, tenants::SeedTenants};
use mux_server::domain::{Channel, RouteKey, hash_secret};
use mux_server::time::now_ms;
use secrecy::SecretString;
use std::sync::Arc;
use tempfile::TempDir;

struct Actors {
    registry: Addr<Registry>,
    writer: Addr<Writer>,
    thread: WriterThread,
}

fn start(dir: &TempDir) -> Actors {
    let path = dir.path().join("mux.sqlite");
    let mut conn = db::open_writer(&path).expect("open");
    let seeds = ["tenant-a", "tenant-b"]
        .iter()
        .map(|id| TenantSeed {
            id: id.to_string(),
            name: id.to_string(),
            api_key: SecretString::from(format!("key-{id}")),
            inbound: None,
        })
        .collect();
    SeedTenants {
        seeds,
        now_ms: now_ms(),
    }
    .apply(&mut conn)
    .expect("seed");
    let loaded = db::load::load_all(&mut conn).expect("load");
    let (writer, thread) = Writer::spawn(conn).expect("writer");
    let writer = writer.start();
    let registry = Registry::new(writer.clone(), loaded).start();
    Actors {
        registry,
        writer,
        thread,
    }
}

impl Actors {
    async fn stop(self) {
        self.writer.send(CloseWriter).await.expect("close");
        self.thread.join();
    }

    async fn issue(
        &self,
        tenant: &str,
        channel: Channel,
        session: Option<&str>,
        dm: Option<&str>,
    ) -> String {
        self.registry
            .send(IssuePairingToken {
                tenant_id: Arc::from(tenant),
                channel,
                session_key: session.map(str::to_owned),
                dm_route: dm.map(|r| RouteKey::parse(r).expect("route")),
                ttl_sec: 60,
            })
            .await
            .expect("mailbox")
            .expect("issued")
            .token
    }

    async fn redeem(&self, token: &str, route: &str) -> Redeemed {
        self.registry
            .send(RedeemToken {
                token: token.to_owned(),
                route_key: RouteKey::parse(route).expect("route"),
            })
            .await
            .expect("mailbox")
            .expect("store")
    }

    /// The route key names its channel; `_channel` keeps the call sites readable.
    async fn incoming(&self, _channel: Channel, route: &str) -> Option<String> {
        self.registry
            .send(ResolveIncoming {
                route_keys: vec![RouteKey::parse(route).expect("route")],
            })
            .await
            .expect("mailbox")
            .map(|b| b.tenant_id.to_string())
    }
}

const TG_CHAT: &str = "telegram:default:chat:-1001";
const TG_TOPIC: &str = "telegram:default:chat:-1001:topic:7";

#[actix_web::test]
async fn a_valid_token_binds_the_chat_to_its_tenant_with_the_tokens_session_key() {
    let dir = tempfile::tempdir().expect("dir");
    let actors = start(&dir);
    let token = actors
        .issue("tenant-a", Channel::Telegram, Some("agent:main:tg"), None)
        .await;
    let Redeemed::Paired { binding, route } = actors.redeem(&token, TG_CHAT).await else {
        panic!("expected Paired");
    };
    assert_eq!(
        (&*binding.tenant_id, binding.route_key.to_string().as_str()),
        ("tenant-a", TG_CHAT)
    );
    assert_eq!(
        (binding.scope.as_str(), binding.session_key.as_str()),
        ("chat", "agent:main:tg")
    );
    assert_eq!(route.binding_id, binding.binding_id);
    assert_eq!(
        actors.incoming(Channel::Telegram, TG_CHAT).await.as_deref(),
        Some("tenant-a")
    );
    let routed = actors
        .registry
        .send(ResolveRoute {
            tenant_id: Arc::from("tenant-a"),
            channel: Channel::Telegram,
            session_key: "agent:main:tg".into(),
        })
        .await
        .expect("mailbox");
    assert_eq!(
        routed.map(|b| b.route_key.to_string()),
        Some(TG_CHAT.to_owned())
    );
    let other_tenant = actors
        .registry
        .send(ResolveRoute {
            tenant_id: Arc::from("tenant-b"),
            channel: Channel::Telegram,
            session_key: "agent:main:tg".into(),
        })
        .await
        .expect("mailbox");
    assert!(other_tenant.is_none(), "tenant B cannot reach A's chat");
    actors.stop().await;
}

#[actix_web::test]
async fn without_a_session_key_the_derived_one_is_used_and_topics_get_their_own_scope() {
    let dir = tempfile::tempdir().expect("dir");
    let actors = start(&dir);
    let token = actors
        .issue("tenant-b", Channel::Telegram, None, None)
        .await;
    let Redeemed::Paired { binding, .. } = actors.redeem(&token, TG_TOPIC).await else {
        panic!("expected Paired");
    };
    assert_eq!(binding.scope.as_str(), "topic");
    assert_eq!(binding.session_key, "tg:group:-1001:thread:7");
    assert_eq!(
        actors.incoming(Channel::Telegram, TG_CHAT).await,
        None,
        "only the topic is bound"
    );
    actors.stop().await;
}

#[actix_web::test]
async fn a_token_works_once_and_never_in_a_bound_chat() {
    let dir = tempfile::tempdir().expect("dir");
    let actors = start(&dir);
    let first = actors
        .issue("tenant-a", Channel::Telegram, None, None)
        .await;
    assert!(matches!(
        actors.redeem(&first, TG_CHAT).await,
        Redeemed::Paired { .. }
    ));
    assert_eq!(
        actors.redeem(&first, "telegram:default:chat:2").await,
        Redeemed::Invalid,
        "used"
    );

    // B's token posted in A's chat is ignored and stays usable elsewhere.
    let b_token = actors
        .issue("tenant-b", Channel::Telegram, None, None)
        .await;
    assert_eq!(
        actors.redeem(&b_token, TG_CHAT).await,
        Redeemed::AlreadyBound
    );
    assert_eq!(
        actors.incoming(Channel::Telegram, TG_CHAT).await.as_deref(),
        Some("tenant-a")
    );
    assert!(matches!(
        actors.redeem(&b_token, "telegram:default:chat:3").await,
        Redeemed::Paired { .. }
    ));
    actors.stop().await;
}

#[actix_web::test]
async fn unknown_expired_and_other_channel_tokens_are_invalid() {
    let dir = tempfile::tempdir().expect("dir");
    let actors = start(&dir);
    assert_eq!(
        actors
            .redeem("mpt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TG_CHAT)
            .await,
        Redeemed::Invalid
    );
    let wa = actors
        .issue("tenant-a", Channel::Whatsapp, None, None)
        .await;
    assert_eq!(
        actors.redeem(&wa, TG_CHAT).await,
        Redeemed::Invalid,
        "whatsapp token in telegram"
    );
    let expired = "mpt_expiredexpiredexpiredexpired";
    let now = now_ms();
    actors
        .writer
        .send(db::pairing::InsertPairingToken {
            token_hash: hash_secret(expired),
            tenant_id: "tenant-a".into(),
            channel: Channel::Telegram,
            session_key: None,
            route_key: None,
            pending: None,
            created_at_ms: now - 10_000,
            expires_at_ms: now - 1,
        })
        .await
        .expect("mailbox")
        .expect("insert");
    assert_eq!(actors.redeem(expired, TG_CHAT).await, Redeemed::Invalid);
    assert_eq!(actors.incoming(Channel::Telegram, TG_CHAT).await, None);
    actors.stop().await;
}

#[actix_web::test]
async fn a_discord_dm_token_activates_its_pending_binding_only_in_that_dm() {
    let dir = tempfile::tempdir().expect("dir");
    let actors = start(&dir);
    let dm = "discord:default:dm:user:42";
    let token = actors
        .issue("tenant-a", Channel::Discord, Some("dc-session"), Some(dm))
        .await;
    assert_eq!(
        actors.incoming(Channel::Discord, dm).await,
        None,
        "pending is not active"
    );
    assert_eq!(
        actors.redeem(&token, "discord:default:dm:user:43").await,
        Redeemed::Invalid
    );
    let Redeemed::Paired { binding, .. } = actors.redeem(&token, dm).await else {
        panic!("expected Paired");
    };
    assert_eq!(
        (binding.scope.as_str(), binding.session_key.as_str()),
        ("dm", "dc-session")
    );
    assert_eq!(
        actors.incoming(Channel::Discord, dm).await.as_deref(),
        Some("tenant-a")
    );
    actors.stop().await;
}

#[actix_web::test]
async fn a_discord_token_without_route_binds_the_guild_channel_it_is_posted_in() {
    let dir = tempfile::tempdir().expect("dir");
    let actors = start(&dir);
    let token = actors.issue("tenant-b", Channel::Discord, None, None).await;
    let route = "discord:default:guild:10:channel:20";
    let Redeemed::Paired { binding, .. } = actors.redeem(&token, route).await else {
        panic!("expected Paired");
    };
    assert_eq!(
        (binding.scope.as_str(), binding.session_key.as_str()),
        ("channel", "dc:guild:10:channel:20")
    );
    actors.stop().await;
}

#[actix_web::test]
async fn racing_redeems_of_one_token_bind_exactly_one_chat() {
    let dir = tempfile::tempdir().expect("dir");
    let actors = start(&dir);
    let token = actors
        .issue("tenant-a", Channel::Telegram, None, None)
        .await;
    let results = futures_util::future::join_all((1..=8).map(|i| {
        let route = format!("telegram:default:chat:{i}");
        let actors = &actors;
        let token = token.clone();
        async move { actors.redeem(&token, &route).await }
    }))
    .await;
    let paired = results
        .iter()
        .filter(|r| matches!(r, Redeemed::Paired { .. }))
        .count();
    assert_eq!(paired, 1);
    actors.stop().await;
}

#[actix_web::test]
async fn consumed_tokens_and_bindings_survive_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let actors = start(&dir);
    let token = actors
        .issue("tenant-a", Channel::Whatsapp, None, None)
        .await;
    let chat = "whatsapp:default:chat:4915112345678@s.whatsapp.net";
    assert!(matches!(
        actors.redeem(&token, chat).await,
        Redeemed::Paired { .. }
    ));
    actors.stop().await;

    let actors = start(&dir);
    assert_eq!(
        actors.incoming(Channel::Whatsapp, chat).await.as_deref(),
        Some("tenant-a")
    );
    assert_eq!(
        actors
            .redeem(&token, "whatsapp:default:chat:4915100000000@s.whatsapp.net")
            .await,
        Redeemed::Invalid
    );
    actors.stop().await;
}
