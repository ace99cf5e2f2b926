//! Uploaded files.

use async_trait::async_trait;
use shared::model::Attachment;
use sqlx::Row;

use super::{PgResult, PgStore, Tx};
use crate::store::{AttachmentRecord, AttachmentStore, StoreResult, UploadQuota, new_id, now_ms};

/// The advisory lock (two-key form) that serialises one owner's quota-checked uploads
/// across nodes: key one is "UPLD", key two the owner's hash.
const UPLOAD_LOCK: i32 = 0x5550_4c44;

/// A new upload: its own fresh row. With a quota, the owner's uploads are serialised
/// (across nodes) by an advisory lock while the quota is checked.
async fn op_create_attachment(
    t: &mut Tx,
    owner_kind: String,
    owner_id: String,
    name: String,
    content_type: String,
    data: Vec<u8>,
    quota: Option<UploadQuota>,
) -> PgResult<Attachment> {
    let id = new_id();
    let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
    let now = now_ms();
    if let Some(q) = &quota {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(UPLOAD_LOCK)
            .bind(format!("{owner_kind}:{owner_id}"))
            .execute(t.conn())
            .await?;
        let (files, bytes): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(size), 0)::BIGINT FROM attachments \
             WHERE owner_kind = $1 AND owner_id = $2 AND message_id IS NULL AND created_at > $3",
        )
        .bind(&owner_kind)
        .bind(&owner_id)
        .bind(now - q.window_ms)
        .fetch_one(t.conn())
        .await?;
        crate::domain::quota::check_upload(
            q,
            u64::try_from(files).unwrap_or(0),
            u64::try_from(bytes).unwrap_or(0),
            u64::try_from(size).unwrap_or(0),
        )?;
    }
    sqlx::query(
        "INSERT INTO attachments (id, owner_kind, owner_id, name, content_type, size, data, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&owner_kind)
    .bind(&owner_id)
    .bind(&name)
    .bind(&content_type)
    .bind(size)
    .bind(&data)
    .bind(now)
    .execute(t.conn())
    .await?;
    Ok(Attachment {
        url: format!("/api/v1/attachments/{id}"),
        id,
        name,
        content_type,
        size: u64::try_from(size).unwrap_or(0),
    })
}

#[async_trait]
impl AttachmentStore for PgStore {
    async fn create_attachment(
        &self,
        owner_kind: &str,
        owner_id: &str,
        name: &str,
        content_type: &str,
        data: Vec<u8>,
        quota: Option<UploadQuota>,
    ) -> StoreResult<Attachment> {
        let (ok, oi, n, ct) = (
            owner_kind.to_owned(),
            owner_id.to_owned(),
            name.to_owned(),
            content_type.to_owned(),
        );
        run_op!(self, op_create_attachment(ok, oi, n, ct, data, quota))
    }

    async fn attachment(&self, id: &str) -> StoreResult<Option<AttachmentRecord>> {
        let id = id.to_owned();
        self.read(move |c| {
            Box::pin(async move {
                let row = sqlx::query(
                    "SELECT a.name, a.content_type, a.size, a.owner_kind, a.owner_id, a.chat_id, \
                     a.data, m.kind FROM attachments a LEFT JOIN messages m ON m.id = a.message_id \
                     WHERE a.id = $1",
                )
                .bind(&id)
                .fetch_optional(c)
                .await?;
                let Some(r) = row else { return Ok(None) };
                Ok(Some(AttachmentRecord {
                    meta: Attachment {
                        url: format!("/api/v1/attachments/{id}"),
                        id,
                        name: r.try_get(0)?,
                        content_type: r.try_get(1)?,
                        size: u64::try_from(r.try_get::<i64, _>(2)?).unwrap_or(0),
                    },
                    owner_kind: r.try_get(3)?,
                    owner_id: r.try_get(4)?,
                    chat_id: r.try_get(5)?,
                    data: r.try_get(6)?,
                    message_kind: r.try_get(7)?,
                }))
            })
        })
        .await
    }

    async fn purge_unsent_attachments(&self, created_before_ms: i64) -> StoreResult<u64> {
        self.run(move |t| {
            Box::pin(async move {
                let done = sqlx::query(
                    "DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1",
                )
                .bind(created_before_ms)
                .execute(t.conn())
                .await?;
                Ok(done.rows_affected())
            })
        })
        .await
    }
}
