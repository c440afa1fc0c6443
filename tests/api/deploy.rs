//! deploy/ stays true: the env example lists every variable the config reads, with the
//! defaults the code uses, and the unit asks for the readiness notification the binary sends.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use mux_server::config::Config;

fn repo_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// `VAR=value` and commented `#VAR=value` lines of the env example.
fn example_vars() -> Vec<(String, String)> {
    repo_file("deploy/mux-server.env.example")
        .lines()
        .filter_map(|line| {
            let line = line.strip_prefix('#').unwrap_or(line);
            let (name, value) = line.split_once('=')?;
            let is_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            is_name.then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Every variable name the configuration code reads (string literals in src/config*).
fn config_vars() -> BTreeSet<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("config.rs")];
    for entry in std::fs::read_dir(root.join("config")).expect("src/config") {
        files.push(entry.expect("entry").path());
    }
    let mut names = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for literal in text.split('"').skip(1).step_by(2) {
            let known_prefix = ["MUX_", "TELEGRAM_", "DISCORD_"]
                .iter()
                .any(|p| literal.starts_with(p));
            let is_name = literal
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if known_prefix && is_name && literal.len() > 6 {
                names.insert(literal.to_owned());
            }
        }
    }
    names
}

#[test]
fn the_env_example_lists_every_variable_the_config_reads_and_no_other() {
    let listed: BTreeSet<String> = example_vars().into_iter().map(|(k, _)| k).collect();
    let read = config_vars();
    assert!(
        read.len() > 40,
        "the scan found the config's variables: {read:?}"
    );
    let missing: Vec<_> = read.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "add to deploy/mux-server.env.example: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&read).collect();
    assert!(stale.is_empty(), "the config no longer reads: {stale:?}");
}

#[test]
fn the_env_example_parses_and_its_defaults_are_the_codes() {
    let vars: HashMap<String, String> = example_vars().into_iter().collect();
    let mut from_example = Config::from_map(vars).expect("the example parses");
    // The legacy MUX_OPENCLAW_INBOUND_* lines are unused without MUX_API_KEY (and say so).
    from_example.unused_vars.clear();
    let from_nothing = Config::from_map(HashMap::new()).expect("the empty env parses");
    assert_eq!(
        format!("{from_example:?}"),
        format!("{from_nothing:?}"),
        "a default in the example differs from the code's"
    );
}

#[test]
fn the_unit_waits_for_readiness_and_stops_with_sigterm() {
    let unit = repo_file("deploy/mux-server.service");
    for line in [
        "Type=notify",
        "ExecStart=/usr/local/bin/mux-server --db-path /var/lib/mux-server/mux-server.sqlite serve",
        "KillSignal=SIGTERM",
        "EnvironmentFile=/etc/mux-server/mux-server.env",
    ] {
        assert!(
            unit.lines().any(|l| l.trim() == line),
            "{line} missing from the unit"
        );
    }
    // The notification comes from the main process only.
    assert!(unit.lines().any(|l| l.trim() == "NotifyAccess=main"));
}

#[test]
fn the_unit_pins_the_database_to_its_state_directory_where_no_env_file_can_move_it() {
    let unit = repo_file("deploy/mux-server.service");
    let line = |key: &str| {
        unit.lines()
            .map(str::trim)
            .filter(|l| l.starts_with(key))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(line("StateDirectory="), ["StateDirectory=mux-server"]);
    // systemd lets EnvironmentFile= override Environment=, so the path is a flag of ExecStart.
    assert!(
        line("Environment=")
            .iter()
            .all(|l| !l.contains("MUX_DB_PATH")),
        "an Environment=MUX_DB_PATH line is overridden by the env file"
    );
    let exec = line("ExecStart=");
    assert!(
        exec[0].contains("--db-path /var/lib/mux-server/mux-server.sqlite"),
        "{exec:?}"
    );
    // A refused configuration is not restarted in a loop.
    assert_eq!(
        line("RestartPreventExitStatus="),
        ["RestartPreventExitStatus=2"]
    );
}
