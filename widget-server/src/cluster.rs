//! Several nodes: what `widget-server` processes share through Redis (`--redis-url`).
//!
//! - The Socket.IO adapter: every push to a room (committed events, typing, the
//!   disconnect of a signed-out token) reaches the sockets of that room on every node.
//!   The node that committed a write publishes it once; each node delivers it to its own
//!   sockets, so every socket gets it once. [`PanelDriver`] carries the adapter's
//!   pub/sub on a connection that reconnects and resubscribes by itself.
//! - The sign-in throttle (`auth::throttle`), the rate limits (`socket::limits`) and the
//!   count of each agent's sockets per node (`socket::presence`), in keys under
//!   `--redis-prefix`.
//!
//! Redis holds nothing durable: losing it loses no data (the store has every message,
//! chat and revoked token); counters start again from zero. While Redis does not answer,
//! sign-ins get `unavailable`, rate limits fall back to this node's own buckets, and
//! pushes reach this node's sockets only (clients that miss some catch up with `sync`).
//! Without `--redis-url` every one of these is local to the process, as with one node.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use shared::ApiError;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

/// The adapter every namespace uses: the Redis adapter on [`PanelDriver`]; without
/// Redis its driver publishes nothing and the adapter only ever broadcasts locally.
pub type PanelAdapter =
    socketioxide_redis::CustomRedisAdapter<socketioxide::adapter::Emitter, PanelDriver>;

/// How long a Redis command may take before the node treats Redis as unavailable.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// The Redis connection shared by the adapter and the counters, if there is one.
#[derive(Clone, Default)]
pub struct Cluster {
    redis: Option<Arc<Shared>>,
}

struct Shared {
    conn: ConnectionManager,
    prefix: String,
    /// This node's name among the nodes (random at each start).
    node: String,
    /// Who receives the messages of each subscribed channel.
    handlers: Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>,
}

/// Adds `protocol=resp3` (pub/sub messages arrive as RESP3 pushes) unless the URL
/// names a protocol already; the option's value must be lowercase.
pub fn resp3_url(url: &str) -> String {
    if url.contains("protocol=") {
        return url.replace("protocol=RESP3", "protocol=resp3");
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}protocol=resp3")
}

impl Cluster {
    /// One node alone: nothing is shared.
    pub fn local() -> Cluster {
        Cluster::default()
    }

    /// Connects to Redis; keys and channels start with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Cluster> {
        let client = redis::Client::open(resp3_url(url))
            .map_err(|e| anyhow::anyhow!("bad --redis-url: {e}"))?;
        let handlers: Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>> = Arc::default();
        let route = handlers.clone();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            // A command waits for the reconnection in progress: keep it short, the
            // next command starts another.
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1))
            .set_push_sender(move |msg: redis::PushInfo| {
                deliver(msg, &route);
                Ok::<(), Infallible>(())
            })
            .set_automatic_resubscription();
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to Redis: {e}"))?;
        Ok(Cluster {
            redis: Some(Arc::new(Shared {
                conn,
                prefix: prefix.to_owned(),
                node: uuid::Uuid::new_v4().simple().to_string(),
                handlers,
            })),
        })
    }

    /// Whether other nodes may exist (state is shared through Redis).
    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    /// This node's name in Redis (empty on a node alone).
    pub fn node(&self) -> &str {
        self.redis.as_ref().map_or("", |r| r.node.as_str())
    }

    /// The adapter's driver.
    pub fn driver(&self) -> PanelDriver {
        PanelDriver(self.redis.clone())
    }

    /// The channel prefix of the Socket.IO adapter.
    pub fn adapter_prefix(&self) -> String {
        match &self.redis {
            Some(r) => format!("{}:sio", r.prefix),
            None => "sio".to_owned(),
        }
    }

    /// A connection for a command, and the key prefix, when Redis is configured.
    pub fn redis(&self) -> Option<(ConnectionManager, &str)> {
        self.redis
            .as_ref()
            .map(|r| (r.conn.clone(), r.prefix.as_str()))
    }
}

/// What a node answers when Redis does not.
pub fn unavailable(e: &redis::RedisError) -> ApiError {
    tracing::warn!(error = %e, "Redis is not answering");
    ApiError::new(
        shared::ErrorCode::Unavailable,
        "the server cannot reach its shared state right now; retry in a few seconds",
    )
}

fn deliver(msg: redis::PushInfo, handlers: &RwLock<HashMap<String, mpsc::Sender<ChanItem>>>) {
    if !matches!(msg.kind, redis::PushKind::Message) || msg.data.len() < 2 {
        return;
    }
    let mut data = msg.data.into_iter();
    let (Some(chan), Some(body)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(body)) = (
        redis::from_redis_value::<String>(chan),
        redis::from_redis_value::<Vec<u8>>(body),
    ) else {
        return;
    };
    let Ok(map) = handlers.read() else {
        return;
    };
    if let Some(tx) = map.get(&chan)
        && tx.try_send((chan, body)).is_err()
    {
        tracing::warn!("adapter messages arrive faster than they are handled; one dropped");
    }
}

/// The adapter's pub/sub over the shared connection manager (it reconnects and
/// resubscribes by itself), or nothing at all on a node alone.
#[derive(Clone)]
pub struct PanelDriver(Option<Arc<Shared>>);

impl Driver for PanelDriver {
    type Error = redis::RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        let Some(r) = &self.0 else {
            return Ok(());
        };
        let mut conn = r.conn.clone();
        redis::cmd("PUBLISH")
            .arg(chan)
            .arg(val)
            .query_async::<redis::Value>(&mut conn)
            .await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let Some(r) = &self.0 else {
            return Ok(MessageStream::new_empty());
        };
        let (tx, rx) = mpsc::channel(size.max(1024));
        if let Ok(mut map) = r.handlers.write() {
            map.insert(chan.clone(), tx);
        }
        let mut conn = r.conn.clone();
        conn.subscribe(chan).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        let Some(r) = &self.0 else {
            return Ok(());
        };
        if let Ok(mut map) = r.handlers.write() {
            map.remove(&chan);
        }
        let mut conn = r.conn.clone();
        conn.unsubscribe(chan).await
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let Some(r) = &self.0 else {
            return Ok(1);
        };
        let mut conn = r.conn.clone();
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_asks_for_resp3() {
        assert_eq!(
            resp3_url("redis://h:6379/"),
            "redis://h:6379/?protocol=resp3"
        );
        assert_eq!(
            resp3_url("redis://h/2?timeout=1"),
            "redis://h/2?timeout=1&protocol=resp3"
        );
        assert_eq!(
            resp3_url("redis://h/?protocol=RESP3"),
            "redis://h/?protocol=resp3"
        );
    }
}
