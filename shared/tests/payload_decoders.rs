//! The socket payload decoders hold under arbitrary input: no JSON value or byte
//! string panics one, whatever decodes round-trips, and every well-formed payload
//! (with any extra fields) decodes.

mod client_payloads;

use client_payloads::DECODERS;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Map, Number, Value};
use shared::model::AgentStatus;

/// The field names the payloads use, so that arbitrary objects often come close to
/// a real payload.
const FIELDS: &[&str] = &[
    "token",
    "chat_id",
    "to_agent_id",
    "to_department_id",
    "note",
    "resolution",
    "add",
    "remove",
    "client_msg_id",
    "body",
    "kind",
    "attachment_ids",
    "seq",
    "typing",
    "status",
    "customer_id",
    "blocked",
    "since_event_id",
    "visitor_token",
    "name",
    "email",
    "department_id",
    "score",
    "comment",
];

/// Strings the payloads give meaning to (enum names and look-alikes).
const WORDS: &[&str] = &[
    "text",
    "note",
    "event",
    "online",
    "away",
    "busy",
    "dnd",
    "in_meeting",
    "on_leave",
    "offline",
    "Online",
    "sleeping",
    "",
    "true",
    "1",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u8..=255).prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        proptest::sample::select(WORDS).prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(FIELDS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Any JSON value, nested a few levels, with objects keyed mostly by real field names.
fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(key(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A top-level object, as a socket payload is (the server refuses anything else).
fn payload_object() -> impl Strategy<Value = Value> {
    btree_map(key(), json(), 0..10).prop_map(|m| Value::Object(m.into_iter().collect()))
}

#[derive(Clone, Copy, Debug)]
enum FieldType {
    Str,
    /// An `Option<String>`: absent, `null` or a string.
    OptStr,
    /// A `#[serde(default)] Vec<String>`: absent or a list (never `null`).
    StrList,
    Int,
    Bool,
    /// A `#[serde(default)] bool`: absent or a boolean.
    DefaultBool,
    Score,
    Status,
    /// An `Option<MessageKind>`.
    OptMessageKind,
}

use FieldType::*;

/// The shape of each well-formed payload: its fields and their kinds.
const SHAPES: &[(&str, &[(&str, FieldType)])] = &[
    ("AgentAuth", &[("token", Str)]),
    ("ChatRef", &[("chat_id", Str)]),
    (
        "TransferReq",
        &[
            ("chat_id", Str),
            ("to_agent_id", OptStr),
            ("to_department_id", OptStr),
            ("note", OptStr),
        ],
    ),
    ("CloseReq", &[("chat_id", Str), ("resolution", OptStr)]),
    (
        "TagReq",
        &[("chat_id", Str), ("add", StrList), ("remove", StrList)],
    ),
    (
        "AgentSendReq",
        &[
            ("chat_id", Str),
            ("client_msg_id", Str),
            ("body", Str),
            ("kind", OptMessageKind),
            ("attachment_ids", StrList),
        ],
    ),
    ("AgentReadReq", &[("chat_id", Str), ("seq", Int)]),
    ("AgentTypingReq", &[("chat_id", Str), ("typing", Bool)]),
    ("PresenceReq", &[("status", Status)]),
    (
        "BlockReq",
        &[("customer_id", Str), ("blocked", DefaultBool)],
    ),
    ("SyncReq", &[("since_event_id", Int)]),
    (
        "CustomerAuth",
        &[
            ("visitor_token", OptStr),
            ("name", OptStr),
            ("email", OptStr),
        ],
    ),
    (
        "StartReq",
        &[
            ("body", Str),
            ("name", OptStr),
            ("email", OptStr),
            ("department_id", OptStr),
            ("client_msg_id", OptStr),
        ],
    ),
    (
        "CustomerSendReq",
        &[
            ("client_msg_id", Str),
            ("body", Str),
            ("chat_id", OptStr),
            ("attachment_ids", StrList),
        ],
    ),
    ("CustomerReadReq", &[("seq", Int), ("chat_id", OptStr)]),
    (
        "CustomerTypingReq",
        &[("typing", Bool), ("chat_id", OptStr)],
    ),
    (
        "RateReq",
        &[("score", Score), ("comment", OptStr), ("chat_id", OptStr)],
    ),
];

/// A value for one field; `None` leaves an optional field out.
fn field(kind: FieldType) -> BoxedStrategy<Option<Value>> {
    let string = any::<String>().prop_map(Value::String);
    let some = |s: BoxedStrategy<Value>| s.prop_map(Some).boxed();
    match kind {
        Str => some(string.boxed()),
        OptStr => prop_oneof![Just(None), Just(Some(Value::Null)), string.prop_map(Some)].boxed(),
        StrList => prop_oneof![
            Just(None),
            vec(any::<String>(), 0..4).prop_map(|l| Some(Value::from(l)))
        ]
        .boxed(),
        Int => some(any::<i64>().prop_map(Value::from).boxed()),
        Bool => some(any::<bool>().prop_map(Value::Bool).boxed()),
        DefaultBool => {
            prop_oneof![Just(None), any::<bool>().prop_map(|b| Some(Value::Bool(b)))].boxed()
        }
        Score => some(any::<u8>().prop_map(Value::from).boxed()),
        Status => some(
            proptest::sample::select(&AgentStatus::ALL[..])
                .prop_map(|s| Value::from(s.as_str()))
                .boxed(),
        ),
        OptMessageKind => prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            proptest::sample::select(&["text", "note", "event"][..]).prop_map(|k| Some(k.into())),
        ]
        .boxed(),
    }
}

/// A well-formed payload of one shape, with extra fields a newer client might send.
fn well_formed() -> impl Strategy<Value = (&'static str, Value)> {
    (0..SHAPES.len()).prop_flat_map(|i| {
        let (name, fields) = SHAPES[i];
        let values: Vec<_> = fields.iter().map(|&(_, k)| field(k)).collect();
        let extra = btree_map("x_[a-z]{1,8}", json(), 0..3);
        (values, extra).prop_map(move |(values, extra)| {
            let mut m: Map<String, Value> = extra.into_iter().collect();
            for (&(f, _), v) in fields.iter().zip(values) {
                if let Some(v) = v {
                    m.insert(f.to_owned(), v);
                }
            }
            (name, Value::Object(m))
        })
    })
}

#[test]
fn every_decoder_has_a_shape() {
    let decoders: Vec<&str> = DECODERS.iter().map(|d| d.name).collect();
    let shapes: Vec<&str> = SHAPES.iter().map(|(n, _)| *n).collect();
    assert_eq!(decoders, shapes);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Failing cases are kept next to this file and replayed first.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/payload_decoders.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_object_panics_a_decoder_and_what_decodes_round_trips(v in payload_object()) {
        for d in DECODERS {
            let checked = (d.value)(&v);
            prop_assert!(checked.is_ok(), "{}: {:?}", d.name, checked);
        }
    }

    #[test]
    fn no_json_value_panics_a_decoder(v in json()) {
        for d in DECODERS {
            let checked = (d.value)(&v);
            prop_assert!(checked.is_ok(), "{}: {:?}", d.name, checked);
        }
    }

    #[test]
    fn no_bytes_panic_a_decoder(b in vec(any::<u8>(), 0..256)) {
        for d in DECODERS {
            let checked = (d.bytes)(&b);
            prop_assert!(checked.is_ok(), "{}: {:?}", d.name, checked);
        }
    }

    /// Cut short or not, text that was nearly a payload never panics a decoder.
    #[test]
    fn no_truncated_payload_panics_a_decoder((_, v) in well_formed(), cut in any::<prop::sample::Index>()) {
        let text = serde_json::to_vec(&v).unwrap_or_default();
        let end = cut.index(text.len() + 1);
        for d in DECODERS {
            let checked = (d.bytes)(&text[..end]);
            prop_assert!(checked.is_ok(), "{}: {:?}", d.name, checked);
        }
    }

    #[test]
    fn every_well_formed_payload_decodes_and_round_trips((name, v) in well_formed()) {
        let d = DECODERS.iter().find(|d| d.name == name);
        prop_assert!(d.is_some(), "no decoder named {}", name);
        if let Some(d) = d {
            prop_assert_eq!((d.value)(&v), Ok(true), "{} {}", name, v);
            let text = serde_json::to_vec(&v).unwrap_or_default();
            prop_assert_eq!((d.bytes)(&text), Ok(true), "{} {}", name, v);
        }
    }
}
