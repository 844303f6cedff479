//! QR codes of a certificate's link: Unicode half blocks for the terminal, PNG for print.
//!
//! The QR holds the certificate's web link (the credential `id` when it is an https URL,
//! else the link remembered at import) until the offline-QR format is defined.

use anyhow::{anyhow, Result};
use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};

fn code(text: &str) -> Result<QrCode> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| anyhow!("no QR code can hold these {} bytes: {e}", text.len()))
}

/// The QR code as text: two modules per character cell, with a quiet zone. Drawn light
/// on dark (most terminals) unless `dark_on_light`.
pub fn terminal(text: &str, dark_on_light: bool) -> Result<String> {
    let code = code(text)?;
    let mut renderer = code.render::<Dense1x2>();
    if !dark_on_light {
        renderer.dark_color(Dense1x2::Light).light_color(Dense1x2::Dark);
    }
    Ok(renderer.quiet_zone(true).build())
}

/// A PNG of the QR code, at least 320 pixels square.
pub fn png(text: &str) -> Result<Vec<u8>> {
    let image = code(text)?.render::<image::Luma<u8>>().min_dimensions(320, 320).build();
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).map_err(|e| anyhow!("cannot encode the PNG: {e}"))?;
    Ok(out.into_inner())
}
