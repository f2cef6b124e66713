//! The `donornet` command line: parse, set up logging, run the subcommand.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use donornet::config::{
    Cli, Command, DatabaseArgs, ServeArgs, TokenCommand, UserCommand, redact_url,
};
use donornet::db::Create;
use donornet::import::divisions::{self, ImportError, ImportOptions, Source};
use donornet::{admin, backup, db, planfile, seed, telemetry};
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
            let conn = open(&db, Create::AsTheUrlSays).await?;
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
            let conn = open_migrated(&db, Create::Never).await?;
            let summary = seed::load_demo(&conn).await?;
            println!("demo data:\n{summary}");
            demo_admin_if_no_users(&conn).await?;
            conn.close().await?;
            Ok(())
        }
        Command::User { action } => users(action).await,
        Command::Backup { db, file, pg_dump } => {
            let conn = open(&db, Create::Never).await?;
            let started = std::time::Instant::now();
            let written = backup::backup(&conn, &db.database_url, &file, &pg_dump).await?;
            println!(
                "backed up {} to {} ({}, {} bytes) in {:.1} s",
                redact_url(&db.database_url),
                written.file.display(),
                written.method,
                written.bytes,
                started.elapsed().as_secs_f64()
            );
            conn.close().await?;
            Ok(())
        }
        Command::Plan(args) if args.export_instance.is_some() => {
            planfile::export_instance(&args).await
        }
        Command::Plan(args) => planfile::run(&args),
        Command::Token {
            action:
                TokenCommand::Create {
                    db,
                    name,
                    user,
                    expires_days,
                },
        } => {
            let conn = open_migrated(&db, Create::Never).await?;
            let secret = admin::create_token(&conn, &name, &user, expires_days)
                .await
                .with_context(|| in_database(&db))?;
            eprintln!("token {name:?} for {user} created; it is shown only now:");
            println!("{secret}");
            conn.close().await?;
            Ok(())
        }
        Command::ImportDivisions {
            db,
            file,
            no_progress,
        } => {
            let conn = open_migrated(&db, Create::Never).await?;
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

async fn users(action: UserCommand) -> anyhow::Result<()> {
    match action {
        UserCommand::Add {
            db,
            name,
            role,
            regions,
            display_name,
            password_stdin,
        } => {
            let password = password_from_stdin(password_stdin)?;
            let conn = open_migrated(&db, Create::Never).await?;
            let user = admin::add_user(
                &conn,
                &name,
                display_name.as_deref(),
                &role,
                &regions,
                &password,
            )
            .await
            .with_context(|| in_database(&db))?;
            println!("created {} ({}, id {})", user.username, user.role, user.id);
            conn.close().await?;
        }
        UserCommand::List { db } => {
            let conn = open_migrated(&db, Create::Never).await?;
            println!("id\tusername\trole\tregions\tdisabled\tlast_login");
            for u in admin::list_users(&conn).await? {
                let regions: Vec<String> = u.scopes.iter().map(|s| s.code.to_string()).collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.username,
                    u.role,
                    if regions.is_empty() {
                        "*".to_owned()
                    } else {
                        regions.join(",")
                    },
                    u.disabled,
                    u.last_login_at
                        .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339()),
                );
            }
            conn.close().await?;
        }
        UserCommand::Disable { db, name } => {
            let conn = open_migrated(&db, Create::Never).await?;
            let user = admin::disable_user(&conn, &name)
                .await
                .with_context(|| in_database(&db))?;
            println!(
                "disabled {}; their sessions ended and their tokens stopped",
                user.username
            );
            conn.close().await?;
        }
        UserCommand::Unlock { db, name } => {
            let conn = open_migrated(&db, Create::Never).await?;
            let (user, cleared) = admin::unlock_user(&conn, &name)
                .await
                .with_context(|| in_database(&db))?;
            if cleared == 0 {
                println!("{} was not locked; nothing to lift", user.username);
            } else {
                println!(
                    "{} may sign in again ({cleared} failed sign-ins forgotten)",
                    user.username
                );
            }
            conn.close().await?;
        }
        UserCommand::Passwd {
            db,
            name,
            password_stdin,
        } => {
            let password = password_from_stdin(password_stdin)?;
            let conn = open_migrated(&db, Create::Never).await?;
            let user = admin::set_password(&conn, &name, &password)
                .await
                .with_context(|| in_database(&db))?;
            println!(
                "password of {} changed; their sessions ended",
                user.username
            );
            conn.close().await?;
        }
    }
    Ok(())
}

/// What an account command's error is prefixed with: the database it looked in, so that one
/// run in another folder, or against another database, says so.
fn in_database(args: &DatabaseArgs) -> String {
    format!("in the database {}", redact_url(&args.database_url))
}

/// The first line of standard input, without its line ending.
fn password_from_stdin(flag: bool) -> anyhow::Result<String> {
    if !flag {
        anyhow::bail!(
            "pass --password-stdin and give the password on standard input \
             (e.g. `printf '%s' \"$PASSWORD\" | donornet user add …`)"
        );
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// After the demo data is loaded into a database without accounts: the demo admin, whose
/// password is printed once.
async fn demo_admin_if_no_users(conn: &DatabaseConnection) -> anyhow::Result<()> {
    if donornet::store::accounts::count_users(conn).await? > 0 {
        return Ok(());
    }
    let password = admin::create_demo_admin(conn).await?;
    println!(
        "demo admin created: sign in as {} with password {password}\n\
         (shown only now; change it with `donornet user passwd {} --password-stdin`)",
        admin::DEMO_ADMIN,
        admin::DEMO_ADMIN
    );
    Ok(())
}

/// Opens the database; only `serve` and `migrate` may create it (see [`Create`]).
async fn open(args: &DatabaseArgs, create: Create) -> anyhow::Result<DatabaseConnection> {
    match create {
        Create::Never => db::connect_existing(args).await,
        Create::AsTheUrlSays => db::connect(args).await.with_context(|| {
            format!(
                "cannot open the database {}",
                redact_url(&args.database_url)
            )
        }),
    }
}

async fn open_migrated(args: &DatabaseArgs, create: Create) -> anyhow::Result<DatabaseConnection> {
    let conn = open(args, create).await?;
    db::migrate(&conn)
        .await
        .context("cannot migrate the database")?;
    Ok(conn)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // A sender that cannot work is a configuration mistake: say so before touching anything.
    let sender = donornet::outbox::sender_from(&args.outbox)?;
    let wecom = std::sync::Arc::new(donornet::appeals::wecom::from_config(
        &args.outbox.wecom_webhook_url,
    )?);
    let conn = open_migrated(&args.db, Create::AsTheUrlSays).await?;
    tracing::info!(
        database = %redact_url(&args.db.database_url),
        backend = db::backend_name(&conn),
        "database ready"
    );
    // No planner runs yet: a plan still queued or running was cut off by a stop.
    let interrupted = donornet::store::plans::fail_interrupted(&conn, chrono::Utc::now()).await?;
    if interrupted > 0 {
        tracing::warn!(
            plans = interrupted,
            "plans left unfinished by the last stop are marked failed"
        );
    }
    if !args.no_demo && seed::load_demo_if_empty(&conn).await? {
        tracing::info!(
            "the database was empty: loaded the demo county (codes 99…) and its donation \
             network (a station, vehicles, points, coordinators, village surveys)"
        );
        demo_admin_if_no_users(&conn).await?;
    }
    if donornet::store::accounts::count_users(&conn).await? == 0 {
        tracing::warn!(
            "there are no accounts yet: create the first admin with \
             `donornet user add NAME --role admin --password-stdin` (same --database-url)"
        );
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    tracing::info!(
        "listening on http://{} (API docs at /docs)",
        listener.local_addr()?
    );
    tracing::info!(
        sender = sender.name(),
        "messages to donors go through the outbox"
    );
    let outbox = donornet::outbox::spawn(
        conn.clone(),
        sender.clone(),
        wecom.clone(),
        args.http.public_url.clone(),
        std::time::Duration::from_secs(args.outbox.outbox_interval_secs.max(1)),
    );
    let app = donornet::build_app_full(
        conn.clone(),
        args.http,
        sender,
        wecom,
        donornet::clock::Clock::system(),
    );
    donornet::serve(listener, app, donornet::shutdown_signal()).await?;
    outbox.abort();
    conn.close().await?;
    tracing::info!("stopped");
    Ok(())
}
