//! QR codes of certificate links, as PNG and SVG.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

fn code(text: &str) -> anyhow::Result<QrCode> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| anyhow::anyhow!("no QR code for {} bytes: {e}", text.len()))
}

/// A PNG of the QR code of `text`.
pub fn png(text: &str) -> anyhow::Result<Vec<u8>> {
    let image = code(text)?.render::<image::Luma<u8>>().min_dimensions(320, 320).build();
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// An SVG document of the QR code of `text`.
pub fn svg(text: &str) -> anyhow::Result<String> {
    Ok(code(text)?.render::<svg::Color<'_>>().min_dimensions(320, 320).build())
}

#[cfg(test)]
mod tests {
    #[test]
    fn png_and_svg() {
        let png = super::png("http://127.0.0.1:8080/credentials/0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(super::svg("x").unwrap().contains("<svg"));
    }
}
