//! Every payload a client sends the server (socket events and connect auth) with the
//! checks each decoder must pass; shared by the property tests and the fuzz targets.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::events::{
    AgentAuth, AgentReadReq, AgentSendReq, AgentTypingReq, BlockReq, ChatRef, CloseReq,
    CustomerAuth, CustomerReadReq, CustomerSendReq, CustomerTypingReq, PresenceReq, RateReq,
    StartReq, SyncReq, TagReq, TransferReq,
};

/// A decoder under test: decodes a JSON value or raw bytes as one payload type and
/// checks what it decoded. `Ok(true)`: decoded and round-tripped; `Ok(false)`: refused
/// (an error, as it should be for junk); `Err`: a broken round trip.
pub struct Decoder {
    pub name: &'static str,
    pub value: fn(&Value) -> Result<bool, String>,
    pub bytes: fn(&[u8]) -> Result<bool, String>,
}

macro_rules! decoders {
    ($($t:ident),* $(,)?) => {
        /// One decoder per client → server payload type.
        pub const DECODERS: &[Decoder] = &[$(Decoder {
            name: stringify!($t),
            value: from_value::<$t>,
            bytes: from_bytes::<$t>,
        }),*];
    };
}

decoders!(
    // `/agent`
    AgentAuth,
    ChatRef,
    TransferReq,
    CloseReq,
    TagReq,
    AgentSendReq,
    AgentReadReq,
    AgentTypingReq,
    PresenceReq,
    BlockReq,
    SyncReq,
    // `/customer`
    CustomerAuth,
    StartReq,
    CustomerSendReq,
    CustomerReadReq,
    CustomerTypingReq,
    RateReq,
);

/// What the server does with a socket payload (it arrives as a JSON value).
pub fn from_value<T>(v: &Value) -> Result<bool, String>
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    match serde_json::from_value::<T>(v.clone()) {
        Ok(t) => round_trips(&t).map(|()| true),
        Err(_) => Ok(false),
    }
}

/// The same payload read straight from the bytes of a frame.
pub fn from_bytes<T>(b: &[u8]) -> Result<bool, String>
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    match serde_json::from_slice::<T>(b) {
        Ok(t) => round_trips(&t).map(|()| true),
        Err(_) => Ok(false),
    }
}

/// Whatever decodes re-encodes, and decodes again to the same value and encoding.
pub fn round_trips<T>(t: &T) -> Result<(), String>
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let encoded = serde_json::to_value(t).map_err(|e| format!("{t:?} does not encode: {e}"))?;
    let again: T = serde_json::from_value(encoded.clone())
        .map_err(|e| format!("{t:?} encodes as {encoded}, which does not decode: {e}"))?;
    if &again != t {
        return Err(format!("{t:?} -> {encoded} -> {again:?}"));
    }
    let re_encoded = serde_json::to_value(&again).map_err(|e| e.to_string())?;
    if re_encoded != encoded {
        return Err(format!("{encoded} re-encodes as {re_encoded}"));
    }
    let text = serde_json::to_vec(t).map_err(|e| e.to_string())?;
    let from_text: T =
        serde_json::from_slice(&text).map_err(|e| format!("{t:?} as text does not decode: {e}"))?;
    if &from_text != t {
        return Err(format!("{t:?} -> text -> {from_text:?}"));
    }
    Ok(())
}
