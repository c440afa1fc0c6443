//! The `mux-server` binary: parse the command line, load the configuration, run.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mux_server::config::Config;
use mux_server::startup::Application;
use mux_server::{db, telemetry};

#[derive(Parser)]
#[command(
    name = "mux-server",
    version,
    about = "Multi-tenant OpenClaw chat relay"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply pending database migrations to MUX_DB_PATH and exit.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mux-server: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = telemetry::init(&config) {
        eprintln!("mux-server: cannot set up logging: {e:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(serve(config)),
        Command::Migrate => migrate(&config),
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

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until_stopped().await?;
    Ok(())
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let mut conn = db::open_unmigrated(&config.db_path)?;
    let applied = db::run_migrations(&mut conn)?;
    println!(
        "database {} is up to date ({applied} migrations applied now)",
        config.db_path.display()
    );
    Ok(())
}
