//! The Writer: the only owner of the SQLite write connection.
//!
//! Callers send typed messages (each a `WriteOp`) to the actor; the actor hands them to the
//! writer's own OS thread, which drains its queue and commits everything it took in one
//! transaction (group commit): the fsync that makes a batch durable is paid once per batch, not
//! once per message. Each op runs inside its own savepoint (or, for a one-statement op, SQLite's
//! own statement rollback), so one op's failure (a unique violation, say) rolls back only that
//! op. Replies go out only after the batch has committed —
//! a caller that sees `Ok` holds a durable write.
//!
//! Before each commit, and every second while idle, the thread checks that the database file
//! and its WAL are still the files it opened (`db::files`): once one is deleted or replaced, a
//! commit would be acknowledged and then lost, so every write is refused from then on (503, and
//! `/ready` says why) until the service is restarted.

use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use actix::prelude::*;
use diesel::connection::Connection;
use diesel::sqlite::SqliteConnection;
use tokio::sync::oneshot;

use crate::db::files::{FileGuard, StoreFiles};
use crate::db::op::WriteOp;
use crate::error::StoreError;
use crate::metrics::Metrics;

/// Most ops committed in one transaction. Bounds how long one commit holds the write lock and
/// how much a failed commit has to report; at ~1 µs per small insert it is far from the fsync.
const MAX_BATCH: usize = 1024;

/// How often an idle writer checks that its files are still there.
const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

trait Job: Send {
    /// Runs the op in a savepoint and returns how to answer once the batch's fate is known.
    fn run(self: Box<Self>, conn: &mut SqliteConnection) -> Box<dyn Reply>;
    /// The batch never ran (the transaction could not start).
    fn fail(self: Box<Self>, err: StoreError);
}

trait Reply: Send {
    fn send(self: Box<Self>, committed: &Result<(), StoreError>);
}

struct OpJob<M: WriteOp> {
    op: M,
    tx: oneshot::Sender<Result<M::Output, StoreError>>,
}

struct OpReply<T> {
    result: Result<T, StoreError>,
    tx: oneshot::Sender<Result<T, StoreError>>,
}

impl<M: WriteOp> Job for OpJob<M> {
    fn run(self: Box<Self>, conn: &mut SqliteConnection) -> Box<dyn Reply> {
        let OpJob { op, tx } = *self;
        // Nested `transaction` inside the batch transaction is a SAVEPOINT; a one-statement op
        // needs none (SQLite rolls a failed statement back by itself).
        let result = if M::ONE_STATEMENT {
            op.apply(conn)
        } else {
            conn.transaction(|c| op.apply(c))
        };
        Box::new(OpReply { result, tx })
    }

    fn fail(self: Box<Self>, err: StoreError) {
        let _ = self.tx.send(Err(err));
    }
}

impl<T: Send> Reply for OpReply<T> {
    fn send(self: Box<Self>, committed: &Result<(), StoreError>) {
        let answer = match committed {
            Ok(()) => self.result,
            Err(e) => Err(e.clone()),
        };
        // The caller may have gone away (request cancelled); the write stands either way.
        let _ = self.tx.send(answer);
    }
}

/// Handle to the writer thread, kept by whoever shuts the service down.
pub struct WriterThread(JoinHandle<()>);

impl WriterThread {
    /// Waits until the thread has committed everything it was given and closed the connection.
    pub fn join(self) {
        if self.0.join().is_err() {
            log::error!("event=writer_thread_panicked");
        }
    }
}

/// The actor. Its state is the sending half of the writer thread's queue.
pub struct Writer {
    queue: Option<mpsc::Sender<Box<dyn Job>>>,
}

impl Writer {
    /// Moves the (already migrated) connection onto the writer thread and returns the actor.
    pub fn spawn(conn: SqliteConnection) -> Result<(Writer, WriterThread), StoreError> {
        Writer::spawn_with_metrics(conn, Arc::new(Metrics::new()), None)
    }

    /// As `spawn`, counting each batch's size and commit time in `metrics`, and refusing writes
    /// once `files` (the database and WAL the connection opened) are deleted or replaced.
    pub fn spawn_with_metrics(
        conn: SqliteConnection,
        metrics: Arc<Metrics>,
        files: Option<StoreFiles>,
    ) -> Result<(Writer, WriterThread), StoreError> {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let guard = FileGuard::new(files);
        let handle = std::thread::Builder::new()
            .name("mux-writer".into())
            .spawn(move || writer_loop(conn, rx, &metrics, guard))
            .map_err(|e| StoreError::Unavailable(format!("cannot start writer thread: {e}")))?;
        Ok((Writer { queue: Some(tx) }, WriterThread(handle)))
    }
}

fn writer_loop(
    mut conn: SqliteConnection,
    rx: mpsc::Receiver<Box<dyn Job>>,
    metrics: &Metrics,
    mut guard: FileGuard,
) {
    loop {
        let first = match rx.recv_timeout(FILE_CHECK_INTERVAL) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = guard.check(&mut conn);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = guard.check(&mut conn) {
            for job in batch {
                job.fail(e.clone());
            }
            continue;
        }
        let (size, started) = (batch.len(), std::time::Instant::now());
        commit_batch(&mut conn, batch);
        metrics.writer_batch(size, started.elapsed());
    }
    log::info!("event=writer_stopped");
}

/// One transaction for the whole batch; replies after the commit.
fn commit_batch(conn: &mut SqliteConnection, mut batch: Vec<Box<dyn Job>>) {
    let size = batch.len();
    let mut replies: Vec<Box<dyn Reply>> = Vec::with_capacity(size);
    let committed = conn
        .immediate_transaction(|c| {
            for job in batch.drain(..) {
                replies.push(job.run(c));
            }
            Ok::<(), diesel::result::Error>(())
        })
        .map_err(StoreError::from);
    if let Err(e) = &committed {
        log::error!("event=writer_commit_failed batch={size} error={e}");
    }
    // Jobs still in `batch` never ran: BEGIN itself failed (locked, read-only, full disk).
    for job in batch {
        job.fail(
            committed.clone().err().unwrap_or_else(|| {
                StoreError::Unavailable("write transaction did not start".into())
            }),
        );
    }
    for reply in replies {
        reply.send(&committed);
    }
}

impl Actor for Writer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Many request handlers talk to the writer at once; the mailbox is only a hand-off.
        ctx.set_mailbox_capacity(4096);
    }
}

impl<M> Handler<M> for Writer
where
    M: WriteOp + Message<Result = Result<<M as WriteOp>::Output, StoreError>>,
{
    type Result = ResponseFuture<Result<M::Output, StoreError>>;

    fn handle(&mut self, op: M, _: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let queued = match &self.queue {
            Some(q) => q.send(Box::new(OpJob { op, tx })).is_ok(),
            None => false,
        };
        Box::pin(async move {
            if !queued {
                return Err(StoreError::Unavailable("writer is shutting down".into()));
            }
            rx.await
                .unwrap_or_else(|_| Err(StoreError::Unavailable("writer stopped".into())))
        })
    }
}

/// Stops taking new work; the thread commits what it holds and exits (see `WriterThread::join`).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseWriter;

impl Handler<CloseWriter> for Writer {
    type Result = ();

    fn handle(&mut self, _: CloseWriter, ctx: &mut Self::Context) {
        self.queue = None;
        ctx.stop();
    }
}

/// Writes one row: answers whether the database takes writes right now (`/ready`). An empty
/// transaction would not do: it writes nothing, so it succeeds on a full disk.
pub struct Ping;

impl WriteOp for Ping {
    type Output = ();
    fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        crate::db::probe(conn)
    }
}
crate::write_message!(Ping);

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use diesel::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::db::{self, audit, schema::audit_log};

    /// Inserts one audit row; fails after inserting when `fail` is set.
    struct Note {
        action: String,
        fail: bool,
    }

    impl WriteOp for Note {
        type Output = ();
        fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
            audit::record(conn, 1, None, audit::Actor::System, &self.action, json!({}))?;
            if self.fail {
                return Err(StoreError::Conflict("refused"));
            }
            Ok(())
        }
    }
    crate::write_message!(Note);

    fn note(action: &str, fail: bool) -> Note {
        Note {
            action: action.to_owned(),
            fail,
        }
    }

    fn start(dir: &tempfile::TempDir) -> (Addr<Writer>, WriterThread) {
        let conn = db::open_writer(&dir.path().join("w.sqlite")).unwrap();
        let (writer, thread) = Writer::spawn(conn).unwrap();
        (writer.start(), thread)
    }

    fn actions(dir: &tempfile::TempDir) -> Vec<String> {
        let mut conn = db::open_writer(&dir.path().join("w.sqlite")).unwrap();
        audit_log::table
            .select(audit_log::action)
            .order(audit_log::id)
            .load(&mut conn)
            .unwrap()
    }

    #[actix_rt::test]
    async fn a_failing_op_rolls_back_alone_and_its_batch_mates_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, thread) = start(&dir);
        let (a, b, c) = futures_util::join!(
            writer.send(note("a", false)),
            writer.send(note("b", true)),
            writer.send(note("c", false)),
        );
        assert_eq!(a.unwrap(), Ok(()));
        assert_eq!(b.unwrap(), Err(StoreError::Conflict("refused")));
        assert_eq!(c.unwrap(), Ok(()));
        writer.send(CloseWriter).await.unwrap();
        thread.join();
        assert_eq!(actions(&dir), vec!["a", "c"]);
    }

    #[actix_rt::test]
    async fn closing_commits_what_was_queued_and_refuses_later_work() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, thread) = start(&dir);
        let pending: Vec<_> = (0..50)
            .map(|i| writer.send(note(&format!("n{i}"), false)))
            .collect();
        let results = futures_util::future::join_all(pending).await;
        writer.send(CloseWriter).await.unwrap();
        thread.join();
        assert!(results.into_iter().all(|r| r.unwrap().is_ok()));
        assert_eq!(actions(&dir).len(), 50);
        assert!(writer.send(note("late", false)).await.is_err());
    }

    /// Inserts a cursor row as one statement without a savepoint; a second with the same
    /// channel violates the primary key.
    struct Cursor(&'static str);

    impl WriteOp for Cursor {
        type Output = ();
        const ONE_STATEMENT: bool = true;
        fn apply(self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
            diesel::sql_query(
                "INSERT INTO ingress_offsets (channel, scope_key, cursor, updated_at_ms) VALUES (?, '', '', 0)",
            )
            .bind::<diesel::sql_types::Text, _>(self.0)
            .execute(conn)?;
            Ok(())
        }
    }
    crate::write_message!(Cursor);

    #[actix_rt::test]
    async fn a_failing_one_statement_op_rolls_back_alone_without_a_savepoint() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, thread) = start(&dir);
        let (a, dup, b, note_after) = futures_util::join!(
            writer.send(Cursor("a")),
            writer.send(Cursor("a")),
            writer.send(Cursor("b")),
            writer.send(note("after", false)),
        );
        assert_eq!(a.unwrap(), Ok(()));
        assert!(dup.unwrap().is_err(), "the duplicate is refused");
        assert_eq!(b.unwrap(), Ok(()));
        assert_eq!(note_after.unwrap(), Ok(()));
        writer.send(CloseWriter).await.unwrap();
        thread.join();
        let mut conn = db::open_writer(&dir.path().join("w.sqlite")).unwrap();
        let channels: Vec<String> = crate::db::schema::ingress_offsets::table
            .select(crate::db::schema::ingress_offsets::channel)
            .order(crate::db::schema::ingress_offsets::channel)
            .load(&mut conn)
            .unwrap();
        assert_eq!(channels, vec!["a", "b"]);
        assert_eq!(actions(&dir), vec!["after"]);
    }

    /// Commit throughput of small inserts, batched (many callers at once, group commit) versus
    /// unbatched (one caller, one commit each). Run with
    /// `cargo test --release --lib writer_throughput -- --ignored --nocapture`.
    #[actix_rt::test]
    #[ignore]
    async fn writer_throughput() {
        const N: usize = 5_000;
        let dir = tempfile::tempdir().unwrap();
        let (writer, thread) = start(&dir);
        let t = Instant::now();
        for i in 0..N / 10 {
            writer
                .send(note(&format!("u{i}"), false))
                .await
                .unwrap()
                .unwrap();
        }
        let unbatched = (N / 10) as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let all: Vec<_> = (0..N)
            .map(|i| writer.send(note(&format!("b{i}"), false)))
            .collect();
        for r in futures_util::future::join_all(all).await {
            r.unwrap().unwrap();
        }
        let batched = N as f64 / t.elapsed().as_secs_f64();
        println!("writer: unbatched {unbatched:.0} rows/s, batched {batched:.0} rows/s");
        writer.send(CloseWriter).await.unwrap();
        thread.join();
    }
}
