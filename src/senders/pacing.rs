//! Telegram pacing: about one message per second per chat, 20 per minute per group and a global
//! budget for the whole bot (Bot API FAQ; platforms.md §1.8), so that sends wait here instead of
//! earning 429s. The global budget is handed out round-robin over the tenants that are waiting:
//! one tenant's burst of 200 sends cannot hold another tenant's single send behind all of them.
//! Sends into one chat take turns in arrival order (a FIFO lock per chat), so their order holds.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedMutexGuard, mpsc, oneshot};
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::config::OutboundConfig;

/// How much of a send's deadline is kept for the platform call itself (see `Pacer::ready`).
pub const CALL_RESERVE: Duration = Duration::from_millis(250);

/// Telegram's group window.
const GROUP_WINDOW: Duration = Duration::from_secs(60);
/// Chats remembered before idle ones are forgotten (each entry is a few dozen bytes).
const CHAT_MAP_PRUNE_AT: usize = 4096;
/// The Retry-After offered when the deadline passes while waiting for the global budget; the
/// queue length is not known here, and one second is the budget's natural period.
const BUDGET_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Pacing state of one chat.
#[derive(Debug, Default)]
pub struct ChatPace {
    last: Option<Instant>,
    recent: VecDeque<Instant>,
}

/// A chat's turn: held from before the wait until the platform has answered.
pub type ChatTurn = OwnedMutexGuard<ChatPace>;

pub struct Pacer {
    enabled: bool,
    chat_interval: Duration,
    group_per_min: usize,
    budget: Option<GlobalBudget>,
    chats: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<ChatPace>>>>,
}

impl Pacer {
    /// Starts the global budget task when pacing is on; must run inside a tokio runtime.
    pub fn new(cfg: &OutboundConfig) -> Pacer {
        let enabled = cfg.telegram_pacing;
        Pacer {
            enabled,
            chat_interval: Duration::from_millis(cfg.telegram_chat_interval_ms),
            group_per_min: cfg.telegram_group_per_min as usize,
            budget: enabled.then(|| GlobalBudget::spawn(cfg.telegram_global_per_sec)),
            chats: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for this chat's turn (FIFO: tokio's mutex queues waiters in order).
    pub async fn chat_turn(&self, chat_id: i64) -> ChatTurn {
        let lock = {
            let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
            if chats.len() >= CHAT_MAP_PRUNE_AT {
                // Forget only chats nobody is sending to and that sent nothing within the group
                // window, so pacing state that still matters survives.
                chats.retain(|_, m| {
                    Arc::strong_count(m) > 1
                        || m.try_lock()
                            .map_or(true, |p| p.last.is_some_and(|t| t.elapsed() < GROUP_WINDOW))
                });
            }
            chats.entry(chat_id).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// Waits until the chat and the bot may send, or answers how long past the deadline the
    /// caller would have to wait. A call is only let go while [`CALL_RESERVE`] of the deadline
    /// is left for the call itself: one cut off by our own deadline after it was written would
    /// leave its outcome unknown (`504`), where waiting it out is an honest `429`.
    pub async fn ready(
        &self,
        turn: &mut ChatTurn,
        chat_id: i64,
        tenant: &Arc<str>,
        deadline: Instant,
    ) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        let deadline = deadline.checked_sub(CALL_RESERVE).unwrap_or(deadline);
        let now = Instant::now();
        let at = chat_ready_at(
            turn,
            chat_id < 0,
            self.chat_interval,
            self.group_per_min,
            now,
        );
        if at > deadline {
            return Err(at - now);
        }
        sleep_until(at).await;
        match &self.budget {
            Some(budget) => budget.acquire(tenant.clone(), deadline).await,
            None => Ok(()),
        }
    }

    /// Records a send into the chat (call after the platform accepted or refused it).
    pub fn sent(&self, turn: &mut ChatTurn) {
        let now = Instant::now();
        turn.last = Some(now);
        turn.recent.push_back(now);
        while turn
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= GROUP_WINDOW)
        {
            turn.recent.pop_front();
        }
    }

    /// Whether a best-effort call (a chat action) may go out right now: only when the global
    /// budget has a permit free that no waiting send wants and the bot is not paused. Never waits
    /// and never queues; the chat's own pace is not touched (a chat action is not a message, so
    /// the reply that follows it is not held back by it).
    pub async fn try_now(&self) -> bool {
        match &self.budget {
            None => true,
            Some(budget) => budget.try_acquire().await,
        }
    }

    /// A Telegram 429 pauses the whole bot until `until`, not only the chat that got it.
    pub fn pause(&self, until: Instant) {
        if let Some(budget) = &self.budget {
            let _ = budget.tx.send(Cmd::Pause(until));
        }
    }
}

/// When a chat may get its next message.
fn chat_ready_at(
    pace: &ChatPace,
    group: bool,
    interval: Duration,
    group_per_min: usize,
    now: Instant,
) -> Instant {
    let mut at = pace.last.map_or(now, |last| (last + interval).max(now));
    if group && group_per_min > 0 && pace.recent.len() >= group_per_min {
        let window_start = pace.recent[pace.recent.len() - group_per_min];
        at = at.max(window_start + GROUP_WINDOW);
    }
    at
}

enum Cmd {
    Ask(Arc<str>, oneshot::Sender<()>),
    /// A permit now or never: answered at once.
    TryAsk(oneshot::Sender<bool>),
    Pause(Instant),
}

/// The bot-wide budget: a task that hands out one permit per `1/per_sec` seconds.
struct GlobalBudget {
    tx: mpsc::UnboundedSender<Cmd>,
}

impl GlobalBudget {
    fn spawn(per_sec: u32) -> GlobalBudget {
        let (tx, rx) = mpsc::unbounded_channel();
        let interval = Duration::from_secs_f64(1.0 / f64::from(per_sec.max(1)));
        tokio::spawn(run_budget(rx, interval));
        GlobalBudget { tx }
    }

    async fn try_acquire(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::TryAsk(tx)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    async fn acquire(&self, tenant: Arc<str>, deadline: Instant) -> Result<(), Duration> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Ask(tenant, tx))
            .map_err(|_| BUDGET_RETRY_AFTER)?;
        match timeout_at(deadline, rx).await {
            Ok(Ok(())) => Ok(()),
            // Dropping `rx` here tells the task to skip this ask without spending a permit.
            _ => Err(BUDGET_RETRY_AFTER),
        }
    }
}

/// The budget task's state.
struct Budget {
    fair: Fair,
    next_free: Instant,
    paused_until: Instant,
    interval: Duration,
}

async fn run_budget(mut rx: mpsc::UnboundedReceiver<Cmd>, interval: Duration) {
    let mut b = Budget {
        fair: Fair::default(),
        next_free: Instant::now(),
        paused_until: Instant::now(),
        interval,
    };
    loop {
        if b.fair.is_empty() {
            match rx.recv().await {
                Some(cmd) => b.apply(cmd),
                None => return,
            }
            continue;
        }
        let now = Instant::now();
        let wake = b.next_free.max(b.paused_until);
        if wake <= now {
            if b.fair.grant() {
                b.next_free = now + interval;
            }
            continue;
        }
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(cmd) => b.apply(cmd),
                None => return,
            },
            _ = sleep_until(wake) => {}
        }
    }
}

impl Budget {
    fn apply(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Ask(tenant, tx) => self.fair.push(tenant, tx),
            Cmd::TryAsk(tx) => {
                let now = Instant::now();
                let free = self.fair.is_empty() && self.next_free.max(self.paused_until) <= now;
                // A permit is spent only if the asker is still there to use it.
                if tx.send(free).is_ok() && free {
                    self.next_free = now + self.interval;
                }
            }
            Cmd::Pause(until) => self.paused_until = self.paused_until.max(until),
        }
    }
}

/// Waiting asks per tenant, served round-robin.
#[derive(Default)]
struct Fair {
    queues: HashMap<Arc<str>, VecDeque<oneshot::Sender<()>>>,
    ring: VecDeque<Arc<str>>,
}

impl Fair {
    fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    fn push(&mut self, tenant: Arc<str>, tx: oneshot::Sender<()>) {
        let queue = self.queues.entry(tenant.clone()).or_default();
        if queue.is_empty() {
            self.ring.push_back(tenant);
        }
        queue.push_back(tx);
    }

    /// Grants one permit to the next tenant in turn; false if every waiter had given up.
    fn grant(&mut self) -> bool {
        while let Some(tenant) = self.ring.pop_front() {
            let Some(queue) = self.queues.get_mut(&tenant) else {
                continue;
            };
            let next = queue.pop_front();
            if queue.is_empty() {
                self.queues.remove(&tenant);
            } else {
                self.ring.push_back(tenant);
            }
            if next.is_some_and(|tx| tx.send(()).is_ok()) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_ask_is_served_before_a_long_queue_of_another_tenant() {
        let mut fair = Fair::default();
        let mut a_rx = Vec::new();
        for _ in 0..200 {
            let (tx, rx) = oneshot::channel();
            fair.push("a".into(), tx);
            a_rx.push(rx);
        }
        let (tx, mut b_rx) = oneshot::channel();
        fair.push("b".into(), tx);
        assert!(fair.grant());
        assert!(fair.grant());
        assert!(b_rx.try_recv().is_ok(), "b is served by the second permit");
        assert_eq!(
            a_rx.iter_mut()
                .map(|r| r.try_recv().is_ok())
                .filter(|ok| *ok)
                .count(),
            1
        );
    }

    #[test]
    fn asks_whose_caller_gave_up_cost_no_permit() {
        let mut fair = Fair::default();
        let (gone, _) = oneshot::channel();
        fair.push("a".into(), gone);
        let (tx, mut rx) = oneshot::channel();
        fair.push("b".into(), tx);
        assert!(fair.grant());
        assert!(rx.try_recv().is_ok());
        assert!(!fair.grant());
    }

    #[test]
    fn a_chat_waits_its_interval_and_a_group_its_minute_window() {
        let now = Instant::now();
        let mut pace = ChatPace::default();
        assert_eq!(
            chat_ready_at(&pace, false, Duration::from_secs(1), 20, now),
            now
        );
        pace.last = Some(now);
        assert_eq!(
            chat_ready_at(&pace, false, Duration::from_secs(1), 20, now),
            now + Duration::from_secs(1)
        );
        pace.recent = (0..20).map(|_| now).collect();
        assert_eq!(
            chat_ready_at(&pace, true, Duration::ZERO, 20, now),
            now + GROUP_WINDOW
        );
        assert_eq!(chat_ready_at(&pace, false, Duration::ZERO, 20, now), now);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_hands_out_permits_at_its_rate_and_honours_a_pause() {
        let budget = GlobalBudget::spawn(10);
        let deadline = Instant::now() + Duration::from_secs(5);
        let start = Instant::now();
        for _ in 0..3 {
            budget.acquire("a".into(), deadline).await.expect("permit");
        }
        assert_eq!(Instant::now() - start, Duration::from_millis(200));
        budget
            .tx
            .send(Cmd::Pause(Instant::now() + Duration::from_secs(2)))
            .ok();
        let short = Instant::now() + Duration::from_secs(1);
        assert_eq!(
            budget.acquire("a".into(), short).await,
            Err(BUDGET_RETRY_AFTER)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_try_takes_only_a_free_permit_and_never_waits() {
        let budget = GlobalBudget::spawn(10);
        assert!(budget.try_acquire().await, "the first permit is free");
        assert!(
            !budget.try_acquire().await,
            "the next is 100 ms away: no wait"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(budget.try_acquire().await);
        budget
            .tx
            .send(Cmd::Pause(Instant::now() + Duration::from_secs(2)))
            .ok();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!budget.try_acquire().await, "paused by a 429");
    }
}
