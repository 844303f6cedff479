//! The compact QR payload (`BEM2:`, `bem_core::compact`): finding it in scanned text,
//! Base43 and Base45, unpacking (inflate with its cap) and the whole verification, on any
//! text. Properties: Base43 or Base45 text that decodes encodes back to itself; a payload
//! that unpacks packs back to a payload that unpacks to the same JWS.
#![no_main]

use bem_core::compact;
use bem_core::datetime::parse_datetime_stamp;
use bem_core::resolver::Offline;
use bem_core::trust::TrustList;
use bem_core::verify::VerifyOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(bytes) = compact::base45_decode(text) {
        assert_eq!(compact::base45_encode(&bytes), text, "Base45 is not canonical");
    }
    if let Ok(bytes) = compact::base43_decode(text) {
        assert_eq!(compact::base43_encode(&bytes), text, "Base43 is not canonical");
    }
    let found = compact::find(text);
    if let Ok(jws) = compact::unpack(found.as_deref().unwrap_or(text)) {
        let again = compact::pack(&jws).expect("an unpacked JWS packs again");
        assert_eq!(compact::unpack(&again).expect("a packed JWS unpacks"), jws);
    }
    let trust = TrustList::default();
    let Ok(now) = parse_datetime_stamp("2026-06-01T00:00:00Z") else { return };
    let options = VerifyOptions::new(now, &trust, &Offline);
    let _ = compact::verify(text, &options);
});
