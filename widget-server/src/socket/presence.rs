//! Agent presence across nodes: an agent is online while any node holds one of their
//! sockets. A node alone counts its own sockets. With Redis, each node keeps the count
//! of its sockets per agent in a hash of its own and beats every [`BEAT`] (rewriting
//! that hash from its sockets, so the counts heal after Redis lost them); a node that
//! has not beaten for [`NODE_TTL`] is dead: the first live node to notice drops its
//! counts and marks offline the agents no other node holds.

use std::collections::HashMap;
use std::time::Duration;

use shared::model::AgentStatus;

use super::agent::Session;
use crate::AppState;

pub const BEAT: Duration = Duration::from_secs(5);
pub const NODE_TTL: Duration = Duration::from_secs(15);

/// KEYS: this node's hash, the nodes. ARGV: agent, hash prefix, ttl ms.
/// Takes one socket off this node's count and returns the agent's sockets on live nodes.
const LEFT: &str = r#"
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local total = 0
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], now - tonumber(ARGV[3]), '+inf')) do
  local c = tonumber(redis.call('HGET', ARGV[2] .. node, ARGV[1])) or 0
  if c > 0 then
    total = total + c
  end
end
return total
"#;

/// KEYS: this node's hash, the nodes. ARGV: node, ttl ms, then agent/count pairs.
/// Rewrites this node's counts, beats, and returns the nodes that stopped beating.
const BEAT_SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[1])
if #ARGV > 2 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
end
redis.call('ZADD', KEYS[2], now, ARGV[1])
return redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
"#;

/// KEYS: the nodes. ARGV: dead node, hash prefix, ttl ms. Drops a dead node's counts
/// (once, whoever asks first) and returns its agents that no live node holds.
const SWEEP: &str = r#"
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return {}
end
local hash = ARGV[2] .. ARGV[1]
local agents = redis.call('HKEYS', hash)
redis.call('DEL', hash)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[3]), '+inf')
local gone = {}
for _, agent in ipairs(agents) do
  local total = 0
  for _, node in ipairs(live) do
    total = total + (tonumber(redis.call('HGET', ARGV[2] .. node, agent)) or 0)
  end
  if total == 0 then
    table.insert(gone, agent)
  end
end
return gone
"#;

struct Keys {
    nodes: String,
    hash_prefix: String,
    mine: String,
}

fn keys(prefix: &str, node: &str) -> Keys {
    let hash_prefix = format!("{prefix}:presence:node:");
    Keys {
        nodes: format!("{prefix}:presence:nodes"),
        mine: format!("{hash_prefix}{node}"),
        hash_prefix,
    }
}

/// An agent socket connected on this node.
pub(super) async fn connected(st: &AppState, sess: &Session) {
    if let Some((mut conn, prefix)) = st.cluster.redis() {
        let k = keys(prefix, st.cluster.node());
        let r: redis::RedisResult<i64> = redis::cmd("HINCRBY")
            .arg(&k.mine)
            .arg(&sess.agent.id)
            .arg(1)
            .query_async(&mut conn)
            .await;
        if let Err(e) = r {
            tracing::debug!(error = %e, "presence not counted in Redis; the next beat will");
        }
    }
    if sess.agent.status == AgentStatus::Offline
        && let Err(e) = st
            .store
            .set_presence(&sess.agent.id, AgentStatus::Online)
            .await
    {
        tracing::warn!(error = %e, "could not mark agent online");
    }
}

/// An agent socket left this node, `local_others` of the agent's sockets remain here:
/// the agent goes offline when no node holds one.
pub async fn disconnected(st: &AppState, agent_id: &str, local_others: usize) {
    let mut remaining = local_others as i64;
    if let Some((mut conn, prefix)) = st.cluster.redis() {
        let k = keys(prefix, st.cluster.node());
        let r: redis::RedisResult<i64> = redis::Script::new(LEFT)
            .key(&k.mine)
            .key(&k.nodes)
            .arg(agent_id)
            .arg(&k.hash_prefix)
            .arg(NODE_TTL.as_millis() as u64)
            .invoke_async(&mut conn)
            .await;
        match r {
            Ok(n) => remaining = n,
            Err(e) => {
                tracing::debug!(error = %e, "Redis is not answering; presence judged locally");
            }
        }
    }
    if remaining <= 0
        && let Err(e) = st.store.set_presence(agent_id, AgentStatus::Offline).await
    {
        tracing::debug!(error = %e, "could not mark agent offline");
    }
}

/// Beats while the server runs (with Redis only).
pub fn spawn_heartbeat(st: AppState) {
    if !st.cluster.is_shared() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(BEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = beat(&st).await {
                tracing::debug!(error = %e, "presence beat failed; retrying");
            }
        }
    });
}

async fn beat(st: &AppState) -> redis::RedisResult<()> {
    let Some((mut conn, prefix)) = st.cluster.redis() else {
        return Ok(());
    };
    let node = st.cluster.node();
    let k = keys(prefix, node);
    let mut counts: HashMap<String, u64> = HashMap::new();
    if let Some(ns) = st.io.of(shared::events::AGENT_NS) {
        for s in ns.sockets() {
            if let Some(sess) = s.extensions.get::<Session>() {
                *counts.entry(sess.agent.id.to_string()).or_default() += 1;
            }
        }
    }
    let script = redis::Script::new(BEAT_SCRIPT);
    let mut call = script.key(&k.mine);
    call.key(&k.nodes)
        .arg(node)
        .arg(NODE_TTL.as_millis() as u64);
    for (agent, n) in &counts {
        call.arg(agent).arg(*n);
    }
    let dead: Vec<String> = call.invoke_async(&mut conn).await?;
    for d in dead.iter().filter(|d| d.as_str() != node) {
        let gone: Vec<String> = redis::Script::new(SWEEP)
            .key(&k.nodes)
            .arg(d)
            .arg(&k.hash_prefix)
            .arg(NODE_TTL.as_millis() as u64)
            .invoke_async(&mut conn)
            .await?;
        tracing::info!(node = %d, agents = gone.len(), "a node stopped; its agents without sockets elsewhere go offline");
        for agent in gone {
            if let Err(e) = st.store.set_presence(&agent, AgentStatus::Offline).await {
                tracing::debug!(error = %e, "could not mark agent offline");
            }
        }
    }
    Ok(())
}
