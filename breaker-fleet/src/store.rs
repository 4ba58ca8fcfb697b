//! The Redis side, a thin shell: three Lua scripts (a heartbeat, the lease, its release), each
//! one round trip under a timeout, on the `redis` crate's `ConnectionManager`, made lazily by
//! the first operation and made anew after the connection is lost.
//!
//! The keys, for a breaker named `NAME` under the prefix `PREFIX`:
//!
//! | key | type | what |
//! |---|---|---|
//! | `PREFIX:NAME:live` | sorted set | each live replica's id, scored by Redis's clock (ms) at its last heartbeat |
//! | `PREFIX:NAME:view:ID` | string, expires | replica `ID`'s last [`View`], JSON, at most 1 KiB |
//! | `PREFIX:NAME:probe` | string, expires | the probe's lease: `TOKEN:ID` |
//!
//! Every time is Redis's own (`TIME`), so replicas whose clocks differ still agree on who is
//! live and how old a view is. Everything read is bounded: at most `max_replicas` ids, each at
//! most 64 bytes, each view at most 1 KiB, checked in the script before it is sent.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

use crate::config::FleetConfig;
use crate::probe::LeaseAnswer;
use crate::redis_url::RedisUrl;
use crate::roster::Read;
use crate::view::{Garbage, MAX_ID, MAX_VIEW_BYTES, View};

/// Heartbeats a replica may miss before it is no longer live.
pub(crate) const LIVE_FOR_HEARTBEATS: u32 = 3;

/// Publishes this replica's view, forgets replicas whose heartbeat is older than the time to
/// live, and returns Redis's time, the live replicas' count, the probe's lease and every live
/// replica's view (an error marker in place of a view that is too long, not a string, or
/// missing).
const BEAT: &str = r"
local live, view_key, probe_key = KEYS[1], KEYS[2], KEYS[3]
local id, view, ttl, most = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local prefix, max_id, max_view = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local replaced = 0
local kind = redis.call('TYPE', live).ok
if kind ~= 'zset' and kind ~= 'none' then redis.call('DEL', live); replaced = 1 end
redis.call('SET', view_key, view, 'PX', ttl)
redis.call('ZADD', live, now, id)
redis.call('ZREMRANGEBYSCORE', live, '-inf', now - ttl)
redis.call('PEXPIRE', live, ttl * 10)
local count = redis.call('ZCARD', live)
local holder = redis.pcall('GET', probe_key)
if type(holder) ~= 'string' or #holder > max_view then holder = false end
local out = {now, count, replaced, holder}
local ids = redis.call('ZRANGE', live, 0, most - 1, 'WITHSCORES')
for i = 1, #ids, 2 do
  local member, score = ids[i], tonumber(ids[i + 1])
  if #member > max_id then
    table.insert(out, '!'); table.insert(out, now - score); table.insert(out, '!id too long')
  else
    local size = redis.pcall('STRLEN', prefix .. member)
    local value
    if type(size) ~= 'number' then value = '!not a string'
    elseif size > max_view then value = '!longer than ' .. max_view .. ' bytes'
    else value = redis.call('GET', prefix .. member) or '!missing' end
    table.insert(out, member); table.insert(out, now - score); table.insert(out, value)
  end
end
return out
";

/// Takes the probe's lease if it is free (`SET NX PX`); returns whether it was taken, the value
/// under the key and the milliseconds it has left. A value that is not a lease (no expiry, not
/// a string) is garbage: it is replaced.
const TAKE_LEASE: &str = r"
local t = redis.call('TIME')
-- Written as digits: a Lua number this large would print as 1.7e+15.
local value = t[1] .. string.format('%06d', tonumber(t[2])) .. ':' .. ARGV[1]
if redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2]) then return {1, value, tonumber(ARGV[2])} end
local current = redis.pcall('GET', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if type(current) ~= 'string' or left < 0 then
  redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
  return {1, value, tonumber(ARGV[2])}
end
return {0, current, left}
";

/// Deletes the lease only if it still holds this replica's value (compare-and-delete).
const RELEASE_LEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// A Redis operation that did not complete. Its text never quotes the Redis URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No answer within the timeout.
    #[error("no answer from Redis within {0:?}")]
    Timeout(Duration),
    /// Redis or the connection to it failed.
    #[error("Redis failed: {0}")]
    Failed(String),
    /// An answer the fleet's scripts never give.
    #[error("an answer of the wrong shape from Redis: {0}")]
    Shape(&'static str),
}

/// What one heartbeat read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Board {
    /// Redis's clock, in milliseconds.
    pub(crate) redis_ms: u64,
    /// Live replicas in the sorted set, read or not.
    pub(crate) live: u64,
    /// Whether garbage stood where the sorted set should.
    pub(crate) replaced_live_key: bool,
    /// The probe's lease: `TOKEN:ID`.
    pub(crate) lease: Option<String>,
    /// The views read.
    pub(crate) reads: Vec<Read>,
    /// What was garbage, by the id it was read under.
    pub(crate) garbage: Vec<(String, Garbage)>,
}

/// The keys and the scripts.
pub(crate) struct Store {
    url: RedisUrl,
    timeout: Duration,
    connection: Option<ConnectionManager>,
    live_key: String,
    view_prefix: String,
    probe_key: String,
    id: String,
    max_replicas: u32,
    beat: Script,
    take_lease: Script,
    release: Script,
}

impl Store {
    pub(crate) fn new(config: &FleetConfig, breaker: &str) -> Self {
        let base = format!("{}:{breaker}", config.key_prefix);
        Self {
            url: config.redis.clone(),
            timeout: config.redis_timeout,
            connection: None,
            live_key: format!("{base}:live"),
            view_prefix: format!("{base}:view:"),
            probe_key: format!("{base}:probe"),
            id: config.id.as_str().to_owned(),
            max_replicas: config.max_replicas,
            beat: Script::new(BEAT),
            take_lease: Script::new(TAKE_LEASE),
            release: Script::new(RELEASE_LEASE),
        }
    }

    /// The connection, made now if there is none: lazily, so that no Redis is needed to start.
    fn connection(&mut self) -> Result<ConnectionManager, StoreError> {
        if let Some(connection) = &self.connection {
            return Ok(connection.clone());
        }
        let client = redis::Client::open(self.url.full())
            .map_err(|_| StoreError::Failed("the Redis URL was refused".to_owned()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            // The heartbeat retries; the manager's own retries would only delay its answer.
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|err| StoreError::Failed(describe(&err)))?;
        self.connection = Some(connection.clone());
        Ok(connection)
    }

    /// Runs one script within the timeout. A failure other than a timeout drops the
    /// connection, so that the next operation connects afresh.
    async fn run(&mut self, invocation: redis::ScriptInvocation<'_>) -> Result<Value, StoreError> {
        let mut connection = self.connection()?;
        let answer = tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection));
        match answer.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) if err.is_timeout() => Err(StoreError::Timeout(self.timeout)),
            Ok(Err(err)) => {
                self.connection = None;
                Err(StoreError::Failed(describe(&err)))
            }
            Err(_) => Err(StoreError::Timeout(self.timeout)),
        }
    }

    /// Publishes `view` with a time to live of `ttl`, and reads the fleet.
    pub(crate) async fn beat(&mut self, view: &View, ttl: Duration) -> Result<Board, StoreError> {
        let beat = self.beat.clone();
        let mut invocation = beat.prepare_invoke();
        invocation
            .key(&self.live_key)
            .key(format!("{}{}", self.view_prefix, self.id))
            .key(&self.probe_key)
            .arg(&self.id)
            .arg(view.encode())
            .arg(millis(ttl).max(1))
            .arg(self.max_replicas)
            .arg(&self.view_prefix)
            .arg(MAX_ID)
            .arg(MAX_VIEW_BYTES);
        let value = self.run(invocation).await?;
        parse_board(value)
    }

    /// Asks for the probe's lease for `ttl`.
    pub(crate) async fn take_lease(&mut self, ttl: Duration) -> Result<LeaseAnswer, StoreError> {
        let script = self.take_lease.clone();
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&self.probe_key)
            .arg(&self.id)
            .arg(millis(ttl).max(1));
        let value = self.run(invocation).await?;
        parse_lease(value)
    }

    /// Releases the lease stored as `value`, if it still is.
    pub(crate) async fn release(&mut self, value: &str) -> Result<(), StoreError> {
        let script = self.release.clone();
        let mut invocation = script.prepare_invoke();
        invocation.key(&self.probe_key).arg(value);
        self.run(invocation).await.map(drop)
    }
}

/// A Redis error in words that never quote the URL: its kind and the server's message.
fn describe(err: &redis::RedisError) -> String {
    match err.detail() {
        Some(detail) => format!("{:?}: {detail}", err.kind()),
        None if err.is_io_error() => format!("{:?}: the connection failed", err.kind()),
        None => format!("{:?}", err.kind()),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn int(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        _ => None,
    }
}

/// The heartbeat's answer: `[now, count, replaced, lease, (id, age, view)...]`.
fn parse_board(value: Value) -> Result<Board, StoreError> {
    let Value::Array(items) = value else {
        return Err(StoreError::Shape("not an array"));
    };
    let [now, live, replaced, lease, rest @ ..] = items.as_slice() else {
        return Err(StoreError::Shape("fewer than four items"));
    };
    if rest.len() % 3 != 0 {
        return Err(StoreError::Shape("replicas not in threes"));
    }
    let mut board = Board {
        redis_ms: int(now).ok_or(StoreError::Shape("no time"))?,
        live: int(live).ok_or(StoreError::Shape("no count"))?,
        replaced_live_key: int(replaced) == Some(1),
        lease: bytes(lease).map(|value| String::from_utf8_lossy(value).into_owned()),
        reads: Vec::with_capacity(rest.len() / 3),
        garbage: Vec::new(),
    };
    for replica in rest.chunks_exact(3) {
        let id = bytes(&replica[0])
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let age_ms = int(&replica[1]).unwrap_or(0);
        let value = bytes(&replica[2]).unwrap_or_default();
        if let Some(marker) = value.strip_prefix(b"!") {
            let why = String::from_utf8_lossy(marker).into_owned();
            board
                .garbage
                .push((id.into_owned(), Garbage::Unreadable(why)));
            continue;
        }
        match View::decode(value) {
            Ok(view) if view.id == id => board.reads.push(Read { view, age_ms }),
            Ok(_) => board.garbage.push((
                id.into_owned(),
                Garbage::Invalid("a view under another's id"),
            )),
            Err(garbage) => board.garbage.push((id.into_owned(), garbage)),
        }
    }
    Ok(board)
}

/// The lease's answer: `[taken, value, left_ms]`.
fn parse_lease(value: Value) -> Result<LeaseAnswer, StoreError> {
    let Value::Array(items) = value else {
        return Err(StoreError::Shape("not an array"));
    };
    let [taken, value, left] = items.as_slice() else {
        return Err(StoreError::Shape("not three items"));
    };
    let value = bytes(value).ok_or(StoreError::Shape("no value"))?;
    let value = String::from_utf8_lossy(value).into_owned();
    let (token, holder) = split_lease(&value).ok_or(StoreError::Shape("not a lease"))?;
    if int(taken) == Some(1) {
        return Ok(LeaseAnswer::Won { token, value });
    }
    Ok(LeaseAnswer::Lost {
        holder: holder.to_owned(),
        left: Duration::from_millis(int(left).unwrap_or(0)),
    })
}

/// `TOKEN:ID` as its token and its holder's id.
pub(crate) fn split_lease(value: &str) -> Option<(u64, &str)> {
    let (token, holder) = value.split_once(':')?;
    Some((token.parse().ok()?, holder))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::closed_view;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn a_heartbeats_answer_reads_into_a_board_with_its_garbage_apart() {
        let good = closed_view("b", 7);
        let answer = Value::Array(vec![
            Value::Int(5_000),
            Value::Int(4),
            Value::Int(0),
            bulk("17:b"),
            bulk("b"),
            Value::Int(120),
            bulk(&good.encode()),
            bulk("c"),
            Value::Int(0),
            bulk("!not a string"),
            bulk("d"),
            Value::Int(0),
            bulk("{nonsense"),
            bulk("e"),
            Value::Int(0),
            bulk(&closed_view("f", 1).encode()),
        ]);
        let board = parse_board(answer).expect("a board");
        assert_eq!((board.redis_ms, board.live), (5_000, 4));
        assert!(!board.replaced_live_key);
        assert_eq!(board.lease.as_deref(), Some("17:b"));
        assert_eq!(
            board.reads,
            [Read {
                view: good,
                age_ms: 120
            }]
        );
        let garbage: Vec<_> = board
            .garbage
            .iter()
            .map(|(id, why)| format!("{id}: {why}"))
            .collect();
        assert_eq!(garbage.len(), 3);
        assert_eq!(garbage[0], "c: not a string");
        assert!(garbage[1].starts_with("d: not a view"));
        assert_eq!(garbage[2], "e: a view under another's id");
    }

    #[test]
    fn a_heartbeat_that_replaced_the_live_set_says_so() {
        let answer = Value::Array(vec![
            Value::Int(5_000),
            Value::Int(1),
            Value::Int(1),
            Value::Nil,
        ]);
        let board = parse_board(answer).expect("a board");
        assert!(board.replaced_live_key);
        assert_eq!(board.lease, None);
        assert!(board.reads.is_empty() && board.garbage.is_empty());
    }

    #[test]
    fn answers_of_the_wrong_shape_are_errors_not_panics() {
        for answer in [
            Value::Nil,
            Value::Array(vec![Value::Int(1)]),
            Value::Array(vec![
                Value::Int(1),
                Value::Int(1),
                Value::Int(0),
                Value::Nil,
                bulk("a"),
            ]),
            Value::Array(vec![bulk("x"), Value::Int(1), Value::Int(0), Value::Nil]),
        ] {
            assert!(parse_board(answer).is_err());
        }
        for answer in [
            Value::Nil,
            Value::Array(vec![Value::Int(1), bulk("nonsense"), Value::Int(5)]),
            Value::Array(vec![Value::Int(1)]),
        ] {
            assert!(parse_lease(answer).is_err());
        }
    }

    #[test]
    fn a_lease_answer_says_who_holds_it_and_for_how_long() {
        let won = Value::Array(vec![Value::Int(1), bulk("99:me"), Value::Int(5_200)]);
        assert_eq!(
            parse_lease(won),
            Ok(LeaseAnswer::Won {
                token: 99,
                value: "99:me".to_owned()
            })
        );
        let lost = Value::Array(vec![
            Value::Int(0),
            bulk("98:other:5000"),
            Value::Int(4_000),
        ]);
        assert_eq!(
            parse_lease(lost),
            Ok(LeaseAnswer::Lost {
                holder: "other:5000".to_owned(),
                left: Duration::from_millis(4_000)
            })
        );
        assert_eq!(split_lease("12:a:1"), Some((12, "a:1")));
        assert_eq!(split_lease("x:a"), None);
    }
}
