//! The event log: replay for `sync` and the committed stream for the dispatcher.

use async_trait::async_trait;
use shared::ApiError;
use shared::limits::MAX_SYNC_EVENTS;
use shared::model::EventId;
use sqlx::Row;
use tokio::sync::mpsc;

use super::PgStore;
use crate::store::{EventStore, Published, StoreResult, SyncResult, Viewer, decode_event};

#[async_trait]
impl EventStore for PgStore {
    async fn events_since(&self, viewer: &Viewer, since: EventId) -> StoreResult<SyncResult> {
        let latest = PgStore::latest_event_id(self).await?;
        if since < 0 {
            return Err(ApiError::invalid("since_event_id must be 0 or more"));
        }
        if since >= latest {
            return Ok(SyncResult::Events(Vec::new(), latest));
        }
        let limit = i64::try_from(MAX_SYNC_EVENTS + 1).unwrap_or(i64::MAX);
        let viewer = viewer.clone();
        // Bounded by `latest`: what commits meanwhile comes with the next sync (or the
        // push), so the answer is exactly the log up to the id it names.
        let rows = self
            .read(move |c| {
                Box::pin(async move {
                    match &viewer {
                        Viewer::Customer(cid) => {
                            sqlx::query(
                                "SELECT id, name, customer_payload FROM events \
                                 WHERE customer_id = $1 AND id > $2 AND id <= $3 \
                                 AND customer_payload IS NOT NULL ORDER BY id LIMIT $4",
                            )
                            .bind(cid)
                            .bind(since)
                            .bind(latest)
                            .bind(limit)
                            .fetch_all(c)
                            .await
                        }
                        // Everything but other agents' notifications.
                        Viewer::Agent(a) if a.follows_all_chats() => {
                            sqlx::query(
                                "SELECT id, name, payload FROM events WHERE id > $1 AND id <= $2 \
                                 AND (name != 'notification' OR agent_id = $3) ORDER BY id LIMIT $4",
                            )
                            .bind(since)
                            .bind(latest)
                            .bind(&a.id)
                            .bind(limit)
                            .fetch_all(c)
                            .await
                        }
                        Viewer::Agent(a) => {
                            sqlx::query(
                                "SELECT id, name, payload FROM events WHERE id > $1 AND id <= $2 \
                                 AND (broadcast OR agent_id = $3 OR department_id = ANY($4) \
                                 OR prev_department_id = ANY($4)) ORDER BY id LIMIT $5",
                            )
                            .bind(since)
                            .bind(latest)
                            .bind(&a.id)
                            .bind(&a.department_ids)
                            .bind(limit)
                            .fetch_all(c)
                            .await
                        }
                    }
                })
            })
            .await?;
        if rows.len() > MAX_SYNC_EVENTS {
            return Ok(SyncResult::Resync(latest));
        }
        let mut events = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get(0).map_err(crate::store::fail::read_failed)?;
            let name: &str = r.try_get(1).map_err(crate::store::fail::read_failed)?;
            let payload: &str = r.try_get(2).map_err(crate::store::fail::read_failed)?;
            match decode_event(name, id, payload) {
                Ok(e) => events.push(e),
                Err(e) => tracing::error!(event_id = id, error = %e, "undecodable event skipped"),
            }
        }
        Ok(SyncResult::Events(events, latest))
    }

    async fn latest_event_id(&self) -> StoreResult<EventId> {
        PgStore::latest_event_id(self).await
    }

    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Published>> {
        PgStore::take_events(self)
    }
}
