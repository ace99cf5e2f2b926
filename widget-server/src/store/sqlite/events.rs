//! The event log: replay for `sync` and the committed stream for the dispatcher.

use super::*;

#[async_trait]
impl EventStore for SqliteStore {
    async fn events_since(&self, viewer: &Viewer, since: EventId) -> StoreResult<SyncResult> {
        let latest = self.latest_event_id().await?;
        if since < 0 {
            return Err(ApiError::invalid("since_event_id must be 0 or more"));
        }
        if since >= latest {
            return Ok(SyncResult::Events(Vec::new(), latest));
        }
        let limit = (MAX_SYNC_EVENTS + 1) as i64;
        let rows = match viewer {
            Viewer::Customer(cid) => sqlx::query(
                "SELECT id, name, customer_payload FROM events WHERE customer_id = ? AND id > ? \
                 AND customer_payload IS NOT NULL ORDER BY id LIMIT ?",
            )
            .bind(cid)
            .bind(since)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(read_failed)?,
            Viewer::Agent(a) if a.follows_all_chats() => {
                // Everything but other agents' notifications.
                sqlx::query(
                    "SELECT id, name, payload FROM events WHERE id > ? \
                     AND (name != 'notification' OR agent_id = ?) ORDER BY id LIMIT ?",
                )
                .bind(since)
                .bind(&a.id)
                .bind(limit)
                .fetch_all(&self.read)
                .await
                .map_err(read_failed)?
            }
            Viewer::Agent(a) => {
                let depts =
                    serde_json::to_string(&a.department_ids).map_err(|_| ApiError::internal())?;
                sqlx::query(
                    "SELECT id, name, payload FROM events WHERE id > ? AND (broadcast = 1 OR agent_id = ? \
                     OR department_id IN (SELECT value FROM json_each(?)) \
                     OR prev_department_id IN (SELECT value FROM json_each(?))) ORDER BY id LIMIT ?",
                )
                .bind(since)
                .bind(&a.id)
                .bind(&depts)
                .bind(&depts)
                .bind(limit)
                .fetch_all(&self.read)
                .await
                .map_err(read_failed)?
            }
        };
        if rows.len() > MAX_SYNC_EVENTS {
            return Ok(SyncResult::Resync(latest));
        }
        let mut events = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get(0).map_err(read_failed)?;
            let name: String = r.try_get(1).map_err(read_failed)?;
            let payload: String = r.try_get(2).map_err(read_failed)?;
            match decode_event(&name, id, &payload) {
                Ok(e) => events.push(e),
                Err(e) => tracing::error!(event_id = id, error = %e, "undecodable event skipped"),
            }
        }
        Ok(SyncResult::Events(events, latest))
    }

    async fn latest_event_id(&self) -> StoreResult<EventId> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(&self.read)
            .await
            .map_err(read_failed)?;
        Ok(id.unwrap_or(0))
    }

    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Published>> {
        self.events_rx.lock().ok().and_then(|mut r| r.take())
    }
}
