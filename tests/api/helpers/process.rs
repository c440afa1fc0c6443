//! What the tests reach outside HTTP: the service's SQLite file, and the real binary as a child
//! process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A connection of its own to the service's database (for what no endpoint shows).
pub fn diesel_conn(path: &Path) -> diesel::SqliteConnection {
    use diesel::Connection;
    use diesel::RunQueryDsl;
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("open db");
    // The service's last connection may still be checkpointing the WAL as it closes.
    diesel::sql_query("PRAGMA busy_timeout = 5000")
        .execute(&mut conn)
        .expect("busy timeout");
    conn
}

/// Rows of `table` (may carry a WHERE clause) in the database at `path`.
pub fn count(path: &Path, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .load(&mut diesel_conn(path))
        .expect("count");
    rows[0].n
}

/// Starts the real binary (`serve`) on port 0 with only `vars` (plus listener, database and
/// logging settings) and returns it with the port it logged in its `event=listening` line.
pub fn start_binary(db: &Path, vars: &[(&'static str, String)]) -> (Child, u16) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mux-server"));
    cmd.arg("serve")
        .env_clear()
        .env("MUX_HOST", "127.0.0.1")
        .env("MUX_PORT", "0")
        .env("MUX_DB_PATH", db)
        .env("RUST_LOG", "info");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    start_command(cmd)
}

/// Spawns `cmd` (the binary, set up by the caller) and returns it with the port it logged in its
/// `event=listening` line (it must log at info to stderr).
pub fn start_command(mut cmd: Command) -> (Child, u16) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mux-server");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines.next().expect("logs until listening").expect("line");
        if let Some(p) = line.split("event=listening").nth(1) {
            let port = p.split("port=").nth(1).expect("port=").trim();
            break port.parse().expect("port number");
        }
    };
    // Keep draining the logs so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}
