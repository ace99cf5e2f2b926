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
    ) -> StoreResult<Attachment> {
        let (ok, oi, n, ct) = (
            owner_kind.to_owned(),
            owner_id.to_owned(),
            name.to_owned(),
            content_type.to_owned(),
        );
        self.run(move |t| {
            let id = new_id();
            let size = data.len() as i64;
            t.exec(
                "INSERT INTO attachments (id, owner_kind, owner_id, name, content_type, size, data, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                params![id, ok, oi, n, ct, size, data, now_ms()],
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
}
