//! The command line: `serve` (default), `migrate`, `backup`, `check-config`, `tenant …`.
//!
//! Tenant commands talk to the running service's admin API (host, port and `MUX_ADMIN_TOKEN`
//! from the same environment the service reads). The service's Registry holds keys and tenant
//! status in memory and the Writer is the only writer, so going through the API is what makes a
//! change take effect at once (a revoked key fails on the next request) and keeps the
//! one-writer rule. With the service stopped, start it (migrations run at start) or seed
//! tenants through `MUX_TENANTS_JSON`.

pub mod check_config;
pub mod env_file;
pub mod tenant;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::startup::Application;
use crate::{db, telemetry};

#[derive(Parser)]
#[command(
    name = "mux-server",
    version,
    about = "Multi-tenant OpenClaw chat relay"
)]
pub struct Cli {
    /// Read variables from this env file first (the unit's EnvironmentFile); variables set in
    /// the process environment win.
    #[arg(long, global = true, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// The SQLite file, in place of MUX_DB_PATH (the systemd unit pins the database to its
    /// state directory this way, since an EnvironmentFile= overrides an Environment= line). A
    /// MUX_DB_PATH naming another file is refused rather than silently ignored.
    #[arg(long, global = true, value_name = "FILE")]
    db_path: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply pending database migrations to MUX_DB_PATH (upgrading a database of the older
    /// service in place, after a copy beside it) and exit.
    Migrate,
    /// Write a consistent copy of MUX_DB_PATH to FILE, also while the service runs.
    Backup {
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
    },
    /// Validate the environment and print what is enabled (secrets redacted).
    CheckConfig,
    /// Manage tenants through the running service's admin API (needs MUX_ADMIN_TOKEN).
    Tenant(tenant::TenantArgs),
}

/// Exit status for a configuration the service would refuse.
const EXIT_CONFIG: u8 = 2;

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(cli.env_file.as_deref(), cli.db_path.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mux-server: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => {
            print!("{}", check_config::summary(&config));
            Ok(())
        }
        Command::Serve => with_logging(&config)
            .and_then(|()| actix_web::rt::System::new().block_on(serve(config))),
        Command::Migrate => with_logging(&config).and_then(|()| migrate(&config)),
        Command::Backup { file } => backup(&config, &file),
        Command::Tenant(args) => tenant::run(&config, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("event=fatal error={e:#}");
            eprintln!("mux-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The configuration from the env file (if any) overlaid with the process environment, and the
/// database path of `--db-path` (if given).
fn load_config(
    env_file: Option<&std::path::Path>,
    db_path: Option<&std::path::Path>,
) -> Result<Config, String> {
    let mut vars = std::collections::HashMap::new();
    if let Some(path) = env_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let parsed = env_file::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        vars.extend(parsed);
    }
    vars.extend(std::env::vars());
    if let Some(flag) = db_path {
        pin_db_path(&mut vars, flag)?;
    }
    Config::from_map(vars).map_err(|e| e.to_string())
}

/// `--db-path` wins over MUX_DB_PATH, but an operator's MUX_DB_PATH naming another file (an env
/// file kept from the older service, say) stops the start: running on a fresh database instead
/// of theirs would look like every tenant had lost its chats.
fn pin_db_path(
    vars: &mut std::collections::HashMap<String, String>,
    flag: &std::path::Path,
) -> Result<(), String> {
    let flag = flag.to_string_lossy().into_owned();
    match vars.get("MUX_DB_PATH").map(|v| v.trim()) {
        Some(env) if !env.is_empty() && env != flag => Err(format!(
            "MUX_DB_PATH={env} names another database than --db-path {flag}; copy that file to \
             {flag} (README \"Upgrading from the older service\") and remove MUX_DB_PATH from the \
             environment"
        )),
        _ => {
            vars.insert("MUX_DB_PATH".to_owned(), flag);
            Ok(())
        }
    }
}

fn with_logging(config: &Config) -> anyhow::Result<()> {
    telemetry::init(config).map_err(|e| anyhow::anyhow!("cannot set up logging: {e:#}"))
}

/// Builds the app, tells systemd it is ready (migrations applied, listener bound), serves until
/// SIGTERM/SIGINT, flushes the Writer.
async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    notify_systemd(&[sd_notify::NotifyState::Ready]);
    let result = app.run_until_stopped().await;
    notify_systemd(&[sd_notify::NotifyState::Stopping]);
    Ok(result?)
}

/// A no-op outside systemd (`NOTIFY_SOCKET` unset).
fn notify_systemd(state: &[sd_notify::NotifyState]) {
    if let Err(e) = sd_notify::notify(state) {
        log::warn!("event=systemd_notify_failed error={e}");
    }
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let opened = db::open_and_migrate(&config.db_path)?;
    if let Some(report) = &opened.upgraded {
        println!(
            "database {} upgraded from the older service in {} ms: {} tenants, {} bindings \
             ({} route conflicts unbound); its previous content is in {}",
            config.db_path.display(),
            report.elapsed_ms,
            report.moved.tenants,
            report.moved.bindings,
            report.moved.route_conflicts,
            report.backup.display()
        );
    }
    println!(
        "database {} is up to date ({} migrations applied now)",
        config.db_path.display(),
        opened.migrations_applied
    );
    Ok(())
}

fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let report = db::backup::backup(&config.db_path, file)?;
    println!(
        "backup {} written: {} bytes, {} tenants, integrity ok",
        report.path.display(),
        report.bytes,
        report.tenants
    );
    Ok(())
}
