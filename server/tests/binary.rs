//! The `guildhall` binary as an operator uses it: the CLI subcommands, and serving with no configuration
//! on SQLite and with `DATABASE_URL=postgres://…`, answering `/healthz`, and stopping cleanly on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_guildhall"));
    c.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    c
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "guildhall-{name}-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn run(cmd: &mut Command, stdin: &str) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_cli_migrates_seeds_and_creates_the_first_admin() {
    let dir = temp_dir("cli");
    let mut c = bin();
    c.current_dir(&dir);
    let (ok, out) = run(c.arg("migrate"), "");
    assert!(ok, "{out}");
    assert!(
        dir.join("guildhall.db").exists(),
        "the default database is ./guildhall.db"
    );

    let (ok, out) = run(
        bin().current_dir(&dir).args([
            "staff",
            "create",
            "--email",
            "first@office.test",
            "--role",
            "admin",
        ]),
        "a sound opening passphrase\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = run(
        bin().current_dir(&dir).args([
            "staff",
            "create",
            "--email",
            "first@office.test",
            "--role",
            "admin",
        ]),
        "a sound opening passphrase\n",
    );
    assert!(
        !ok && out.contains("already exists"),
        "duplicate refused with a reason: {out}"
    );
    let (ok, out) = run(
        bin().current_dir(&dir).args([
            "staff",
            "create",
            "--email",
            "second@office.test",
            "--role",
            "owner",
        ]),
        "a sound opening passphrase\n",
    );
    assert!(!ok && out.contains("Choose a role"), "{out}");
    let (ok, out) = run(
        bin().current_dir(&dir).args([
            "staff",
            "create",
            "--email",
            "third@office.test",
            "--role",
            "officer",
        ]),
        "short\n",
    );
    assert!(!ok && out.contains("password"), "{out}");

    let (ok, first) = run(bin().current_dir(&dir).args(["seed", "--demo"]), "");
    assert!(ok, "{first}");
    assert!(
        first.contains("admin@guildhall.test") && first.contains("guildhall-demo"),
        "prints the demo sign-ins: {first}"
    );
    let (ok, second) = run(bin().current_dir(&dir).args(["seed", "--demo"]), "");
    assert!(
        ok && second.contains("0 categories, 0 accounts, 0 members added"),
        "{second}"
    );

    let (ok, out) = run(
        bin().current_dir(&dir).args(["seed", "--members", "2000"]),
        "",
    );
    assert!(ok, "{out}");
    assert!(out.lines().any(|l| l == "seed_members 2000 count"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("seed_rate ") && l.ends_with(" members/s")),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn serve_until_healthy_then_stop(mut cmd: Command) {
    let port = free_port();
    let mut child = cmd
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut answer = None;
    while Instant::now() < deadline {
        if let Some(a) = http_get(port, "/healthz") {
            answer = Some(a);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let answer = answer.unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "healthz: {answer}");
    let home = http_get(port, "/").unwrap_or_default();
    assert!(
        home.starts_with("HTTP/1.1 200") && home.contains("<h1"),
        "home page renders"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            assert!(s.success(), "graceful shutdown exits 0, got {s}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn guildhall_serves_on_sqlite_with_no_configuration_and_stops_on_sigterm() {
    let dir = temp_dir("serve");
    let mut c = bin();
    c.current_dir(&dir);
    serve_until_healthy_then_stop(c);
    assert!(dir.join("guildhall.db").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn guildhall_serves_on_postgresql() {
    let Some(pg) = guildhall::testing::postgres().await else {
        return; // GUILDHALL_TEST_POSTGRES unset: SQLite only (CI sets it, and .ci/test requires it there)
    };
    let url = pg.url.clone();
    let handle = tokio::task::spawn_blocking(move || {
        let mut c = bin();
        c.env("DATABASE_URL", url).current_dir(std::env::temp_dir());
        serve_until_healthy_then_stop(c);
    });
    handle.await.expect("serve on postgres");
    pg.finish().await;
}

/// `kill -9` in the middle of `guildhall renewals run`, then the same command again: exactly one
/// renewal invoice and one invitation per member due, and the ledger balanced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_run_killed_with_sigkill_and_run_again_raises_each_renewal_once() {
    use guildhall::entity::{document, outbox_message, renewal};
    use migrations::MigratorTrait;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
    let dir = temp_dir("kill");
    let url = format!("sqlite://{}/guildhall.db?mode=rwc", dir.display());
    let db = guildhall::db::connect(&url).await.expect("db");
    migrations::Migrator::up(&db, None).await.expect("migrate");
    guildhall::service::seed::categories(&db, &guildhall::domain::Actor::system("test"))
        .await
        .expect("categories");
    let n = server::bench::seed_due(&db, 8_000, guildhall::service::today())
        .await
        .expect("seed") as u64;
    db.close().await.expect("close");

    let mut child = bin()
        .env("DATABASE_URL", &url)
        .args(["renewals", "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // The progress line is written after each committed batch of 1,000: kill at the first one.
    let mut err = child.stderr.take().expect("stderr");
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("renewals raised") {
        match err.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            _ => break,
        }
    }
    child.kill().expect("kill -9");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the run should have been killed");

    let db = guildhall::db::connect(&url).await.expect("db");
    let part = renewal::Entity::find().count(&db).await.expect("n");
    assert!(
        part > 0 && part < n,
        "{part} of {n} raised before the kill: {}",
        String::from_utf8_lossy(&seen)
    );
    let (ok, out) = run(
        bin().env("DATABASE_URL", &url).args(["renewals", "run"]),
        "",
    );
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("renewals_already_raised {part} count")),
        "{out}"
    );

    assert_eq!(renewal::Entity::find().count(&db).await.expect("n"), n);
    let invoices = document::Entity::find()
        .filter(document::Column::Kind.eq(document::DocumentKind::Invoice))
        .filter(document::Column::Description.starts_with("Renewal:"))
        .count(&db)
        .await
        .expect("n");
    assert_eq!(invoices, n, "one renewal invoice per member");
    let invited: Vec<Option<uuid::Uuid>> = outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::MemberId)
        .filter(outbox_message::Column::Template.eq("renewal_invitation"))
        .into_tuple()
        .all(&db)
        .await
        .expect("q");
    let distinct: std::collections::HashSet<_> = invited.iter().flatten().collect();
    assert_eq!(invited.len() as u64, n, "one invitation per member");
    assert_eq!(distinct.len() as u64, n);
    assert!(guildhall::service::ledger::unbalanced_transactions(&db)
        .await
        .expect("check")
        .is_empty());
    db.close().await.expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `guildhall` serving on `port` against `url`, and waits until it answers.
fn start_node(url: &str, port: u16) -> std::process::Child {
    let mut child = bin()
        .env("DATABASE_URL", url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("GUILDHALL_DAILY_JOB_HOUR", "off")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn node");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http_get(port, "/healthz").is_some_and(|a| a.starts_with("HTTP/1.1 200")) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("node on port {port} did not start");
}

/// A form POST as a browser without JavaScript sends it; answers the whole response.
fn http_post(port: u16, path: &str, body: &str, cookie: Option<&str>) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{cookie}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn sign_in(port: u16, email: &str) -> String {
    let r = http_post(
        port,
        "/fn/sign-in",
        &format!(
            "email={}&password=guildhall-demo",
            email.replace('@', "%40")
        ),
        None,
    );
    let cookie =
        session_of(&r).unwrap_or_else(|| panic!("no session from signing in {email}: {r}"));
    let second_step = r.lines().any(|l| {
        l.eq_ignore_ascii_case("location: /sign-in/code")
            || l.trim_end().eq_ignore_ascii_case("location: /sign-in/code")
    });
    if !second_step {
        return cookie;
    }
    // Staff: the second step, with a code from the demo authenticator.
    let code = guildhall::service::mfa::current_code(guildhall::service::mfa::DEMO_TOTP_SECRET)
        .expect("demo code");
    let r = http_post(
        port,
        "/fn/second-step",
        &format!("code={code}"),
        Some(&cookie),
    );
    session_of(&r).unwrap_or_else(|| panic!("no session after the second step for {email}: {r}"))
}

fn session_of(r: &str) -> Option<String> {
    r.lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .find(|c| c.starts_with("gh_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// Two `guildhall` processes on one PostgreSQL database: a staff member's event stream on node B hears a
/// payment an officer records through node A (NOTIFY from A, LISTEN on B), and the dashboard figures
/// served by B include it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_posted_through_one_node_reaches_an_event_stream_on_another() {
    use guildhall::entity::payment;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let Some(pg) = guildhall::testing::postgres().await else {
        return; // GUILDHALL_TEST_POSTGRES unset: SQLite only (CI sets it, and .ci/test requires it there)
    };
    guildhall::service::seed::demo(&pg.db, "http://127.0.0.1:3000")
        .await
        .expect("demo");
    let (_, m) =
        guildhall::testing::account_member(&pg.db, guildhall::service::seed::DEMO_MEMBER).await;
    let url = pg.url.clone();
    let heard = tokio::task::spawn_blocking(move || {
        let (port_a, port_b) = (free_port(), free_port());
        let mut a = start_node(&url, port_a);
        let mut b = start_node(&url, port_b);
        let officer_on_a = sign_in(port_a, "officer@guildhall.test");
        let finance_on_b = sign_in(port_b, "finance@guildhall.test");

        // The stream on B: wait for its first event, so it is listening before the payment.
        let mut stream = TcpStream::connect(("127.0.0.1", port_b)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        write!(
            stream,
            "GET /staff/events HTTP/1.1\r\nHost: 127.0.0.1:{port_b}\r\nAccept: text/event-stream\r\nCookie: {finance_on_b}\r\n\r\n"
        )
        .expect("write");
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        let mut read_until = |stream: &mut TcpStream, seen: &mut String, want: &str| {
            let deadline = Instant::now() + Duration::from_secs(15);
            while !seen.contains(want) && Instant::now() < deadline {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
            seen.contains(want)
        };
        assert!(
            read_until(&mut stream, &mut seen, "event: ready"),
            "the stream opens: {seen}"
        );
        assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
        assert!(seen.to_lowercase().contains("content-type: text/event-stream"));

        // A cheque recorded through A.
        let r = http_post(
            port_a,
            "/fn/record-payment",
            &format!(
                "member_id={}&number={}&method=cheque&reference=CHQ-2-NODES&received_amount=12.34&received_on={}&against=&form_key={}",
                m.id,
                guildhall::domain::membership_number::MembershipNumber::text_of(m.membership_number),
                guildhall::service::today(),
                uuid::Uuid::now_v7()
            ),
            Some(&officer_on_a),
        );
        assert!(
            r.starts_with("HTTP/1.1 302") || r.starts_with("HTTP/1.1 303") || r.starts_with("HTTP/1.1 200"),
            "record payment: {r}"
        );
        let heard = read_until(&mut stream, &mut seen, "data: payments");
        // A stream without permission is refused.
        let member_on_b = sign_in(port_b, guildhall::service::seed::DEMO_MEMBER);
        let refused = {
            let mut s = TcpStream::connect(("127.0.0.1", port_b)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            write!(
                s,
                "GET /staff/events HTTP/1.1\r\nHost: 127.0.0.1:{port_b}\r\nCookie: {member_on_b}\r\nConnection: close\r\n\r\n"
            )
            .expect("write");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            out
        };
        for child in [&mut a, &mut b] {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        for child in [&mut a, &mut b] {
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let status = child.try_wait().ok().flatten();
            assert!(
                status.is_some_and(|s| s.success()),
                "a node with an open event stream stops on SIGTERM: {status:?}"
            );
        }
        (heard, seen, refused)
    })
    .await
    .expect("nodes");
    let (heard, seen, refused) = heard;
    assert!(
        heard,
        "node B's stream heard the payment made on node A: {seen}"
    );
    assert!(
        refused.starts_with("HTTP/1.1 403")
            || refused.starts_with("HTTP/1.1 303")
            || refused.starts_with("HTTP/1.1 302"),
        "a member's stream is refused: {refused}"
    );
    let p = payment::Entity::find()
        .filter(payment::Column::Reference.eq("CHQ-2-NODES"))
        .one(&pg.db)
        .await
        .expect("q");
    assert!(p.is_some_and(|p| p.amount_pence == 1_234));
    pg.finish().await;
}

/// `guildhall` in production mode with everything a real installation needs, in its own folder.
fn production(dir: &std::path::Path) -> Command {
    let mut c = bin();
    c.current_dir(dir)
        .env("GUILDHALL_ENV", "production")
        .env("GUILDHALL_BASE_URL", "https://members.example.org")
        .env("GUILDHALL_SMTP_HOST", "smtp.example.org")
        .env("GUILDHALL_PAYMENT_PROVIDER", "stripe")
        .env("GUILDHALL_STRIPE_SECRET_KEY", "sk_test_production_check")
        .env("GUILDHALL_STRIPE_WEBHOOK_SECRET", "whsec_production_check")
        .env(
            "GUILDHALL_SECRET_KEY",
            "a-long-random-installation-key-for-this-test-only",
        )
        .env("GUILDHALL_DAILY_JOB_HOUR", "off")
        .env_remove("GUILDHALL_SECURE_COOKIES")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()));
    c
}

/// Runs `cmd`, which must exit unsuccessfully within 30 s; its standard error.
fn refused_quickly(cmd: &mut Command) -> String {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &id.to_string()])
                .status();
            panic!("still running after 30 s: it should have refused to start");
        }
    };
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "exit status {}: {err}", out.status);
    err
}

#[test]
fn production_mode_refuses_each_unsafe_setting_with_its_own_line() {
    let dir = temp_dir("production");
    let refusals = |err: &str| {
        err.lines()
            .filter(|l| l.contains("refusing to start in production"))
            .count()
    };

    let err =
        refused_quickly(production(&dir).env("GUILDHALL_BASE_URL", "http://members.example.org"));
    assert!(
        refusals(&err) == 1 && err.contains("GUILDHALL_BASE_URL") && err.contains("https://"),
        "{err}"
    );

    let err = refused_quickly(production(&dir).env_remove("GUILDHALL_SMTP_HOST"));
    assert!(
        refusals(&err) == 1 && err.contains("GUILDHALL_SMTP_HOST is not set"),
        "{err}"
    );

    let err = refused_quickly(production(&dir).env_remove("GUILDHALL_SECRET_KEY"));
    assert!(
        refusals(&err) == 1 && err.contains("GUILDHALL_SECRET_KEY is not set"),
        "{err}"
    );

    let err = refused_quickly(production(&dir).env("GUILDHALL_PAYMENT_PROVIDER", "sandbox"));
    assert!(
        refusals(&err) == 1 && err.contains("GUILDHALL_PAYMENT_PROVIDER=sandbox"),
        "{err}"
    );

    // All at once: one line each.
    let err = refused_quickly(
        production(&dir)
            .env("GUILDHALL_BASE_URL", "http://members.example.org")
            .env_remove("GUILDHALL_SMTP_HOST")
            .env("GUILDHALL_PAYMENT_PROVIDER", "sandbox"),
    );
    assert_eq!(refusals(&err), 3, "{err}");

    // Seeding demo data is refused in production…
    let err = refused_quickly(production(&dir).args(["seed", "--demo"]));
    assert!(err.contains("seed") && err.contains("production"), "{err}");

    // …and with everything right, it serves.
    serve_until_healthy_then_stop(production(&dir));

    // Demo accounts (put there outside production) stop it again.
    let (ok, out) = run(bin().current_dir(&dir).args(["seed", "--demo"]), "");
    assert!(ok, "{out}");
    let err = refused_quickly(&mut production(&dir));
    assert!(refusals(&err) == 1 && err.contains("demo account"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `guildhall demo-code` prints the demo authenticator's current code (what the demo staff sign in
/// with), and is refused in production.
#[test]
fn demo_code_prints_the_demo_authenticators_code_and_is_refused_in_production() {
    let demo = || {
        guildhall::service::mfa::current_code(guildhall::service::mfa::DEMO_TOTP_SECRET)
            .expect("code")
    };
    let before = demo();
    let out = bin().arg("demo-code").output().expect("run");
    let after = demo();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(code.len(), 6, "{code}");
    // The 30-second step may have turned while it ran.
    assert!(
        code == before || code == after,
        "{code}: {before} / {after}"
    );
    let refused = bin()
        .arg("demo-code")
        .env("GUILDHALL_ENV", "production")
        .output()
        .expect("run");
    assert!(!refused.status.success());
}
