//! Uploaded files.

use async_trait::async_trait;
use shared::model::Attachment;
use sqlx::Row;

use super::{PgResult, PgStore, Tx};
use crate::store::{AttachmentRecord, AttachmentStore, StoreResult, new_id, now_ms};

/// A new upload: its own fresh row, so it takes no lock.
async fn op_create_attachment(
    t: &mut Tx,
    owner_kind: String,
    owner_id: String,
    name: String,
    content_type: String,
    data: Vec<u8>,
) -> PgResult<Attachment> {
    let id = new_id();
    let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
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
    .bind(now_ms())
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
    ) -> StoreResult<Attachment> {
        let (ok, oi, n, ct) = (
            owner_kind.to_owned(),
            owner_id.to_owned(),
            name.to_owned(),
            content_type.to_owned(),
        );
        run_op!(self, op_create_attachment(ok, oi, n, ct, data))
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
}
