//! Every client → server payload decoder (`shared::events`): no bytes panic one, read
//! directly or as the JSON value the socket layer hands over, and whatever decodes
//! re-encodes and decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The list of decoders and their checks, shared with the property tests.
#[path = "../../shared/tests/client_payloads/mod.rs"]
mod client_payloads;

use client_payloads::DECODERS;

fuzz_target!(|data: &[u8]| {
    for d in DECODERS {
        if let Err(e) = (d.bytes)(data) {
            panic!("{} (from bytes): {e}", d.name);
        }
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        for d in DECODERS {
            if let Err(e) = (d.value)(&v) {
                panic!("{} (from a JSON value): {e}", d.name);
            }
        }
    }
});
