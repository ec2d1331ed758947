//! Background jobs staff start from the Jobs page: the renewal run and the daily lifecycle job. A job is
//! a `jobs` row written as it goes (done / total), so the page (and any node serving it) shows live
//! progress, and the result or the error when it ends. One job of a kind runs at a time; a job the
//! server was stopped in the middle of is marked failed at the next start (the work itself is
//! resumable: running it again finishes it without doubling anything).

use crate::domain::{Actor, AppError, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::job::{self, JobKind, JobStatus};
use crate::service::money::providers::PaymentProvider;
use crate::service::{audit, renewals};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

/// Starts job `kind` as of `as_of` in the background. Answers its id.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn start(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: JobKind,
    as_of: NaiveDate,
    provider: Option<Arc<dyn PaymentProvider>>,
) -> Result<Uuid, AppError> {
    actor.require(Permission::EditMembers)?;
    let txn = crate::service::begin(db).await?;
    if job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "The {} is already running: wait for it to finish.",
            kind.label().to_lowercase()
        )));
    }
    let id = crate::service::new_id();
    job::ActiveModel {
        id: Set(id),
        kind: Set(kind),
        status: Set(JobStatus::Running),
        as_of: Set(as_of),
        done: Set(0),
        total: Set(0),
        result: Set(None),
        error: Set(None),
        started_by: Set(actor.label.clone()),
        started_at: Set(crate::service::now()),
        finished_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "job",
        id,
        AuditAction::JobStarted,
        None,
        Some(json!({"kind": kind, "as_of": as_of})),
    )
    .await?;
    txn.commit().await?;
    let (db, actor) = (db.clone(), actor.clone());
    tokio::spawn(async move {
        run(&db, &actor, id, kind, as_of, provider.as_deref()).await;
    });
    Ok(id)
}

async fn run(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    kind: JobKind,
    as_of: NaiveDate,
    provider: Option<&dyn PaymentProvider>,
) {
    let (tx, mut rx) = tokio::sync::watch::channel((0u64, 0u64));
    let writer_db = db.clone();
    // Progress is written at most a few times a second, whatever the job's pace.
    let writer = tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let (done, total) = *rx.borrow_and_update();
            let _ = job::Entity::update_many()
                .col_expr(
                    job::Column::Done,
                    sea_orm::sea_query::Expr::value(done as i64),
                )
                .col_expr(
                    job::Column::Total,
                    sea_orm::sea_query::Expr::value(total as i64),
                )
                .filter(job::Column::Id.eq(id))
                .exec(&writer_db)
                .await;
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    });
    let outcome = match kind {
        JobKind::Renewals => renewals::run::run(db, actor, as_of, renewals::WINDOW_DAYS, |d, t| {
            tx.send_replace((d, t));
        })
        .await
        .map(|r| {
            (
                format!(
                    "{} renewals raised and invitations queued ({} due, {} raised before, {} without a fee)",
                    r.raised, r.due, r.already, r.free
                ),
                r.raised,
            )
        }),
        JobKind::Daily => crate::service::renewals::daily::daily(db, actor, as_of, provider, |_, d, t| {
            tx.send_replace((d, t));
        })
        .await
        .map(|r| (r.summary(), r.renewals.raised)),
    };
    drop(tx);
    let _ = writer.await;
    let (status, result, error) = match outcome {
        Ok((text, _)) => (JobStatus::Done, Some(text), None),
        Err(e) => {
            tracing::error!(error = %e, job = %id, "job failed");
            (JobStatus::Failed, None, Some(e.to_string()))
        }
    };
    let finish = async {
        let txn = crate::service::begin(db).await?;
        let Some(j) = job::Entity::find_by_id(id).one(&txn).await? else {
            return Ok::<(), AppError>(());
        };
        let mut am: job::ActiveModel = j.into();
        am.status = Set(status);
        am.result = Set(result.clone());
        am.error = Set(error.clone());
        am.finished_at = Set(Some(crate::service::now()));
        am.update(&txn).await?;
        audit::record(
            &txn,
            actor,
            "job",
            id,
            AuditAction::JobFinished,
            Some(json!({"status": "running"})),
            Some(json!({"status": status, "result": result, "error": error})),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    };
    if let Err(e) = finish.await {
        tracing::error!(error = %e, job = %id, "recording a job's end failed");
    }
}

/// The latest jobs, newest first.
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> Result<Vec<job::Model>, AppError> {
    actor.require(Permission::EditMembers)?;
    Ok(job::Entity::find()
        .order_by_desc(job::Column::StartedAt)
        .limit(20)
        .all(db)
        .await?)
}

/// Jobs left `running` by a server that stopped: marked failed (run them again to finish the work).
pub async fn mark_interrupted(db: &DatabaseConnection) -> Result<u64, AppError> {
    let r = job::Entity::update_many()
        .col_expr(job::Column::Status, sea_orm::sea_query::Expr::value(JobStatus::Failed.as_str()))
        .col_expr(
            job::Column::Error,
            sea_orm::sea_query::Expr::value(
                "The server stopped while this job ran. Nothing was done twice or half: run it again to finish.",
            ),
        )
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Whether a job of `kind` for `as_of` has been started (and not failed).
#[tracing::instrument(skip_all)]
pub async fn started_for(
    db: &DatabaseConnection,
    kind: JobKind,
    as_of: NaiveDate,
) -> Result<bool, AppError> {
    Ok(job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::AsOf.eq(as_of))
        .filter(job::Column::Status.ne(JobStatus::Failed))
        .one(db)
        .await?
        .is_some())
}
