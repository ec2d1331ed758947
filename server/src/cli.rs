//! The command line. `guildhall` alone serves; the subcommands migrate, load data and manage staff.

use crate::{config::Config, leptos_options, router, AppState};
use clap::{Args, Parser, Subcommand};
use guildhall::domain::{Actor, AppError, Role};
use migrations::{Migrator, MigratorTrait};
use std::io::Read;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(name = "guildhall", about = "The Guildhall membership office", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Load demo data (`--demo`) or add fake members for benchmarks (`--members N`).
    Seed(SeedArgs),
    /// Benchmarks: each seeds a fresh database and prints `name value unit` lines.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// The renewal run.
    Renewals {
        #[command(subcommand)]
        command: RenewalsCommand,
    },
    /// Scheduled jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Prints the current 6-digit code of the demo staff accounts' published authenticator key (demo
    /// data only; refused in production).
    DemoCode,
}

#[derive(Subcommand, Debug)]
pub enum RenewalsCommand {
    /// Raise the renewal invoice and invitation, once, for every member whose paid period ends within
    /// the window.
    Run {
        /// Run as if today were this day (YYYY-MM-DD); default today in London.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Days ahead of a period's end that its renewal is raised.
        #[arg(long, default_value_t = guildhall::service::renewals::WINDOW_DAYS)]
        window_days: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// The daily membership job: the renewal run, reminders, and the grace and lapse messages. Each
    /// message is sent once, however often it runs.
    Daily {
        /// Run as if today were this day (YYYY-MM-DD); default today in London.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Categories, one account per staff role, the demo member and a few dozen members. Safe to repeat.
    #[arg(long)]
    pub demo: bool,
    /// Add this many realistic fake members.
    #[arg(long)]
    pub members: Option<u64>,
    /// Add members portal1@guildhall.test … portalN@guildhall.test who can sign in (demo password).
    #[arg(long)]
    pub portal_accounts: Option<u32>,
    /// Add members renew1@guildhall.test … renewN@guildhall.test (demo password) whose membership
    /// ends in 20 days, to try renewing.
    #[arg(long)]
    pub renewal_accounts: Option<u32>,
    /// With --members: give every member without one a history of up to this many years (periods,
    /// lapses, reinstatements, resignations).
    #[arg(long)]
    pub years: Option<u32>,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Staff search at volume: prints members, search_p95 and search_p99.
    Search {
        #[arg(long, default_value_t = 500_000)]
        members: u64,
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
    },
    /// The ledger at volume: random postings (with repeated deliveries), then its invariants; prints
    /// the throughput and `invariants ok`.
    Ledger {
        #[arg(long, default_value_t = 1_000_000)]
        ops: u64,
        #[arg(long, default_value_t = 1_000)]
        members: u64,
    },
    /// The renewal run at volume: members all due, run twice; prints the time, what the second run
    /// raised (0) and the peak memory.
    Renewals {
        #[arg(long, default_value_t = 58_000)]
        members: u64,
    },
    /// The dashboard and reports at volume: members with years of history; prints each tile's and
    /// report's p95.
    Dashboard {
        #[arg(long, default_value_t = 500_000)]
        members: u64,
        #[arg(long, default_value_t = 5)]
        years: u32,
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Change-to-browser latency of the staff event stream with many streams open.
    Events {
        #[arg(long, default_value_t = 500)]
        streams: usize,
        #[arg(long, default_value_t = 50)]
        changes: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum StaffCommand {
    /// Create a staff account; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// officer, supervisor, finance or admin (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long, default_value = "Guildhall")]
        given_name: String,
        #[arg(long, default_value = "Administrator")]
        family_name: String,
    },
}

pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

async fn connect(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = guildhall::db::connect(&config.database_url).await?;
    Migrator::up(&db, None).await?;
    // A database from before the dashboard's counts and the debts were kept gets them now.
    guildhall::service::summary::ensure(&db)
        .await
        .map_err(explain)?;
    guildhall::service::money::debts::ensure(&db)
        .await
        .map_err(explain)?;
    Ok(db)
}

fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(f) => {
            anyhow::anyhow!(f
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        other => anyhow::anyhow!(other.to_string()),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    init_tracing(config.json_logs);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            connect(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::DemoCode if config.production => {
            anyhow::bail!("GUILDHALL_ENV=production: there are no demo accounts in production")
        }
        Command::DemoCode => {
            println!(
                "{}",
                guildhall::service::mfa::current_code(guildhall::service::mfa::DEMO_TOTP_SECRET)?
            );
            Ok(())
        }
        Command::Seed(_) if config.production => anyhow::bail!(
            "GUILDHALL_ENV=production: `guildhall seed` makes demo and benchmark data (accounts with a published password) and is refused in production"
        ),
        Command::Seed(args) => {
            let db = connect(&config).await?;
            if !args.demo
                && args.members.is_none()
                && args.portal_accounts.is_none()
                && args.renewal_accounts.is_none()
                && args.years.is_none()
            {
                anyhow::bail!("say what to seed: --demo, --members N and/or --portal-accounts N");
            }
            if args.demo {
                let r = guildhall::service::seed::demo(&db, &config.base_url)
                    .await
                    .map_err(explain)?;
                println!(
                    "demo data: {} categories, {} accounts, {} members added",
                    r.categories, r.accounts, r.members
                );
                print_demo_sign_ins(&config);
            }
            if let Some(n) = args.portal_accounts {
                let added = guildhall::service::seed::portal_accounts(&db, n)
                    .await
                    .map_err(explain)?;
                println!("portal accounts: {added} added (portal1@guildhall.test … portal{n}@guildhall.test)");
            }
            if let Some(n) = args.renewal_accounts {
                let added = guildhall::service::seed::renewal_accounts(&db, n)
                    .await
                    .map_err(explain)?;
                println!("renewal accounts: {added} added (renew1@guildhall.test … renew{n}@guildhall.test)");
            }
            if let Some(n) = args.members {
                let started = Instant::now();
                let mut last = 0;
                let added = guildhall::service::seed::members(&db, n, |done| {
                    if done - last >= 50_000 || done == n {
                        eprintln!("seeded {done}/{n} members");
                        last = done;
                    }
                })
                .await
                .map_err(explain)?;
                let secs = started.elapsed().as_secs_f64();
                println!("seed_members {added} count");
                println!("seed_seconds {secs:.2} s");
                println!("seed_rate {:.0} members/s", added as f64 / secs.max(1e-9));
            }
            if let Some(years) = args.years {
                let started = Instant::now();
                let given = guildhall::service::seed::history(&db, years, |done| {
                    if done % 50_000 == 0 {
                        eprintln!("history for {done} members");
                    }
                })
                .await
                .map_err(explain)?;
                println!("seed_histories {given} count");
                println!(
                    "seed_history_seconds {:.2} s",
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
        Command::Bench {
            what: BenchCommand::Search { members, queries },
        } => crate::bench::search(&config.database_url, members, queries).await,
        Command::Bench {
            what: BenchCommand::Ledger { ops, members },
        } => crate::bench::ledger(&config.database_url, ops, members).await,
        Command::Bench {
            what: BenchCommand::Renewals { members },
        } => crate::bench::renewals(&config.database_url, members).await,
        Command::Bench {
            what:
                BenchCommand::Dashboard {
                    members,
                    years,
                    runs,
                },
        } => crate::bench::dashboard(&config.database_url, members, years, runs).await,
        Command::Bench {
            what: BenchCommand::Events { streams, changes },
        } => crate::bench::events(&config.database_url, streams, changes).await,
        Command::Renewals {
            command: RenewalsCommand::Run { as_of, window_days },
        } => {
            let db = connect(&config).await?;
            if let Some(day) = as_of {
                guildhall::service::travel_to(day);
            }
            let as_of = as_of.unwrap_or_else(guildhall::service::today);
            let started = Instant::now();
            let report = guildhall::service::renewals::run::run(
                &db,
                &guildhall::domain::Actor::system("renewals"),
                as_of,
                window_days,
                |done, total| {
                    let width = 30usize;
                    let filled = (done as usize * width) / (total.max(1) as usize);
                    eprint!(
                        "\r[{}{}] {done}/{total} renewals raised",
                        "#".repeat(filled),
                        ".".repeat(width - filled.min(width))
                    );
                },
            )
            .await
            .map_err(explain)?;
            eprintln!();
            println!("renewals_as_of {as_of}");
            println!("renewals_due {} count", report.due);
            println!("renewals_raised {} count", report.raised);
            println!("renewals_already_raised {} count", report.already);
            println!("renewals_free {} count", report.free);
            println!("renewals_seconds {:.2} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Jobs {
            command: JobsCommand::Daily { as_of },
        } => {
            let db = connect(&config).await?;
            if let Some(day) = as_of {
                guildhall::service::travel_to(day);
            }
            let as_of = as_of.unwrap_or_else(guildhall::service::today);
            let started = Instant::now();
            let providers = config.providers()?;
            let report = guildhall::service::renewals::daily::daily(
                &db,
                &guildhall::domain::Actor::system("daily job"),
                as_of,
                Some(providers.active.as_ref()),
                |step, done, total| {
                    if total > 0 {
                        eprint!("\r{step}: {done}/{total}   ");
                    } else {
                        eprint!("\r{step}…            ");
                    }
                },
            )
            .await
            .map_err(explain)?;
            eprintln!();
            println!("daily_as_of {as_of}");
            println!("daily_renewals_raised {} count", report.renewals.raised);
            println!("daily_reminders {} count", report.reminders);
            println!("daily_into_grace {} count", report.grace);
            println!("daily_lapsed {} count", report.lapsed);
            println!(
                "daily_auto_renew_notices {} count",
                report.auto_renew.notices
            );
            println!(
                "daily_auto_renew_charged {} count",
                report.auto_renew.charged
            );
            println!(
                "daily_auto_renew_declined {} count",
                report.auto_renew.declined
            );
            println!("daily_suspended {} count", report.auto_renew.suspended);
            println!("daily_seconds {:.2} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Staff {
            command:
                StaffCommand::Create {
                    email,
                    roles,
                    given_name,
                    family_name,
                },
        } => {
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let db = connect(&config).await?;
            let input = guildhall::service::identity::NewStaff {
                email,
                given_name,
                family_name,
                roles,
                password: Some(password),
            };
            let id = guildhall::service::identity::create_staff(
                &db,
                &Actor::system("cli"),
                input,
                &config.base_url,
            )
            .await
            .map_err(explain)?;
            println!("staff account created: {id}");
            Ok(())
        }
    }
}

pub fn print_demo_sign_ins(config: &Config) {
    println!(
        "Demo sign-ins at {} (password: {}):",
        config.base_url,
        guildhall::service::seed::DEMO_PASSWORD
    );
    for (email, _, _, role) in guildhall::service::seed::DEMO_STAFF {
        println!("  {email:<28} {}", role.label());
    }
    println!("  {:<28} Member", guildhall::service::seed::DEMO_MEMBER);
    println!(
        "Staff accounts also ask for a code from an authenticator app set up with the demo secret {} (demo only).",
        guildhall::service::mfa::DEMO_TOTP_SECRET
    );
}

/// Serves until Ctrl-C or SIGTERM, then stops accepting, finishes requests in flight and lets the
/// outbox worker finish the message it is on.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // In production, every unsafe setting is told at once, then nothing is served.
    let mut problems = if config.production {
        crate::production::setting_problems(&config)
    } else {
        vec![]
    };
    let db = match connect(&config).await {
        Ok(db) => db,
        Err(e) => {
            crate::production::refuse(&problems)?;
            return Err(e);
        }
    };
    if config.production {
        problems.extend(
            crate::production::data_problems(&db)
                .await
                .map_err(explain)?,
        );
    }
    crate::production::refuse(&problems)?;
    let options = leptos_options(&config);
    let addr = config.addr;
    let interrupted = guildhall::service::jobs::mark_interrupted(&db)
        .await
        .map_err(explain)?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "jobs left running by the last server marked failed"
        );
    }
    let state = AppState::new(config, db.clone(), options)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Every node's events, on PostgreSQL.
    guildhall::service::events::listen(&db, stop_rx.clone());
    let workers = crate::workers::spawn(&state, stop_rx)?;
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "guildhall listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        shutdown_signal().await;
        // Open event streams never end by themselves.
        guildhall::service::events::shut_down();
    })
    .await?;
    tracing::info!("shutting down: waiting for background work");
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    let _ = db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
