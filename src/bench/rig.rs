//! The test rig of one run: temp dir, fakes, the mux-server child, and provisioning of tenants
//! and bindings through the public API (admin API for tenants and pairing codes, each tenant
//! claiming its codes with its own key).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};

use actix_web::web::Bytes;
use mux_server::testkit::discord::{self, FakeDiscord};
use mux_server::testkit::openclaw::FakeOpenClaw;
use mux_server::testkit::telegram::{FakeTelegram, TOKEN as BOT_TOKEN};
use mux_server::testkit::whatsapp::{self, FakeWhatsApp};

use super::ledger::Ledger;
use super::platform::Platform;
use super::sends::Sends;
use super::server::{ServerProc, ServerSpec};

/// Concurrent requests while provisioning.
const PROVISION_CONCURRENCY: usize = 32;
pub(super) const ADMIN_TOKEN: &str = "mux-bench-admin-token-0123456789abcdef";

pub struct Tenant {
    pub index: usize,
    pub bearer: Arc<str>,
    /// Bound chats, numbered as in [`chat_id`]; the platform's route and session key of each:
    /// [`Platform::route`], [`Platform::session_key`].
    pub chats: Vec<i64>,
}

/// Cumulative Writer counters scraped from `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriterCounters {
    pub commits: f64,
    pub ops: f64,
    pub commit_s: f64,
}

impl WriterCounters {
    /// What the Writer did between `self` (earlier) and `later`, over `wall`.
    pub fn usage(
        &self,
        later: &WriterCounters,
        wall: std::time::Duration,
    ) -> super::stats::WriterUse {
        let commits = later.commits - self.commits;
        let ops = later.ops - self.ops;
        let secs = wall.as_secs_f64().max(1e-9);
        super::stats::WriterUse {
            commits_per_s: commits / secs,
            ops_per_commit: if commits > 0.0 { ops / commits } else { 0.0 },
            ms_per_commit: if commits > 0.0 {
                (later.commit_s - self.commit_s) * 1000.0 / commits
            } else {
                0.0
            },
            busy: (later.commit_s - self.commit_s) / secs,
        }
    }
}

pub fn chat_id(tenant: usize, j: usize) -> i64 {
    1_000_000 + (tenant as i64) * 16 + j as i64
}

pub struct Rig {
    pub dir: PathBuf,
    pub ledger: Arc<Ledger>,
    pub telegram: FakeTelegram,
    pub openclaw: FakeOpenClaw,
    /// The platform the run binds chats on and sends to (Telegram: the fake above).
    pub platform: Platform,
    pub discord: Option<FakeDiscord>,
    pub whatsapp: Option<FakeWhatsApp>,
    /// What reached the platform's fake, by message number.
    pub sends: Arc<Sends>,
    pub client: awc::Client,
    pub spec: ServerSpec,
    keep: bool,
}

pub struct RigOptions {
    pub server_bin: PathBuf,
    pub inbound: bool,
    pub platform: Platform,
    pub server_log: String,
    pub fake_workers: usize,
    pub keep: bool,
}

impl Rig {
    pub fn new(o: &RigOptions) -> Result<Rig> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("mux-bench-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let ledger = Arc::new(Ledger::default());
        let telegram = FakeTelegram::start(o.fake_workers)?;
        // A run sends and forwards far more than is worth keeping: the ledger keeps the count.
        telegram.recorder.set_recording(false);
        let openclaw = FakeOpenClaw::start(o.fake_workers)?;
        openclaw.set_recording(false);
        openclaw.observe(ledger_observer(ledger.clone()));
        let sends = Arc::new(Sends::default());
        let mut platform_vars: Vec<(&str, String)> = Vec::new();
        let (mut dc, mut wa) = (None, None);
        let recorder = match o.platform {
            Platform::Telegram => telegram.recorder.clone(),
            Platform::Discord => {
                let fake = FakeDiscord::start(o.fake_workers)?;
                // Outbound only: no gateway, no REST polling of the bound channels.
                platform_vars.extend([
                    ("DISCORD_BOT_TOKEN", discord::TOKEN.to_owned()),
                    ("MUX_DISCORD_API_BASE_URL", fake.api_url()),
                    ("MUX_DISCORD_INBOUND_ENABLED", "false".to_owned()),
                ]);
                let r = fake.recorder.clone();
                dc = Some(fake);
                r
            }
            Platform::WhatsApp => {
                let fake = FakeWhatsApp::start(o.fake_workers)?;
                platform_vars.extend([
                    (
                        "MUX_WHATSAPP_PHONE_NUMBER_ID",
                        whatsapp::PHONE_ID.to_owned(),
                    ),
                    ("MUX_WHATSAPP_ACCESS_TOKEN", whatsapp::TOKEN.to_owned()),
                    ("MUX_WHATSAPP_API_BASE_URL", fake.api_url()),
                    ("MUX_WHATSAPP_INBOUND_ENABLED", "false".to_owned()),
                ]);
                let r = fake.recorder.clone();
                wa = Some(fake);
                r
            }
        };
        recorder.set_recording(false);
        recorder.set_tap(sends.tap());
        let vars: Vec<(String, String)> = [
            ("MUX_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
            ("MUX_TELEGRAM_API_BASE_URL", telegram.base_url.clone()),
            ("MUX_TELEGRAM_PACING_ENABLED", "false".to_owned()),
            ("MUX_DISCORD_RATELIMIT_ENABLED", "false".to_owned()),
            ("MUX_TELEGRAM_INBOUND_ENABLED", o.inbound.to_string()),
            ("MUX_TELEGRAM_POLL_TIMEOUT_SEC", "2".to_owned()),
            ("MUX_TELEGRAM_BOOTSTRAP_LATEST", "false".to_owned()),
            ("MUX_INBOUND_URL_ALLOW", "127.0.0.1".to_owned()),
            ("MUX_LOG_FORMAT", "text".to_owned()),
            // The listening line (info, mux_server::startup) carries the port: keep it visible.
            (
                "RUST_LOG",
                format!("{},mux_server::startup=info", o.server_log),
            ),
        ]
        .into_iter()
        .chain(platform_vars)
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let spec = ServerSpec {
            bin: o.server_bin.clone(),
            dir: dir.clone(),
            vars,
        };
        let client = awc::Client::builder()
            .connector(awc::Connector::new().limit(PROVISION_CONCURRENCY * 2))
            .timeout(Duration::from_secs(60))
            .finish();
        Ok(Rig {
            dir,
            ledger,
            telegram,
            openclaw,
            platform: o.platform,
            discord: dc,
            whatsapp: wa,
            sends,
            client,
            spec,
            keep: o.keep,
        })
    }

    pub async fn start_server(&self) -> Result<ServerProc> {
        self.spec.start(&self.client).await
    }

    /// Makes text messages available on the fake Telegram: one update per `(tenant, chat)`,
    /// recorded in the ledger with the time it became available. Wakes waiting long polls.
    pub fn push_updates(&self, batch: &[(u32, i64)]) {
        let now = Instant::now();
        let updates: Vec<(i64, Bytes)> = batch
            .iter()
            .map(|&(tenant, chat)| {
                let id = self.ledger.push(tenant, now);
                let json = format!(
                    r#"{{"update_id":{id},"message":{{"message_id":{id},"date":1700000000,"chat":{{"id":{chat},"type":"private","first_name":"U"}},"from":{{"id":{chat},"is_bot":false,"first_name":"U"}},"text":"bench message {id}"}}}}"#
                );
                (id, Bytes::from(json))
            })
            .collect();
        self.telegram.push_raw(updates);
    }

    /// Creates `n` tenants (inbound target = their fake endpoint) and `per_tenant` bound chats each.
    pub async fn provision(
        &self,
        server: &ServerProc,
        n: usize,
        per_tenant: usize,
        timeout_ms: u64,
    ) -> Result<(Vec<Tenant>, Duration)> {
        let t0 = Instant::now();
        let base = server.base.as_str();
        let tenants: Vec<Tenant> = stream::iter(0..n)
            .map(|i| self.create_tenant(base, i, timeout_ms))
            .buffered(PROVISION_CONCURRENCY)
            .try_collect()
            .await?;
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (0..per_tenant).map(move |j| (i, j)))
            .collect();
        let tenants_ref = &tenants;
        stream::iter(pairs)
            .map(|(i, j)| async move {
                let t = tenants_ref.get(i).ok_or_else(|| anyhow!("tenant {i}"))?;
                self.bind(base, t, chat_id(i, j)).await
            })
            .buffer_unordered(PROVISION_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        let mut tenants = tenants;
        for t in &mut tenants {
            t.chats = (0..per_tenant).map(|j| chat_id(t.index, j)).collect();
        }
        Ok((tenants, t0.elapsed()))
    }

    async fn create_tenant(&self, base: &str, i: usize, timeout_ms: u64) -> Result<Tenant> {
        let id = format!("bench-{i:05}");
        let body = json!({"id": id, "name": id, "inboundUrl": self.openclaw.url(&i.to_string()),
                          "inboundToken": format!("inbound-token-{i}"), "inboundTimeoutMs": timeout_ms});
        let answer = self
            .post(
                &format!("{base}/v1/admin/tenants"),
                &format!("Bearer {ADMIN_TOKEN}"),
                &body,
                201,
            )
            .await?;
        let key = answer["apiKey"]
            .as_str()
            .ok_or_else(|| anyhow!("tenant create: no apiKey in {answer}"))?;
        Ok(Tenant {
            index: i,
            bearer: Arc::from(format!("Bearer {key}")),
            chats: Vec::new(),
        })
    }

    /// Base URL of the platform fake the run sends to.
    pub fn platform_base(&self) -> &str {
        match (self.platform, &self.discord, &self.whatsapp) {
            (Platform::Discord, Some(d), _) => &d.base_url,
            (Platform::WhatsApp, _, Some(w)) => &w.base_url,
            _ => &self.telegram.base_url,
        }
    }

    async fn bind(&self, base: &str, t: &Tenant, chat: i64) -> Result<()> {
        let code = format!("bench-code-{chat}");
        let (route, scope) = self.platform.route(chat);
        let seed = json!({"code": code, "channel": self.platform.channel(), "routeKey": route, "scope": scope});
        self.post(
            &format!("{base}/v1/admin/pairing-codes"),
            &format!("Bearer {ADMIN_TOKEN}"),
            &seed,
            0,
        )
        .await?;
        let claim = json!({"code": code, "sessionKey": self.platform.session_key(chat)});
        self.post(&format!("{base}/v1/pairings/claim"), &t.bearer, &claim, 200)
            .await?;
        Ok(())
    }

    /// POST JSON; `want` = expected status (0 = any 2xx).
    pub async fn post(&self, url: &str, auth: &str, body: &Value, want: u16) -> Result<Value> {
        let mut resp = self
            .client
            .post(url)
            .insert_header(("Authorization", auth))
            .send_json(body)
            .await
            .map_err(|e| anyhow!("POST {url}: {e}"))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body()
            .limit(1 << 20)
            .await
            .map_err(|e| anyhow!("POST {url}: body: {e}"))?;
        if (want == 0 && !(200..300).contains(&status)) || (want != 0 && status != want) {
            bail!(
                "POST {url} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// The Writer's counters from `/metrics` (group commits, ops, seconds spent committing).
    pub async fn writer_counters(&self, server: &ServerProc) -> WriterCounters {
        let url = format!("{}/metrics", server.base);
        let text = match self
            .client
            .get(&url)
            .insert_header(("Authorization", format!("Bearer {ADMIN_TOKEN}")))
            .send()
            .await
        {
            Ok(mut resp) => resp
                .body()
                .limit(8 << 20)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        let sample = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        WriterCounters {
            commits: sample("mux_writer_batch_size_count"),
            ops: sample("mux_writer_batch_size_sum"),
            commit_s: sample("mux_writer_commit_seconds_sum"),
        }
    }
}

/// Records every delivery attempt at the fake OpenClaw in the ledger: which update (from the
/// `tg:<update_id>` event id), for which tenant (its index in the path), accepted or not; and
/// counts envelopes whose `webhook-id` header differs from their `eventId`.
fn ledger_observer(ledger: Arc<Ledger>) -> mux_server::testkit::openclaw::Observer {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "eventId")]
        event_id: String,
    }
    Arc::new(move |tenant, req, body, accepted| {
        let at = Instant::now();
        let tenant: u32 = tenant.parse().unwrap_or(u32::MAX);
        let event_id = serde_json::from_slice::<Envelope>(body)
            .map(|e| e.event_id)
            .unwrap_or_default();
        let header_id = req
            .headers()
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if header_id != event_id {
            ledger
                .webhook_id_mismatch
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let update_id = event_id
            .strip_prefix("tg:")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(-1);
        ledger.record(update_id, tenant, accepted, at);
    })
}

/// The run's temp dir (database, server log) goes when the rig does, unless `--keep`. Scenario
/// functions declare the server after the rig, so the child is killed first.
impl Drop for Rig {
    fn drop(&mut self) {
        if self.keep {
            println!("kept run dir {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
