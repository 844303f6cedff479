//! The Bitstring Status List decoder (multibase base64url, gzip with an inflate cap) and
//! the index parser, on arbitrary input; a decoded list re-encodes to the same bits.
#![no_main]

use bem_core::status_list::{check_length, Bitstring, DecodeLimits, StatusListIndex};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&size, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (encoded, index) = text.split_once('\n').unwrap_or((text, "0"));
    let status_size = u32::from(size % 9);
    let index_value = serde_json::Value::String(index.to_owned());
    let parsed_index = StatusListIndex::parse(&index_value);
    if let Ok(bits) = Bitstring::decode(encoded, &DecodeLimits::default()) {
        let _ = check_length(&bits, status_size.max(1));
        if let Ok(i) = parsed_index {
            if i.check_range(&bits, status_size.max(1)).is_ok() {
                let _ = bits.get_status(i.value(), status_size.max(1)).expect("in range");
            }
        }
        let again = Bitstring::decode(&bits.encode(), &DecodeLimits::default()).expect("re-encoded list decodes");
        assert_eq!(again.len_bits(), bits.len_bits());
    }
});
