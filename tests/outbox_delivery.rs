#![cfg(feature = "testing")]
//! The outbox worker against a real SMTP conversation: a small SMTP server started by each test on
//! 127.0.0.1:0 records every message it receives and answers as the test scripts it (accept, 451, 550, or
//! hang after the body as if the connection died mid-delivery). Each test runs on every database from
//! `guildhall::testing::databases()`.

use guildhall::entity::outbox_message;
use guildhall::entity::outbox_message::OutboxStatus;
use guildhall::mail::smtp::{SendError, SmtpConfig, SmtpTransport, TlsMode};
use guildhall::service::outbox::delivery::{self, WorkerConfig};
use guildhall::service::outbox::transport::{LogTransport, Transport};
use guildhall::service::outbox::{self, NewMessage};
use guildhall::testing::{databases, TestDb};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::json;
use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

// -------------------------------------------------------------------------------------------------------------
// A scriptable SMTP server
// -------------------------------------------------------------------------------------------------------------

/// How the server answers the end of one message's DATA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Accept,
    /// 451: try again later.
    Transient,
    /// 550: never.
    Permanent,
    /// Says nothing, as if the connection died after the body went out.
    Hang,
}

#[derive(Clone, Debug)]
struct Received {
    raw: String,
    message_id: String,
    reply: Reply,
}

#[derive(Default)]
struct ServerState {
    script: VecDeque<Reply>,
    received: Vec<Received>,
    connections: usize,
}

struct SmtpServer {
    addr: SocketAddr,
    state: Arc<Mutex<ServerState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test SMTP server");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(ServerState::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                shared.lock().expect("state").connections += 1;
                tokio::spawn(serve(socket, shared.clone()));
            }
        });
        Self { addr, state, task }
    }

    /// Replies for the next messages, in order; once used up, every message is accepted.
    fn script(&self, replies: &[Reply]) {
        self.state
            .lock()
            .expect("state")
            .script
            .extend(replies.iter().copied());
    }

    fn received(&self) -> Vec<Received> {
        self.state.lock().expect("state").received.clone()
    }

    fn connections(&self) -> usize {
        self.state.lock().expect("state").connections
    }

    /// How many times a message with this Message-ID reached the server (whatever the answer).
    fn count(&self, message_id: &str) -> usize {
        self.received()
            .iter()
            .filter(|r| r.message_id == message_id)
            .count()
    }

    fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: self.addr.ip().to_string(),
            port: self.addr.port(),
            username: None,
            password: None,
            tls: TlsMode::None,
            from_address: "membership@guildhall.test".into(),
            from_name: Some("Guildhall Membership Office".into()),
            timeout: Duration::from_secs(20),
        }
    }

    fn transport(&self) -> Arc<dyn Transport> {
        Arc::new(SmtpTransport::new(&self.config()).expect("SMTP transport"))
    }
}

async fn serve(socket: TcpStream, state: Arc<Mutex<ServerState>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    if write
        .write_all(b"220 test.invalid ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test.invalid\r\n250 8BITMIME\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            "DATA" => {
                if write
                    .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut raw = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == ".\r\n" => break,
                        Ok(_) => raw.push_str(&line),
                    }
                }
                let reply = {
                    let mut s = state.lock().expect("state");
                    let reply = s.script.pop_front().unwrap_or(Reply::Accept);
                    s.received.push(Received {
                        message_id: message_id(&raw),
                        raw,
                        reply,
                    });
                    reply
                };
                match reply {
                    Reply::Accept => b"250 2.0.0 queued\r\n",
                    Reply::Transient => b"451 4.3.0 mailbox busy, try again later\r\n",
                    Reply::Permanent => b"550 5.1.1 no such mailbox\r\n",
                    Reply::Hang => {
                        // Never answer; hold the connection until the client goes away.
                        let mut rest = String::new();
                        while matches!(lines.read_line(&mut rest).await, Ok(n) if n > 0) {
                            rest.clear();
                        }
                        return;
                    }
                }
            }
            _ => b"502 5.5.2 not implemented\r\n",
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// The Message-ID header of a raw message.
fn message_id(raw: &str) -> String {
    raw.split("\r\n")
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default()
}

// -------------------------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------------------------

fn config(worker_id: &str) -> WorkerConfig {
    WorkerConfig {
        max_attempts: 8,
        base_backoff: Duration::from_millis(40),
        lease: Duration::from_secs(5 * 60),
        poll_interval: Duration::from_millis(50),
        worker_id: worker_id.to_owned(),
    }
}

async fn enqueue(db: &DatabaseConnection, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = outbox::enqueue(
            db,
            NewMessage {
                template: "welcome",
                to_address: &format!("member{i}@example.org"),
                to_name: Some("Jo Bloggs"),
                user_id: None,
                member_id: None,
                context: json!({"given_name": "Jo", "sign_in_url": "https://guildhall.test/sign-in"}),
                link: None,
            },
        )
        .await
        .expect("enqueue");
        ids.push(id);
    }
    ids
}

async fn row(db: &DatabaseConnection, id: Uuid) -> outbox_message::Model {
    outbox_message::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read outbox")
        .expect("message exists")
}

/// Calls `deliver_one` until nothing is due; returns how many it handled.
async fn drain(db: &DatabaseConnection, transport: &dyn Transport, cfg: &WorkerConfig) -> usize {
    let mut n = 0;
    while delivery::deliver_one(db, transport, cfg)
        .await
        .expect("deliver_one")
        .is_some()
    {
        n += 1;
        assert!(n < 1000, "deliver_one never ran dry");
    }
    n
}

/// Waits (up to 15 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn all_have_status(db: &DatabaseConnection, ids: &[Uuid], status: OutboxStatus) -> bool {
    for id in ids {
        if row(db, *id).await.status != status {
            return false;
        }
    }
    true
}

// -------------------------------------------------------------------------------------------------------------
// Tests
// -------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_message_is_delivered_exactly_once_with_its_own_message_id() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let server = SmtpServer::start().await;
        let ids = enqueue(&db, 3).await;

        let delivered = drain(&db, server.transport().as_ref(), &config("w1")).await;

        assert_eq!(delivered, 3, "{name}");
        let received = server.received();
        assert_eq!(received.len(), 3, "{name}");
        for id in &ids {
            let m = row(&db, *id).await;
            assert_eq!(m.status, OutboxStatus::Sent, "{name}");
            assert_eq!(m.attempts, 1, "{name}");
            assert!(m.sent_at.is_some(), "{name}");
            assert_eq!(m.claimed_by.as_deref(), Some("w1"), "{name}");
            assert_eq!(
                server.count(&m.message_id),
                1,
                "{name}: {} delivered more or less than once",
                m.message_id
            );
            let raw = &received
                .iter()
                .find(|r| r.message_id == m.message_id)
                .expect("received")
                .raw;
            assert!(
                raw.contains(&format!("To: \"Jo Bloggs\" <{}>", m.to_address))
                    || raw.contains(&format!("To: Jo Bloggs <{}>", m.to_address)),
                "{name}: {raw}"
            );
            assert!(
                raw.contains("Subject: Your account is ready"),
                "{name}: {raw}"
            );
            assert!(raw.contains("multipart/alternative"), "{name}: {raw}");
            assert!(raw.contains("Guildhall Membership Office"), "{name}: {raw}");
        }
        let mut distinct: Vec<_> = received.iter().map(|r| r.message_id.clone()).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "{name}: Message-IDs are not distinct");
        assert_eq!(
            delivery::deliver_one(&db, server.transport().as_ref(), &config("w1"))
                .await
                .expect("deliver"),
            None
        );
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_after_the_backoff_then_sent() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let server = SmtpServer::start().await;
        server.script(&[Reply::Transient]);
        let cfg = WorkerConfig {
            base_backoff: Duration::from_millis(300),
            ..config("w1")
        };
        let id = enqueue(&db, 1).await[0];

        assert_eq!(
            delivery::deliver_one(&db, server.transport().as_ref(), &cfg)
                .await
                .expect("deliver"),
            Some(id)
        );
        let m = row(&db, id).await;
        assert_eq!(m.status, OutboxStatus::Pending, "{name}");
        assert_eq!(m.attempts, 1, "{name}");
        assert!(
            m.last_error.as_deref().is_some_and(|e| e.contains("451")),
            "{name}: {:?}",
            m.last_error
        );
        assert!(
            m.next_attempt_at > chrono::Utc::now(),
            "{name}: not backed off"
        );

        // Not due yet: nothing is sent.
        assert_eq!(
            delivery::deliver_one(&db, server.transport().as_ref(), &cfg)
                .await
                .expect("deliver"),
            None,
            "{name}"
        );
        assert_eq!(server.received().len(), 1, "{name}");
        assert_eq!(server.received()[0].reply, Reply::Transient, "{name}");

        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(
            delivery::deliver_one(&db, server.transport().as_ref(), &cfg)
                .await
                .expect("deliver"),
            Some(id)
        );
        let m = row(&db, id).await;
        assert_eq!(m.status, OutboxStatus::Sent, "{name}");
        assert_eq!(m.attempts, 2, "{name}");
        assert_eq!(
            server.count(&m.message_id),
            2,
            "{name}: the retry must carry the same Message-ID"
        );
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_fails_at_once_and_is_not_retried() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let server = SmtpServer::start().await;
        server.script(&[Reply::Permanent]);
        let id = enqueue(&db, 1).await[0];

        let handled = drain(&db, server.transport().as_ref(), &config("w1")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let again = drain(&db, server.transport().as_ref(), &config("w1")).await;

        assert_eq!((handled, again), (1, 0), "{name}");
        let m = row(&db, id).await;
        assert_eq!(m.status, OutboxStatus::Failed, "{name}");
        assert_eq!(m.attempts, 1, "{name}");
        assert!(m.sent_at.is_none(), "{name}");
        assert!(
            m.last_error.as_deref().is_some_and(|e| e.contains("550")),
            "{name}: {:?}",
            m.last_error
        );
        assert_eq!(server.received().len(), 1, "{name}");
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_fails_for_good_once_max_attempts_are_used() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let server = SmtpServer::start().await;
        server.script(&[Reply::Transient; 10]);
        let cfg = WorkerConfig {
            max_attempts: 3,
            base_backoff: Duration::from_millis(5),
            ..config("w1")
        };
        let id = enqueue(&db, 1).await[0];

        let mut deliveries = 0;
        for _ in 0..20 {
            deliveries += drain(&db, server.transport().as_ref(), &cfg).await;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }

        assert_eq!(deliveries, 3, "{name}");
        let m = row(&db, id).await;
        assert_eq!(m.status, OutboxStatus::Failed, "{name}");
        assert_eq!(m.attempts, 3, "{name}");
        assert!(
            m.last_error
                .as_deref()
                .is_some_and(|e| e.contains("451") && e.contains("3 attempts")),
            "{name}: {:?}",
            m.last_error
        );
        assert_eq!(server.count(&m.message_id), 3, "{name}");
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_transient_failure() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        // A port that was free a moment ago and has nobody listening now.
        let closed = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind")
            .local_addr()
            .expect("addr");
        let cfg = SmtpConfig {
            port: closed.port(),
            ..SmtpServer::start().await.config()
        };
        let transport = SmtpTransport::new(&cfg).expect("transport");
        let id = enqueue(&db, 1).await[0];

        delivery::deliver_one(&db, &transport, &config("w1"))
            .await
            .expect("deliver");

        let m = row(&db, id).await;
        assert_eq!(m.status, OutboxStatus::Pending, "{name}");
        assert_eq!(m.attempts, 1, "{name}");
        assert!(m.last_error.is_some(), "{name}");
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_delivery_loses_nothing_and_resends_with_the_same_message_id() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let server = SmtpServer::start().await;
        server.script(&[Reply::Hang]);
        let ids = enqueue(&db, 3).await;

        // Worker 1 takes the first message; the server swallows its body and never answers.
        let (_stop1, stop_rx1) = watch::channel(false);
        let first = tokio::spawn(delivery::run(
            db.clone(),
            server.transport(),
            config("w1"),
            Arc::new(Notify::new()),
            stop_rx1,
        ));
        eventually("the first message reaches the server", || async {
            !server.received().is_empty()
        })
        .await;
        assert_eq!(server.received()[0].reply, Reply::Hang, "{name}");
        let hung = server.received()[0].message_id.clone();
        let hung_row = {
            let mut found = None;
            for id in &ids {
                let m = row(&db, *id).await;
                if m.message_id == hung {
                    found = Some(m);
                }
            }
            found.expect("the hung message is one of ours")
        };
        assert_eq!(hung_row.status, OutboxStatus::Sending, "{name}");
        assert_eq!(hung_row.claimed_by.as_deref(), Some("w1"), "{name}");

        // kill -9: the task stops wherever it is, and records nothing more.
        first.abort();
        assert!(first.await.is_err_and(|e| e.is_cancelled()), "{name}");
        assert_eq!(
            row(&db, hung_row.id).await.status,
            OutboxStatus::Sending,
            "{name}: left in flight"
        );
        let others: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|id| *id != hung_row.id)
            .collect();
        assert!(
            all_have_status(&db, &others, OutboxStatus::Pending).await,
            "{name}"
        );

        // A new process starts. On SQLite it is the only writer and recovers every interrupted delivery; on
        // PostgreSQL other nodes might be mid-delivery, so it waits for the lease (zero here).
        let lease = if guildhall::db::is_postgres(&db) {
            Duration::ZERO
        } else {
            Duration::from_secs(300)
        };
        let (stop2, stop_rx2) = watch::channel(false);
        let second = tokio::spawn(delivery::run(
            db.clone(),
            server.transport(),
            WorkerConfig {
                lease,
                ..config("w2")
            },
            Arc::new(Notify::new()),
            stop_rx2,
        ));
        eventually("every message is sent", || {
            all_have_status(&db, &ids, OutboxStatus::Sent)
        })
        .await;
        stop2.send(true).expect("signal shutdown");
        tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("worker stops")
            .expect("worker ran");

        assert_eq!(
            server.count(&hung),
            2,
            "{name}: the interrupted message is sent again, with the same Message-ID"
        );
        for id in &others {
            let m = row(&db, *id).await;
            assert_eq!(
                server.count(&m.message_id),
                1,
                "{name}: {} sent more or less than once",
                m.message_id
            );
            assert_eq!(m.claimed_by.as_deref(), Some("w2"), "{name}");
        }
        assert_eq!(server.received().len(), 4, "{name}");
        let resent = row(&db, hung_row.id).await;
        assert_eq!(resent.claimed_by.as_deref(), Some("w2"), "{name}");
        assert!(
            resent
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("interrupted")),
            "{name}"
        );
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_stale_only_takes_back_claims_older_than_the_lease() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let ids = enqueue(&db, 2).await;
        let now = chrono::Utc::now();
        for (id, claimed_at) in [
            (ids[0], now),
            (ids[1], now - chrono::TimeDelta::minutes(10)),
        ] {
            outbox_message::ActiveModel {
                id: Set(id),
                status: Set(OutboxStatus::Sending),
                claimed_at: Set(Some(claimed_at)),
                claimed_by: Set(Some("elsewhere".into())),
                ..Default::default()
            }
            .update(&db)
            .await
            .expect("claim by hand");
        }

        let recovered = delivery::recover_stale(&db, Duration::from_secs(300))
            .await
            .expect("recover");
        assert_eq!(recovered, 1, "{name}");
        assert_eq!(
            row(&db, ids[0]).await.status,
            OutboxStatus::Sending,
            "{name}: a live claim was taken"
        );
        assert_eq!(
            row(&db, ids[1]).await.status,
            OutboxStatus::Pending,
            "{name}"
        );

        let recovered = delivery::recover_stale(&db, Duration::ZERO)
            .await
            .expect("recover");
        assert_eq!(recovered, 1, "{name}");
        assert_eq!(
            row(&db, ids[0]).await.status,
            OutboxStatus::Pending,
            "{name}"
        );
        finish(t, db).await;
    }
}

/// A transport that looks at the database while "sending": if the claim were still inside an open
/// transaction, the single-connection SQLite pool could not answer and PostgreSQL would show `pending`.
#[derive(Debug)]
struct Probe {
    db: DatabaseConnection,
    seen: Mutex<Vec<(OutboxStatus, Option<String>)>>,
}

#[async_trait::async_trait]
impl Transport for Probe {
    async fn send(&self, msg: &outbox_message::Model) -> Result<(), SendError> {
        let now = tokio::time::timeout(
            Duration::from_secs(5),
            outbox_message::Entity::find_by_id(msg.id).one(&self.db),
        )
        .await
        .map_err(|_| SendError::Transient("database not reachable during send".into()))?
        .map_err(|e| SendError::Transient(e.to_string()))?
        .ok_or_else(|| SendError::Transient("row missing".into()))?;
        self.seen
            .lock()
            .expect("seen")
            .push((now.status, now.claimed_by));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claim_is_committed_before_the_transport_is_called() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let id = enqueue(&db, 1).await[0];
        let probe = Probe {
            db: db.clone(),
            seen: Mutex::new(Vec::new()),
        };

        delivery::deliver_one(&db, &probe, &config("w1"))
            .await
            .expect("deliver");

        let seen = probe.seen.lock().expect("seen").clone();
        assert_eq!(
            seen,
            vec![(OutboxStatus::Sending, Some("w1".to_owned()))],
            "{name}"
        );
        assert_eq!(row(&db, id).await.status, OutboxStatus::Sent, "{name}");
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_transport_marks_messages_logged_and_contacts_no_server() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let server = SmtpServer::start().await;
        let ids = enqueue(&db, 2).await;

        let handled = drain(&db, &LogTransport, &config("dev")).await;

        assert_eq!(handled, 2, "{name}");
        for id in &ids {
            let m = row(&db, *id).await;
            assert_eq!(m.status, OutboxStatus::Logged, "{name}");
            assert_eq!(m.attempts, 1, "{name}");
            assert!(m.sent_at.is_some(), "{name}");
        }
        assert_eq!(server.connections(), 0, "{name}");
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_wakes_when_notified_and_stops_promptly_on_shutdown() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let server = SmtpServer::start().await;
        let wake = Arc::new(Notify::new());
        let (stop, stop_rx) = watch::channel(false);
        let cfg = WorkerConfig {
            poll_interval: Duration::from_secs(3600),
            ..config("w1")
        };
        let task = tokio::spawn(delivery::run(
            db.clone(),
            server.transport(),
            cfg,
            wake.clone(),
            stop_rx,
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;

        let ids = enqueue(&db, 1).await;
        wake.notify_one();
        eventually("the woken worker sends the message", || {
            all_have_status(&db, &ids, OutboxStatus::Sent)
        })
        .await;

        stop.send(true).expect("signal shutdown");
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .unwrap_or_else(|_| panic!("{name}: the worker did not stop promptly"))
            .expect("worker ran");
        finish(t, db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_deliver_the_same_message() {
    for t in databases().await {
        let (name, db) = (t.name, t.db.clone());
        let server = Arc::new(SmtpServer::start().await);
        let ids = enqueue(&db, 12).await;

        let mut tasks = Vec::new();
        for worker_id in ["w1", "w2"] {
            let (db, transport, cfg) = (db.clone(), server.transport(), config(worker_id));
            tasks.push(tokio::spawn(async move {
                drain(&db, transport.as_ref(), &cfg).await
            }));
        }
        let mut handled = 0;
        for t in tasks {
            handled += t.await.expect("worker task");
        }

        assert_eq!(handled, 12, "{name}");
        assert!(
            all_have_status(&db, &ids, OutboxStatus::Sent).await,
            "{name}"
        );
        assert_eq!(server.received().len(), 12, "{name}");
        for id in &ids {
            assert_eq!(server.count(&row(&db, *id).await.message_id), 1, "{name}");
        }
        finish(t, db).await;
    }
}

/// Drops the test's database (the per-test PostgreSQL database included).
async fn finish(t: TestDb, db: DatabaseConnection) {
    drop(db);
    t.finish().await;
}
