//! Engine.IO v4 / Socket.IO v5 text packets: the few shapes the load generator sends
//! and the cheap field lookups it does on what it receives.

use shared::ApiError;
use shared::events::Ack;

/// One decoded text frame. Slices borrow from the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `0{...}`: the Engine.IO handshake.
    Open(&'a str),
    /// `1`: the server closes the transport.
    Close,
    /// `2`: a server heartbeat; answer with [`PONG`].
    Ping,
    /// `3`
    Pong,
    /// `6`, or anything else at the Engine.IO level that needs no answer.
    Noop,
    /// `40/ns,{...}`: namespace connected.
    Connect { ns: &'a str, data: &'a str },
    /// `41/ns,`: the server left the namespace.
    Disconnect { ns: &'a str },
    /// `42/ns,ID["name",...]`
    Event {
        ns: &'a str,
        id: Option<u64>,
        data: &'a str,
    },
    /// `43/ns,ID[...]`
    Ack { ns: &'a str, id: u64, data: &'a str },
    /// `44/ns,{"message":...}`: the namespace connect was refused.
    ConnectError { ns: &'a str, data: &'a str },
    /// Binary events and acks (`45`, `46`): never used by the load generator.
    Binary,
}

/// The answer to a server heartbeat.
pub const PONG: &str = "3";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PacketError {
    #[error("empty frame")]
    Empty,
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    #[error("ack packet without an id")]
    AckWithoutId,
    #[error("malformed socket.io packet")]
    Malformed,
}

/// Decodes one Engine.IO text frame (and the Socket.IO packet inside a `4` frame).
pub fn parse(text: &str) -> Result<Packet<'_>, PacketError> {
    let mut chars = text.chars();
    let engine = chars.next().ok_or(PacketError::Empty)?;
    match engine {
        '0' => return Ok(Packet::Open(&text[1..])),
        '1' => return Ok(Packet::Close),
        '2' => return Ok(Packet::Ping),
        '3' => return Ok(Packet::Pong),
        '5' | '6' => return Ok(Packet::Noop),
        '4' => {}
        other => return Err(PacketError::UnknownType(other)),
    }
    let kind = chars.next().ok_or(PacketError::Malformed)?;
    let rest = &text[2..];
    let (ns, rest) = split_namespace(rest);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits == 0 {
        None
    } else {
        Some(
            rest[..digits]
                .parse::<u64>()
                .map_err(|_| PacketError::Malformed)?,
        )
    };
    let data = &rest[digits..];
    match kind {
        '0' => Ok(Packet::Connect { ns, data }),
        '1' => Ok(Packet::Disconnect { ns }),
        '2' => Ok(Packet::Event { ns, id, data }),
        '3' => Ok(Packet::Ack {
            ns,
            id: id.ok_or(PacketError::AckWithoutId)?,
            data,
        }),
        '4' => Ok(Packet::ConnectError { ns, data }),
        '5' | '6' => Ok(Packet::Binary),
        other => Err(PacketError::UnknownType(other)),
    }
}

/// `"/agent,rest"` → `("/agent", "rest")`; no leading `/` means the main namespace.
fn split_namespace(s: &str) -> (&str, &str) {
    if !s.starts_with('/') {
        return ("/", s);
    }
    match s.find(',') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

/// `40/ns,{auth}`: joins a namespace with its auth payload (already JSON).
pub fn connect(ns: &str, auth_json: &str) -> String {
    format!("40{ns},{auth_json}")
}

/// `42/ns,ID["name",data]` with an ack id, `42/ns,["name",data]` without.
pub fn event(ns: &str, id: Option<u64>, name: &str, data_json: &str) -> String {
    match id {
        Some(id) => format!("42{ns},{id}[\"{name}\",{data_json}]"),
        None => format!("42{ns},[\"{name}\",{data_json}]"),
    }
}

/// The name of an event whose data is `["name",...]`. Event names never contain
/// quotes or escapes, so the first quoted string is the name.
pub fn event_name(data: &str) -> Option<&str> {
    let rest = data.strip_prefix("[\"")?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// The first string value of `"key":"..."` in a compact JSON text, without parsing
/// the rest. Returns `None` when the key is absent or the value holds an escape (the
/// load generator's own ids never do, so such a value is not one of ours).
pub fn find_str_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\":\"");
    let start = json.find(&needle)? + needle.len();
    let rest = &json[start..];
    let end = rest.find('"')?;
    let value = &rest[..end];
    if value.contains('\\') {
        return None;
    }
    Some(value)
}

/// The outcome of an acked emit, from the `[{"ok":...}]` payload of an ack packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckStatus {
    Ok,
    Err(ApiError),
    /// Not an ack of the protocol's shape.
    Malformed,
}

/// Reads only whether an ack succeeded, cheaply in the common case.
pub fn ack_status(data: &str) -> AckStatus {
    if data.starts_with("[{\"ok\":true") {
        return AckStatus::Ok;
    }
    match serde_json::from_str::<Vec<Ack<serde::de::IgnoredAny>>>(data) {
        Ok(v) => match v.into_iter().next() {
            Some(Ack::Ok { .. }) => AckStatus::Ok,
            Some(Ack::Err { error, .. }) => AckStatus::Err(error),
            None => AckStatus::Malformed,
        },
        Err(_) => AckStatus::Malformed,
    }
}

/// Decodes the whole ack (setup emits need its data).
pub fn ack_value(data: &str) -> Result<serde_json::Value, ApiError> {
    let parsed: Vec<Ack<serde_json::Value>> = serde_json::from_str(data)
        .map_err(|e| ApiError::new(shared::ErrorCode::Internal, format!("bad ack: {e}")))?;
    match parsed.into_iter().next() {
        Some(ack) => ack.into_result(),
        None => Err(ApiError::new(shared::ErrorCode::Internal, "empty ack")),
    }
}

/// The message of a `connect_error` payload `{"message":"unauthorized",...}`.
pub fn connect_error_message(data: &str) -> String {
    serde_json::from_str::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| data.to_owned())
}

/// The load generator's message key: `lg-{sender}-{n}` as the `client_msg_id`. Sender
/// indices below the visitor count are visitors, the rest agents.
pub fn message_key(sender: u32, n: u32) -> String {
    format!("lg-{sender}-{n}")
}

/// Parses a [`message_key`]; anything else (a real client's UUID) gives `None`.
pub fn parse_message_key(id: &str) -> Option<(u32, u32)> {
    let rest = id.strip_prefix("lg-")?;
    let (s, n) = rest.split_once('-')?;
    Some((s.parse().ok()?, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ErrorCode;

    #[test]
    fn engine_packets() {
        assert_eq!(
            parse(r#"0{"sid":"x","pingInterval":25000}"#),
            Ok(Packet::Open(r#"{"sid":"x","pingInterval":25000}"#))
        );
        assert_eq!(parse("2"), Ok(Packet::Ping));
        assert_eq!(parse("3"), Ok(Packet::Pong));
        assert_eq!(parse("1"), Ok(Packet::Close));
        assert_eq!(parse("6"), Ok(Packet::Noop));
        assert_eq!(parse(""), Err(PacketError::Empty));
        assert_eq!(parse("9"), Err(PacketError::UnknownType('9')));
    }

    #[test]
    fn socketio_packets_with_namespace_and_ids() {
        assert_eq!(
            parse(r#"40/agent,{"sid":"abc"}"#),
            Ok(Packet::Connect {
                ns: "/agent",
                data: r#"{"sid":"abc"}"#
            })
        );
        assert_eq!(
            parse(r#"42/customer,["session",{"customer_id":"c"}]"#),
            Ok(Packet::Event {
                ns: "/customer",
                id: None,
                data: r#"["session",{"customer_id":"c"}]"#
            })
        );
        assert_eq!(
            parse(r#"42/agent,7["x",{}]"#),
            Ok(Packet::Event {
                ns: "/agent",
                id: Some(7),
                data: r#"["x",{}]"#
            })
        );
        assert_eq!(
            parse(r#"43/customer,1234[{"ok":true,"data":{}}]"#),
            Ok(Packet::Ack {
                ns: "/customer",
                id: 1234,
                data: r#"[{"ok":true,"data":{}}]"#
            })
        );
        assert_eq!(parse(r#"43/agent,[{}]"#), Err(PacketError::AckWithoutId));
        assert_eq!(
            parse(r#"44/agent,{"message":"unauthorized"}"#),
            Ok(Packet::ConnectError {
                ns: "/agent",
                data: r#"{"message":"unauthorized"}"#
            })
        );
        assert_eq!(parse("41/agent,"), Ok(Packet::Disconnect { ns: "/agent" }));
        assert_eq!(
            parse(r#"42["main",1]"#),
            Ok(Packet::Event {
                ns: "/",
                id: None,
                data: r#"["main",1]"#
            })
        );
    }

    #[test]
    fn encoding_round_trips_through_the_parser() {
        let s = event("/customer", Some(5), "message:send", r#"{"body":"hi"}"#);
        assert_eq!(s, r#"42/customer,5["message:send",{"body":"hi"}]"#);
        let Ok(Packet::Event { ns, id, data }) = parse(&s) else {
            panic!("not an event: {s}");
        };
        assert_eq!((ns, id), ("/customer", Some(5)));
        assert_eq!(event_name(data), Some("message:send"));
        assert_eq!(
            connect("/agent", r#"{"token":"t"}"#),
            r#"40/agent,{"token":"t"}"#
        );
        assert_eq!(
            event("/agent", None, "typing", "{}"),
            r#"42/agent,["typing",{}]"#
        );
    }

    #[test]
    fn field_lookup_without_full_parse() {
        let data = r#"["message:new",{"event_id":9,"message":{"id":"m","chat_id":"c1","client_msg_id":"lg-3-17","body":"x"}}]"#;
        assert_eq!(find_str_field(data, "client_msg_id"), Some("lg-3-17"));
        assert_eq!(find_str_field(data, "chat_id"), Some("c1"));
        assert_eq!(find_str_field(data, "missing"), None);
        assert_eq!(find_str_field(r#"{"a":"x\"y"}"#, "a"), None);
        // A body that merely mentions the key does not match: the needle includes `":"`.
        assert_eq!(
            find_str_field(
                r#"{"body":"client_msg_id","client_msg_id":"lg-1-2"}"#,
                "client_msg_id"
            ),
            Some("lg-1-2")
        );
    }

    #[test]
    fn ack_status_fast_and_slow_paths() {
        assert_eq!(
            ack_status(r#"[{"ok":true,"data":{"id":"m"}}]"#),
            AckStatus::Ok
        );
        assert_eq!(ack_status(r#"[{"data":{},"ok":true}]"#), AckStatus::Ok);
        let AckStatus::Err(e) =
            ack_status(r#"[{"ok":false,"error":{"code":"rate_limited","message":"slow down"}}]"#)
        else {
            panic!("expected an error");
        };
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert_eq!(ack_status("[]"), AckStatus::Malformed);
        assert_eq!(ack_status("nonsense"), AckStatus::Malformed);
        assert_eq!(
            ack_value(r#"[{"ok":true,"data":{"chat":{"id":"c"}}}]"#).unwrap()["chat"]["id"],
            "c"
        );
        assert_eq!(
            ack_value(r#"[{"ok":false,"error":{"code":"conflict","message":"taken"}}]"#)
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
    }

    #[test]
    fn message_keys() {
        assert_eq!(message_key(12, 345), "lg-12-345");
        assert_eq!(parse_message_key("lg-12-345"), Some((12, 345)));
        assert_eq!(parse_message_key("lgstart-1"), None);
        assert_eq!(parse_message_key("0b9f8c2e-2a59-4b87"), None);
        assert_eq!(parse_message_key("lg-x-1"), None);
        assert_eq!(
            connect_error_message(r#"{"message":"unauthorized"}"#),
            "unauthorized"
        );
    }
}
