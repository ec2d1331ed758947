//! `guildhall bench events`: change-to-browser latency of the staff event stream.

use super::{percentile_ms, BenchDb};
use guildhall::domain::{Actor, ActorKind, Role};
use guildhall::entity::member;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::{Duration, Instant};

/// Change-to-browser latency of the staff event stream: serves Guildhall on a local port, opens
/// `streams` event streams as a signed-in member of staff, records `changes` payments through the
/// services one after another, and times each from the start of the payment to its event arriving on
/// every stream. Prints `events_p50`, `events_p99` and the worst, in ms.
pub async fn events(database_url: &str, streams: usize, changes: usize) -> anyhow::Result<()> {
    use guildhall::service::payments::manual::ManualPaymentInput;
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
        guildhall::service::payments::manual::record_manual_payment(
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
