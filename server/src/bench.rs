//! `guildhall bench <what>`: each benchmark seeds its own data into a fresh database (a new SQLite file,
//! or a new PostgreSQL database on the server `DATABASE_URL` names), runs, prints one figure a line as
//! `name value unit`, drops what it created, and exits non-zero if an invariant it checks fails.

use guildhall::domain::{Actor, ActorKind, Role};
use guildhall::entity::member;
use migrations::{Migrator, MigratorTrait};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::time::{Duration, Instant};

/// A database made for one benchmark run, removed afterwards.
pub struct BenchDb {
    pub db: DatabaseConnection,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl BenchDb {
    pub async fn fresh(database_url: &str) -> anyhow::Result<Self> {
        if database_url.starts_with("postgres") {
            let name = format!("guildhall_bench_{}", uuid::Uuid::now_v7().simple());
            let url = guildhall::db::create_database(database_url, &name).await?;
            let db = guildhall::db::connect(&url).await?;
            Migrator::up(&db, None).await?;
            Ok(Self {
                db,
                cleanup: Cleanup::Postgres {
                    admin_url: database_url.to_owned(),
                    name,
                },
            })
        } else {
            let path = std::env::temp_dir().join(format!(
                "guildhall-bench-{}.db",
                uuid::Uuid::now_v7().simple()
            ));
            let db =
                guildhall::db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await?;
            Migrator::up(&db, None).await?;
            Ok(Self {
                db,
                cleanup: Cleanup::File(path),
            })
        }
    }

    pub async fn drop_it(self) {
        let _ = self.db.close().await;
        match self.cleanup {
            Cleanup::File(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                guildhall::db::drop_database(&admin_url, &name).await
            }
        }
    }
}

/// The p-th percentile (0–100) of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn staff_actor() -> Actor {
    Actor {
        kind: ActorKind::Staff,
        user_id: None,
        label: "bench".into(),
        roles: vec![Role::Officer],
        request_id: None,
    }
}

/// Seeds `members` members, then times `queries` searches of the kinds officers type: part of a
/// surname, a first name and part of a surname, a postcode, the start of an e-mail address, a number.
pub async fn search(database_url: &str, members: u64, queries: usize) -> anyhow::Result<()> {
    let bench = BenchDb::fresh(database_url).await?;
    let db = &bench.db;
    let started = Instant::now();
    let mut last = 0;
    guildhall::service::seed::members(db, members, |done| {
        if done - last >= 100_000 || done == members {
            eprintln!("seeded {done}/{members} members");
            last = done;
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let seed_secs = started.elapsed().as_secs_f64();
    // Fresh statistics, as a database in service has.
    db.execute_unprepared("ANALYZE").await?;

    // Realistic queries, drawn from members that exist.
    let mut rng = StdRng::seed_from_u64(7);
    let mut typed = Vec::with_capacity(queries);
    let max = i64::try_from(members).unwrap_or(i64::MAX).max(1);
    while typed.len() < queries {
        let n = rng.gen_range(1..=max);
        let Some(m) = member::Entity::find()
            .filter(member::Column::MembershipNumber.eq(n))
            .one(db)
            .await?
        else {
            continue;
        };
        let cut = |s: &str, k: usize| s.chars().take(k).collect::<String>();
        let q = match rng.gen_range(0..100) {
            0..=39 => cut(&m.family_name, rng.gen_range(3..=6)),
            40..=59 => format!(
                "{} {}",
                m.given_name,
                cut(&m.family_name, rng.gen_range(2..=4))
            ),
            60..=74 => m.postcode.clone().unwrap_or_default(),
            75..=84 => cut(&m.email, rng.gen_range(4..=10)),
            _ => format!("GH{:07}", m.membership_number),
        };
        typed.push(q);
    }
    let actor = staff_actor();
    for q in typed.iter().take(50) {
        guildhall::service::members::search::search(db, &actor, q)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut times = Vec::with_capacity(typed.len());
    let mut empty: Vec<&str> = Vec::new();
    for q in &typed {
        let t = Instant::now();
        let hits = guildhall::service::members::search::search(db, &actor, q)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(t.elapsed());
        if hits.is_empty() {
            empty.push(q);
        }
    }
    times.sort();
    let count = sea_orm::PaginatorTrait::count(member::Entity::find(), db).await?;
    println!("members {count} count");
    println!("seed_seconds {seed_secs:.1} s");
    println!("search_queries {} count", times.len());
    println!("search_p50 {:.2} ms", percentile_ms(&times, 50.0));
    println!("search_p95 {:.2} ms", percentile_ms(&times, 95.0));
    println!("search_p99 {:.2} ms", percentile_ms(&times, 99.0));
    bench.drop_it().await;
    // Every query was made from a member that exists, so each must find at least one.
    if !empty.is_empty() {
        let shown: Vec<_> = empty.iter().take(10).map(|q| format!("{q:?}")).collect();
        anyhow::bail!(
            "invariant broken: {} searches for existing members found nothing, e.g. {}",
            empty.len(),
            shown.join(", ")
        );
    }
    Ok(())
}

/// Random everyday postings against `members` members — invoices, card and bank payments, credit notes,
/// write-offs, refunds, and one in ten a repeated delivery of an earlier posting's key — in transactions
/// of 1,000; then checks that every transaction balances, all accounts sum to zero and each member's
/// balance is what the operations say. Prints the throughput and `invariants ok`.
pub async fn ledger(database_url: &str, ops: u64, members: u64) -> anyhow::Result<()> {
    use guildhall::domain::ledger::Account;
    use guildhall::domain::money::Money;
    use guildhall::service::ledger::{self, NewTransaction, Posted};
    use std::collections::HashMap;
    let bench = BenchDb::fresh(database_url).await?;
    let db = &bench.db;
    guildhall::service::seed::members(db, members, |_| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ids: Vec<uuid::Uuid> = member::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    anyhow::ensure!(!ids.is_empty(), "no members to post for");
    let actor = Actor::system("bench");
    let mut rng = StdRng::seed_from_u64(11);
    let mut expected: HashMap<uuid::Uuid, i64> = HashMap::new();
    let mut recent: Vec<NewTransaction> = Vec::new();
    let (mut done, mut posted, mut repeats) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    while done < ops {
        let txn = guildhall::service::begin(db).await?;
        for _ in 0..1_000.min(ops - done) {
            done += 1;
            if !recent.is_empty() && rng.gen_bool(0.1) {
                let again = recent[rng.gen_range(0..recent.len())].clone();
                let r = ledger::post(&txn, &actor, again)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::ensure!(
                    matches!(r, Posted::Duplicate(_)),
                    "invariant broken: a repeated key posted twice"
                );
                repeats += 1;
                continue;
            }
            let m = ids[rng.gen_range(0..ids.len())];
            let (kind, delta, entries) = ledger::random_operation(&mut rng, m);
            let t = NewTransaction {
                idempotency_key: format!("bench-{done}"),
                kind,
                cause: format!("bench operation {done}"),
                member_id: Some(m),
                memo: None,
                entries,
                method: None,
                value_date: None,
            };
            let r = ledger::post(&txn, &actor, t.clone())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            anyhow::ensure!(
                matches!(r, Posted::New(_)),
                "invariant broken: a new key was taken as a repeat"
            );
            posted += 1;
            *expected.entry(m).or_default() += delta;
            if recent.len() < 10_000 {
                recent.push(t);
            } else {
                let k = rng.gen_range(0..recent.len());
                recent[k] = t;
            }
        }
        txn.commit().await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let unbalanced = ledger::unbalanced_transactions(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut total = Money::ZERO;
    for a in Account::ALL {
        let b = ledger::account_balance(db, a)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        total = total
            .checked_add(b)
            .ok_or_else(|| anyhow::anyhow!("totals overflow"))?;
    }
    let mut wrong = 0;
    for m in &ids {
        let got = ledger::member_balance(db, *m)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if got.pence() != expected.get(m).copied().unwrap_or(0) {
            wrong += 1;
        }
    }
    println!("ledger_operations {done} count");
    println!("ledger_postings {posted} count");
    println!("ledger_repeats_ignored {repeats} count");
    println!("ledger_seconds {secs:.1} s");
    println!("ledger_rate {:.0} ops/s", done as f64 / secs.max(1e-9));
    bench.drop_it().await;
    if !unbalanced.is_empty() || !total.is_zero() || wrong > 0 {
        anyhow::bail!(
            "invariant broken: {} unbalanced transactions, accounts total {total}, {wrong} member balances wrong",
            unbalanced.len()
        );
    }
    println!("invariants ok");
    Ok(())
}

/// The process's peak resident memory so far (Linux `VmHWM`), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Adds `members` members, each a current member whose latest, paid period ends within the 60 days
/// after `as_of` (spread evenly). Answers how many.
pub async fn seed_due(
    db: &sea_orm::DatabaseConnection,
    members: u64,
    as_of: chrono::NaiveDate,
) -> anyhow::Result<usize> {
    use guildhall::entity::{category, membership_event, period};
    use sea_orm::ActiveValue::Set;
    guildhall::service::seed::members(db, members, |_| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Everyone is a current member whose latest, paid period ends within the window.
    membership_event::Entity::delete_many().exec(db).await?;
    let reg = category::Entity::find()
        .filter(category::Column::Code.eq("REG"))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no REG category"))?;
    let ids: Vec<uuid::Uuid> = member::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let now = guildhall::service::now();
    for (n, chunk) in ids.chunks(1_000).enumerate() {
        let rows = chunk.iter().enumerate().map(|(i, id)| {
            let k = ((n * 1_000 + i) % 60) as i64;
            period::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                member_id: Set(*id),
                category_id: Set(reg.id),
                start_on: Set(as_of - chrono::Duration::days(365 - k)),
                end_on: Set(as_of + chrono::Duration::days(k)),
                paid_state: Set("paid".into()),
                paid_on: Set(Some(as_of - chrono::Duration::days(365 - k))),
                mandate_active: Set(false),
                how_paid: Set("card".into()),
                created_at: Set(now),
                created_by: Set("bench".into()),
            }
        });
        period::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    guildhall::service::summary::rebuild(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ids.len())
}

/// Seeds `members` members whose paid period ends within the next 60 days, runs the renewal run twice
/// and prints its time, what the second run raised (must be 0) and the peak memory.
pub async fn renewals(database_url: &str, members: u64) -> anyhow::Result<()> {
    let bench = BenchDb::fresh(database_url).await?;
    let db = &bench.db;
    let as_of = guildhall::service::today();
    let n = seed_due(db, members, as_of).await?;
    eprintln!("seeded {n} members due");
    let actor = Actor::system("bench");
    let started = Instant::now();
    let first = guildhall::service::renewals::run(db, &actor, as_of, 60, |_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let second = guildhall::service::renewals::run(db, &actor, as_of, 60, |_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs2 = started.elapsed().as_secs_f64();
    let unbalanced = guildhall::service::ledger::unbalanced_transactions(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("renewals_due {} count", first.due);
    println!("renewals_raised {} count", first.raised);
    println!("renewals_run {secs:.2} s");
    println!("renewals_second_run {secs2:.2} s");
    println!("renewals_second_run_invoices {} count", second.raised);
    println!("renewals_peak_rss {:.0} MB", peak_rss_mb());
    bench.drop_it().await;
    anyhow::ensure!(
        first.raised == first.due && second.raised == 0 && unbalanced.is_empty(),
        "invariant broken: raised {} of {} due, second run raised {}, {} unbalanced transactions",
        first.raised,
        first.due,
        second.raised,
        unbalanced.len()
    );
    println!("invariants ok");
    Ok(())
}

/// Seeds `members` members with up to `years` years of history, then fetches each dashboard tile and
/// each report `runs` times as staff would, printing `<name>_p95 … ms` for each.
pub async fn dashboard(
    database_url: &str,
    members: u64,
    years: u32,
    runs: usize,
) -> anyhow::Result<()> {
    use guildhall::service::{dashboard, trends};
    let bench = BenchDb::fresh(database_url).await?;
    let db = &bench.db;
    let started = Instant::now();
    let mut last = 0;
    guildhall::service::seed::members(db, members, |done| {
        if done - last >= 100_000 || done == members {
            eprintln!("seeded {done}/{members} members");
            last = done;
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    guildhall::service::seed::history(db, years, |done| {
        if done % 100_000 == 0 {
            eprintln!("history for {done} members");
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("members {members} count");
    println!("seed_seconds {:.1} s", started.elapsed().as_secs_f64());
    // Fresh statistics (and, on PostgreSQL, the visibility map for index-only reads), as a database in
    // service has from its autovacuum.
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => db.execute_unprepared("VACUUM ANALYZE").await?,
        _ => db.execute_unprepared("ANALYZE").await?,
    };
    let today = guildhall::service::today();
    let finance = Actor {
        kind: ActorKind::Staff,
        user_id: Some(uuid::Uuid::now_v7()),
        label: "bench".into(),
        roles: vec![Role::Finance],
        request_id: None,
    };
    let mut failed = Vec::new();
    let mut time = |name: &str, mut times: Vec<Duration>| {
        times.sort();
        println!("{name}_p95 {:.1} ms", percentile_ms(&times, 95.0));
        if percentile_ms(&times, 95.0) > 50.0 {
            failed.push(name.to_owned());
        }
    };
    for name in dashboard::TILE_NAMES {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            dashboard::fetch_tile(db, name, today)
                .await
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            times.push(t.elapsed());
        }
        time(name, times);
    }
    macro_rules! report {
        ($name:expr, $call:expr) => {{
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                $call.await.map_err(|e| anyhow::anyhow!("{}: {e}", $name))?;
                times.push(t.elapsed());
            }
            time($name, times);
        }};
    }
    report!("weekly_chart", trends::weekly(db, &finance, today, 52));
    report!("trade_report", trends::trade_report(db, &finance, today));
    report!("trends_by_month", trends::monthly(db, &finance, today, 12));
    report!(
        "rates_by_category",
        trends::by_category(db, &finance, today - chrono::Duration::days(364), today)
    );
    report!(
        "aged_debt",
        guildhall::service::money::reports::aged_debt(
            db,
            &finance,
            today,
            Some(guildhall::service::money::reports::AGED_DEBT_PAGE)
        )
    );
    bench.drop_it().await;
    if failed.is_empty() {
        println!("dashboard_under_50ms all");
    } else {
        println!("dashboard_over_50ms {} count", failed.len());
    }
    Ok(())
}

/// Change-to-browser latency of the staff event stream: serves Guildhall on a local port, opens
/// `streams` event streams as a signed-in member of staff, records `changes` payments through the
/// services one after another, and times each from the start of the payment to its event arriving on
/// every stream. Prints `events_p50`, `events_p99` and the worst, in ms.
pub async fn events(database_url: &str, streams: usize, changes: usize) -> anyhow::Result<()> {
    use guildhall::service::money::{self, ManualPaymentInput};
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let bench = BenchDb::fresh(database_url).await?;
    let db = bench.db.clone();
    let mut cfg = crate::config::Config::from_env()?;
    cfg.signin_per_ip_per_minute = 1_000;
    cfg.signin_per_account = 1_000;
    guildhall::service::seed::demo(&db, &cfg.base_url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    guildhall::service::events::listen(&db, stop_rx);
    let options = crate::leptos_options(&cfg);
    let app = crate::router(crate::AppState::new(cfg, db.clone(), options)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    // Sign in once as finance; every stream uses the session.
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let body = "email=finance%40guildhall.test&password=guildhall-demo";
    s.write_all(
        format!(
            "POST /fn/sign-in HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).await?;
    let cookie = answer
        .lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .find(|c| c.starts_with("gh_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("signing in failed: {answer}"))?;

    // The streams: each counts the payment events it has seen and notes when each arrived.
    let arrivals: Arc<Mutex<Vec<Vec<Instant>>>> = Arc::new(Mutex::new(vec![Vec::new(); changes]));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(streams.max(1));
    for _ in 0..streams {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        s.write_all(
            format!("GET /staff/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n")
                .as_bytes(),
        )
        .await?;
        let arrivals = arrivals.clone();
        let ready = ready_tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut text = String::new();
            let mut seen = 0usize;
            let mut told = false;
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
                // Whole events only (they end with a blank line); the rest waits for more bytes.
                while let Some(end) = text.find("\n\n") {
                    let event: String = text.drain(..end + 2).collect();
                    if !told && event.contains("event: ready") {
                        told = true;
                        let _ = ready.send(()).await;
                    }
                    if event.contains("data: payments") {
                        if let Ok(mut a) = arrivals.lock() {
                            if let Some(v) = a.get_mut(seen) {
                                v.push(Instant::now());
                            }
                        }
                        seen += 1;
                    }
                }
            }
        });
    }
    drop(ready_tx);
    for _ in 0..streams {
        ready_rx
            .recv()
            .await
            .ok_or_else(|| anyhow::anyhow!("a stream did not open"))?;
    }
    eprintln!("{streams} streams open");
    let officer_user = guildhall::entity::user::Entity::find()
        .filter(guildhall::entity::user::Column::EmailKey.eq("officer@guildhall.test"))
        .one(&db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo officer"))?;
    let officer = Actor {
        kind: ActorKind::Staff,
        user_id: Some(officer_user.id),
        label: officer_user.email.clone(),
        roles: vec![Role::Officer],
        request_id: None,
    };
    let member = member::Entity::find()
        .one(&db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no member"))?;
    let mut latencies = Vec::new();
    for i in 0..changes {
        let t0 = Instant::now();
        money::record_manual_payment(
            &db,
            &officer,
            member.id,
            &ManualPaymentInput {
                method: "cheque".into(),
                reference: format!("BENCH{i}"),
                amount: "1.00".into(),
                received_on: guildhall::service::today().to_string(),
                invoice: String::new(),
                form_key: uuid::Uuid::now_v7().to_string(),
            },
            "http://127.0.0.1",
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = arrivals.lock().map(|a| a[i].len()).unwrap_or(0);
            if got >= streams || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if let Ok(a) = arrivals.lock() {
            latencies.extend(a[i].iter().map(|t| t.duration_since(t0)));
            anyhow::ensure!(
                a[i].len() >= streams,
                "change {i} reached {} of {streams} streams",
                a[i].len()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();
    println!("events_streams {streams} count");
    println!("events_changes {changes} count");
    println!("events_p50 {:.1} ms", percentile_ms(&latencies, 50.0));
    println!("events_p99 {:.1} ms", percentile_ms(&latencies, 99.0));
    println!(
        "events_max {:.1} ms",
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    let _ = stop_tx.send(true);
    guildhall::service::events::shut_down();
    bench.drop_it().await;
    println!("invariants ok");
    Ok(())
}
