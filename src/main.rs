//! The `donornet` command line: parse, set up logging, run the subcommand.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use donornet::config::{Cli, Command, DatabaseArgs, ServeArgs, redact_url};
use donornet::import::divisions::{self, ImportError, ImportOptions, Source};
use donornet::{db, seed, telemetry};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // An import refusal is the user's file, not our fault: print just the reason.
            match err.downcast_ref::<ImportError>() {
                Some(import) => eprintln!("import refused, nothing was changed: {import}"),
                None => eprintln!("error: {err:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate { db, status } => {
            let conn = open(&db).await?;
            if status {
                for migration in Migrator::get_migration_with_status(&conn).await? {
                    println!("{:?}\t{}", migration.status(), migration.name());
                }
            } else {
                db::migrate(&conn).await?;
                println!("migrations applied");
            }
            conn.close().await?;
            Ok(())
        }
        Command::SeedDemo { db } => {
            let conn = open_migrated(&db).await?;
            let summary = seed::load_demo(&conn).await?;
            println!("demo data ({}):\n{summary}", seed_name());
            conn.close().await?;
            Ok(())
        }
        Command::ImportDivisions {
            db,
            file,
            no_progress,
        } => {
            let conn = open_migrated(&db).await?;
            let started = std::time::Instant::now();
            let options = ImportOptions {
                progress: !no_progress && std::io::stderr().is_terminal(),
            };
            let summary = divisions::import(&conn, Source::File(&file), options).await?;
            println!(
                "imported {} in {:.1} s:\n{summary}",
                file.display(),
                started.elapsed().as_secs_f64()
            );
            conn.close().await?;
            Ok(())
        }
    }
}

fn seed_name() -> &'static str {
    match seed::DEMO_DIVISIONS {
        Source::Embedded { name, .. } => name,
        Source::File(_) => "file",
    }
}

async fn open(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    db::connect(args).await.with_context(|| {
        format!(
            "cannot open the database {}",
            redact_url(&args.database_url)
        )
    })
}

async fn open_migrated(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    let conn = open(args).await?;
    db::migrate(&conn)
        .await
        .context("cannot migrate the database")?;
    Ok(conn)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let conn = open_migrated(&args.db).await?;
    tracing::info!(
        database = %redact_url(&args.db.database_url),
        backend = db::backend_name(&conn),
        "database ready"
    );
    if !args.no_demo && seed::load_demo_if_empty(&conn).await? {
        tracing::info!("the database was empty: loaded the demo county (codes 99…)");
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    tracing::info!(
        "listening on http://{} (API docs at /docs)",
        listener.local_addr()?
    );
    let app = donornet::build_app(conn.clone(), args.http);
    donornet::serve(listener, app, donornet::shutdown_signal()).await?;
    conn.close().await?;
    tracing::info!("stopped");
    Ok(())
}
