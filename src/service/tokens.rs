//! One-time links: single-use tokens sent by e-mail (confirm an address, reset or choose a password,
//! confirm a new address). The rule kept here: a token never exists in readable form anywhere Guildhall
//! stores or shows things — not in the token table (only its SHA-256 hash), not in the outbox, not in a
//! log. [`issue`] writes the token row with a placeholder that no token hashes to, and the message that
//! carries the link keeps it withheld ([`WITHHELD`]); the delivery worker calls [`arm`] at the moment of
//! sending, which makes the token, stores its hash on the row and puts the link into the copy of the
//! message handed to the transport. A row already used, replaced or expired is not armed: the message
//! is not sent with a dead link.

use crate::entity::{auth_token, outbox_message};
use base64::Engine;
use chrono::Duration;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What stored messages (and so staff, and a copy of the database) show instead of a one-time link.
pub const WITHHELD: &str = "[one-time link withheld]";

/// 32 random bytes, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token: SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A one-time link to be put into a message at delivery: the token row, the address the token is
/// appended to, and the template variable that holds the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub token_id: Uuid,
    pub prefix: String,
    pub variable: &'static str,
}

/// Issues a one-time link for `user_id` and `purpose`, valid for `valid_for`, to `prefix` (for example
/// `https://…/reset-password?token=`). Every earlier unused link for the same purpose stops working.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    purpose: &str,
    valid_for: Duration,
    new_email: Option<String>,
    prefix: String,
    variable: &'static str,
) -> Result<Link, DbErr> {
    let now = super::now();
    auth_token::Entity::update_many()
        .col_expr(auth_token::Column::UsedAt, Expr::value(now))
        .filter(auth_token::Column::UserId.eq(user_id))
        .filter(auth_token::Column::Purpose.eq(purpose))
        .filter(auth_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let id = super::new_id();
    auth_token::Entity::insert(auth_token::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        purpose: Set(purpose.to_owned()),
        // Not a SHA-256 in hex, so no token matches it until the link is armed.
        token_hash: Set(format!("withheld:{}", id.simple())),
        new_email: Set(new_email),
        created_at: Set(now),
        expires_at: Set(now + valid_for),
        used_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(Link {
        token_id: id,
        prefix,
        variable,
    })
}

/// Ends every unused link of an account, whatever its purpose (after a password reset or change).
pub async fn end_all<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, DbErr> {
    Ok(auth_token::Entity::update_many()
        .col_expr(auth_token::Column::UsedAt, Expr::value(super::now()))
        .filter(auth_token::Column::UserId.eq(user_id))
        .filter(auth_token::Column::UsedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Why a message's link could not be armed.
pub const DEAD_LINK: &str =
    "not sent: its one-time link was replaced, used or expired before it could be delivered";

/// Makes the token for a message's one-time link at the moment of delivery: stores its hash on the
/// token row (only while the row is unused and unexpired) and answers the message with the link in
/// place of [`WITHHELD`], for the transport only — it must never be written back. A message without a
/// link comes back as it is; `Ok(Err(_))` says the link is dead and the message must not be sent. Each
/// call makes a new token, so a delivery retried after a failure sends a link that works and the earlier
/// one stops working.
pub async fn arm<C: ConnectionTrait>(
    db: &C,
    msg: outbox_message::Model,
) -> Result<Result<outbox_message::Model, &'static str>, DbErr> {
    let (Some(token_id), Some(prefix)) = (msg.link_token_id, msg.link_prefix.clone()) else {
        return Ok(Ok(msg));
    };
    let token = random_token();
    let armed = auth_token::Entity::update_many()
        .col_expr(
            auth_token::Column::TokenHash,
            Expr::value(token_hash(&token)),
        )
        .filter(auth_token::Column::Id.eq(token_id))
        .filter(auth_token::Column::UsedAt.is_null())
        .filter(auth_token::Column::ExpiresAt.gt(super::now()))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !armed {
        return Ok(Err(DEAD_LINK));
    }
    let link = format!("{prefix}{token}");
    Ok(Ok(outbox_message::Model {
        body_text: msg.body_text.replace(WITHHELD, &link),
        body_html: msg.body_html.replace(WITHHELD, &link),
        ..msg
    }))
}
