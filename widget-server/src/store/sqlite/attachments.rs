//! Uploaded files.

use super::*;

#[async_trait]
impl AttachmentStore for SqliteStore {
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
        self.run(move |t| {
            let size = data.len() as i64;
            let now = now_ms();
            if let Some(q) = &quota {
                let (files, bytes): (i64, i64) = t
                    .conn
                    .prepare_cached(
                        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM attachments \
                         WHERE owner_kind = ? AND owner_id = ? AND message_id IS NULL \
                         AND created_at > ?",
                    )?
                    .query_row(params![ok, oi, now - q.window_ms], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                crate::domain::quota::check_upload(
                    q,
                    u64::try_from(files).unwrap_or(0),
                    u64::try_from(bytes).unwrap_or(0),
                    u64::try_from(size).unwrap_or(0),
                )?;
            }
            let id = new_id();
            t.exec(
                "INSERT INTO attachments (id, owner_kind, owner_id, name, content_type, size, data, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                params![id, ok, oi, n, ct, size, data, now],
            )?;
            Ok(Attachment {
                url: format!("/api/v1/attachments/{id}"),
                id,
                name: n,
                content_type: ct,
                size: u64::try_from(size).unwrap_or(0),
            })
        })
        .await
    }

    async fn attachment(&self, id: &str) -> StoreResult<Option<AttachmentRecord>> {
        let row = sqlx::query(
            "SELECT a.name, a.content_type, a.size, a.owner_kind, a.owner_id, a.chat_id, a.data, m.kind \
             FROM attachments a LEFT JOIN messages m ON m.id = a.message_id WHERE a.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(read_failed)?;
        let Some(r) = row else { return Ok(None) };
        let rec = (|| -> Result<AttachmentRecord, sqlx::Error> {
            Ok(AttachmentRecord {
                meta: Attachment {
                    id: id.to_owned(),
                    name: r.try_get(0)?,
                    content_type: r.try_get(1)?,
                    size: u64::try_from(r.try_get::<i64, _>(2)?).unwrap_or(0),
                    url: format!("/api/v1/attachments/{id}"),
                },
                owner_kind: r.try_get(3)?,
                owner_id: r.try_get(4)?,
                chat_id: r.try_get(5)?,
                data: r.try_get(6)?,
                message_kind: r.try_get(7)?,
            })
        })()
        .map_err(read_failed)?;
        Ok(Some(rec))
    }

    async fn purge_unsent_attachments(&self, created_before_ms: i64) -> StoreResult<u64> {
        self.run(move |t| {
            let n = t.exec(
                "DELETE FROM attachments WHERE message_id IS NULL AND created_at < ?",
                [created_before_ms],
            )?;
            Ok(n as u64)
        })
        .await
    }
}
