//! Reading a certificate's QR code from an image: a photo, a screenshot or a camera frame
//! sent by the page, decoded here with `image` (PNG, JPEG) and `rqrr`.
//!
//! Everything in the image is attacker-controlled, so every step is bounded:
//!
//! - more than [`MAX_IMAGE_BYTES`] is refused before anything is parsed;
//! - only PNG and JPEG are read, recognised by their signature, never by a name or a
//!   Content-Type;
//! - a side over [`MAX_SIDE`] pixels, or a decoder allocation over [`MAX_DECODE_ALLOC`],
//!   is refused from the header, before any pixel is decoded (decompression bombs); for a
//!   JPEG the decoder's own working memory counts too (a progressive JPEG keeps two bytes
//!   per pixel and component until its last scan; the image crate's limit sees only the
//!   output), estimated from the frame header by [`jpeg_decode_bytes`];
//! - the image is scaled down to at most [`SEARCH_SIDE`] pixels a side before the search;
//! - rqrr's search (which copies the image once per candidate group of finder patterns,
//!   so a crafted image could make it run for hours) is given a budget of
//!   [`WORK_PER_PIXEL`] pixel reads, writes and copied pixels per pixel; beyond it the
//!   search stops with [`QrError::TooComplex`];
//! - a panic inside the decoders or the search is caught and reported as an unreadable
//!   image: bad input never takes the request down (needs `panic = "unwind"`, the
//!   default, in the profile).
//!
//! What the code holds is only classified here ([`QrContent`]): a link is fetched by the
//! caller under the fetch policy, exactly like `?credential=URL`; a credential is
//! verified like a pasted one.

use std::cell::Cell;
use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use image::{
    DynamicImage, GenericImage, GenericImageView, GrayImage, ImageError, ImageFormat, ImageReader, Limits,
    Luma,
};

/// Largest image accepted, in bytes (a phone's 12-megapixel JPEG fits).
pub const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest width or height accepted, in pixels.
pub const MAX_SIDE: u32 = 4096;
/// Most memory the image decoder may allocate.
pub const MAX_DECODE_ALLOC: u64 = 64 * 1024 * 1024;
/// Larger images are scaled down to this many pixels on their longer side to be searched.
pub const SEARCH_SIDE: u32 = 1600;
/// The search's work budget per pixel searched (reads, writes and copies of pixels). A
/// QR code takes about 10 per pixel; 200 bounds a search of the largest image searched
/// to well under a second of CPU.
pub const WORK_PER_PIXEL: u64 = 200;

/// The size rule, in words, for messages.
pub fn size_rule() -> String {
    format!(
        "at most {MAX_SIDE} × {MAX_SIDE} pixels and {} MiB to decode (a progressive JPEG of more than about 8 megapixels needs more); a crop around the code, a PNG or a baseline JPEG works",
        MAX_DECODE_ALLOC / (1024 * 1024)
    )
}

/// Why no usable QR code came out of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrError {
    /// More than [`MAX_IMAGE_BYTES`].
    TooLarge,
    /// Wider or taller than [`MAX_SIDE`], or needing more than [`MAX_DECODE_ALLOC`].
    TooManyPixels,
    /// Neither PNG nor JPEG.
    NotAnImage,
    /// A PNG or JPEG that cannot be decoded.
    Damaged,
    /// No QR code found.
    NoCode,
    /// A QR code was found but could not be read (blurred, cut off, not UTF-8).
    Unreadable,
    /// The search ran out of its work budget.
    TooComplex,
    /// The code holds neither a link nor a credential.
    NotCertificate,
}

/// What a certificate's QR code holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrContent {
    /// An http(s) link to the certificate (the fetch policy decides whether it is opened).
    Link(String),
    /// The credential itself: JSON text, or a compact `BEM2:` text.
    Credential(String),
}

/// Decodes the image, finds a QR code and says what it holds.
pub fn read(bytes: &[u8]) -> Result<QrContent, QrError> {
    classify(&decode_text(bytes)?)
}

/// Decodes the image and returns the text of the first QR code that can be read.
pub fn decode_text(bytes: &[u8]) -> Result<String, QrError> {
    search(load(bytes)?)
}

/// A link (absolute http or https URL) or a credential (a JSON object, or the compact
/// `BEM2:` text, also inside a link's fragment); anything else is [`QrError::NotCertificate`].
pub fn classify(text: &str) -> Result<QrContent, QrError> {
    let text = text.trim();
    // The compact signed form, bare or in a verifier link's fragment: verified as it is,
    // never fetched.
    if let Some(compact) = bem_core::compact::find(text) {
        return Ok(QrContent::Credential(compact));
    }
    if text.starts_with('{') {
        return Ok(QrContent::Credential(text.to_owned()));
    }
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => Ok(QrContent::Link(text.to_owned())),
        _ => Err(QrError::NotCertificate),
    }
}

/// The image in grey levels, transparent parts on white, at most [`SEARCH_SIDE`] a side.
fn load(bytes: &[u8]) -> Result<GrayImage, QrError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(QrError::TooLarge);
    }
    let format = match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg)) => format,
        _ => return Err(QrError::NotAnImage),
    };
    if format == ImageFormat::Jpeg && jpeg_decode_bytes(bytes).is_none_or(|cost| cost > MAX_DECODE_ALLOC) {
        return Err(QrError::TooManyPixels);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let decoded = panic::catch_unwind(AssertUnwindSafe(|| reader.decode())).map_err(|_| QrError::Damaged)?;
    let image = decoded.map_err(|e| match e {
        ImageError::Limits(_) => QrError::TooManyPixels,
        _ => QrError::Damaged,
    })?;
    let grey = on_white(image).ok_or(QrError::Damaged)?;
    let (width, height) = grey.dimensions();
    let longer = width.max(height);
    if longer <= SEARCH_SIDE {
        return Ok(grey);
    }
    let scale = |side: u32| {
        let scaled = u64::from(side) * u64::from(SEARCH_SIDE) / u64::from(longer);
        u32::try_from(scaled).unwrap_or(SEARCH_SIDE).max(1)
    };
    Ok(image::imageops::thumbnail(&grey, scale(width), scale(height)))
}

/// What decoding a JPEG and turning it grey takes, in bytes, from its frame header: the
/// decoded pixels (three bytes each in colour, one in grey), the grey copy (one), and for
/// a progressive JPEG the coefficients of every component at its own sampling (two bytes
/// a sample), kept until the last scan. `None` when no well-formed frame header comes
/// before the first scan: such a JPEG cannot be decoded anyway.
fn jpeg_decode_bytes(bytes: &[u8]) -> Option<u64> {
    let mut at = 2; // after SOI
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(at + 2)?, *bytes.get(at + 3)?]));
        match marker {
            // Start of frame: baseline, extended, progressive, lossless (Huffman or arithmetic).
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let frame = bytes.get(at + 4..at + 2 + length)?;
                let height = u64::from(u16::from_be_bytes([*frame.get(1)?, *frame.get(2)?]));
                let width = u64::from(u16::from_be_bytes([*frame.get(3)?, *frame.get(4)?]));
                let components = usize::from(*frame.get(5)?);
                let sampling: Vec<(u64, u64)> = (0..components)
                    .map(|i| frame.get(6 + 3 * i + 1).map(|hv| (u64::from(hv >> 4), u64::from(hv & 0x0F))))
                    .collect::<Option<_>>()?;
                let pixels = width.checked_mul(height)?;
                let output = if components >= 3 { 3 } else { 1 };
                let mut total = pixels.checked_mul(output + 1)?;
                if matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE) {
                    let h_max = sampling.iter().map(|s| s.0).max()?.max(1);
                    let v_max = sampling.iter().map(|s| s.1).max()?.max(1);
                    for (h, v) in sampling {
                        let samples = pixels.checked_mul(h.checked_mul(v)?)? / (h_max * v_max);
                        total = total.checked_add(samples.checked_mul(2)?)?;
                    }
                }
                return Some(total);
            }
            0xDA | 0xD9 => return None, // a scan or the end before any frame
            _ => at = at.checked_add(2 + length)?,
        }
    }
}

/// Grey levels; where the image has an alpha channel, blended on white (a QR code with a
/// transparent background would otherwise turn black on black).
fn on_white(image: DynamicImage) -> Option<GrayImage> {
    if !image.color().has_alpha() {
        return Some(image.into_luma8());
    }
    let with_alpha = image.into_luma_alpha8();
    let (width, height) = with_alpha.dimensions();
    let blended = with_alpha
        .pixels()
        .map(|p| {
            let [level, alpha] = p.0;
            let (level, alpha) = (u32::from(level), u32::from(alpha));
            u8::try_from((level * alpha + 255 * (255 - alpha)) / 255).unwrap_or(u8::MAX)
        })
        .collect();
    GrayImage::from_raw(width, height, blended)
}

/// Runs rqrr's search under the work budget and decodes the grids it finds.
fn search(grey: GrayImage) -> Result<String, QrError> {
    let (width, height) = grey.dimensions();
    let budget = Rc::new(Cell::new((u64::from(width) * u64::from(height)).saturating_mul(WORK_PER_PIXEL)));
    let image = Budgeted { image: grey, budget };
    let outcome = panic::catch_unwind(AssertUnwindSafe(move || {
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        let found = !grids.is_empty();
        for grid in grids {
            if let Ok((_, text)) = grid.decode() {
                return Ok(text);
            }
        }
        Err(if found { QrError::Unreadable } else { QrError::NoCode })
    }));
    match outcome {
        Ok(result) => result,
        Err(payload) if payload.is::<OutOfBudget>() => Err(QrError::TooComplex),
        Err(_) => Err(QrError::Unreadable),
    }
}

/// The unwind payload that stops a search over its budget.
struct OutOfBudget;

/// A grey image whose every pixel read and write, and every copy, is charged to a budget
/// shared with its copies. rqrr searches any `image::GenericImage` of `Luma<u8>`; this is
/// how its work is bounded from outside.
struct Budgeted {
    image: GrayImage,
    budget: Rc<Cell<u64>>,
}

impl Budgeted {
    /// Takes `work` from the budget, or stops the search. `resume_unwind` does not run
    /// the panic hook: a stopped search logs nothing; [`search`] catches it.
    fn charge(&self, work: u64) {
        let left = self.budget.get();
        if left < work {
            panic::resume_unwind(Box::new(OutOfBudget));
        }
        self.budget.set(left - work);
    }
}

impl Clone for Budgeted {
    fn clone(&self) -> Self {
        let (width, height) = self.image.dimensions();
        self.charge(u64::from(width) * u64::from(height));
        Self { image: self.image.clone(), budget: Rc::clone(&self.budget) }
    }
}

impl GenericImageView for Budgeted {
    type Pixel = Luma<u8>;

    fn dimensions(&self) -> (u32, u32) {
        self.image.dimensions()
    }

    fn get_pixel(&self, x: u32, y: u32) -> Luma<u8> {
        self.charge(1);
        *self.image.get_pixel(x, y)
    }
}

impl GenericImage for Budgeted {
    fn get_pixel_mut(&mut self, x: u32, y: u32) -> &mut Luma<u8> {
        self.charge(1);
        self.image.get_pixel_mut(x, y)
    }

    fn put_pixel(&mut self, x: u32, y: u32, pixel: Luma<u8>) {
        self.charge(1);
        self.image.put_pixel(x, y, pixel);
    }

    fn blend_pixel(&mut self, x: u32, y: u32, pixel: Luma<u8>) {
        self.put_pixel(x, y, pixel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgba, RgbaImage};
    use qrcode::QrCode;

    fn qr_image(text: &str) -> GrayImage {
        QrCode::new(text.as_bytes()).unwrap().render::<Luma<u8>>().min_dimensions(320, 320).build()
    }

    fn png(image: &GrayImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(image.as_raw(), image.width(), image.height(), image::ExtendedColorType::L8)
            .unwrap();
        out
    }

    fn jpeg(image: &GrayImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
            .write_image(image.as_raw(), image.width(), image.height(), image::ExtendedColorType::L8)
            .unwrap();
        out
    }

    /// A PNG whose header claims `width` × `height` 8-bit grey pixels but holds next to
    /// nothing (an empty IDAT chunk).
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        png_header_of(width, height, 8, 0)
    }

    fn png_header_of(width: u32, height: u32, depth: u8, colour: u8) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(width.to_be_bytes());
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([depth, colour, 0, 0, 0]); // deflate, no filter, no interlace
        out.extend(13u32.to_be_bytes());
        out.extend(&ihdr);
        out.extend(crc32(&ihdr).to_be_bytes());
        out.extend(0u32.to_be_bytes());
        out.extend(b"IDAT");
        out.extend(crc32(b"IDAT").to_be_bytes());
        out.extend(0u32.to_be_bytes());
        out.extend(b"IEND");
        out.extend(crc32(b"IEND").to_be_bytes());
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    const LINK: &str = "https://issuer.example/credentials/0123456789abcdef0123456789abcdef";

    #[test]
    fn a_qr_code_with_a_link_is_a_link() {
        assert_eq!(read(&png(&qr_image(LINK))), Ok(QrContent::Link(LINK.to_owned())));
        // A photo is a JPEG, usually large: scaled down, then found.
        let big = image::imageops::resize(&qr_image(LINK), 2400, 2400, image::imageops::FilterType::Nearest);
        assert_eq!(read(&jpeg(&big)), Ok(QrContent::Link(LINK.to_owned())));
    }

    #[test]
    fn a_qr_code_with_json_is_a_credential() {
        let json = r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"]}"#;
        assert_eq!(read(&png(&qr_image(json))), Ok(QrContent::Credential(json.to_owned())));
    }

    #[test]
    fn a_qr_code_on_a_transparent_background_is_read_on_white() {
        let grey = qr_image(LINK);
        let rgba = RgbaImage::from_fn(grey.width(), grey.height(), |x, y| {
            if grey.get_pixel(x, y).0 == [0] {
                Rgba([0, 0, 0, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(rgba.as_raw(), rgba.width(), rgba.height(), image::ExtendedColorType::Rgba8)
            .unwrap();
        assert_eq!(read(&out), Ok(QrContent::Link(LINK.to_owned())));
    }

    #[test]
    fn other_contents_are_not_certificates() {
        assert_eq!(read(&png(&qr_image("hello"))), Err(QrError::NotCertificate));
        assert_eq!(classify("javascript:alert(1)"), Err(QrError::NotCertificate));
        assert_eq!(classify("ftp://example.org/c.json"), Err(QrError::NotCertificate));
        assert_eq!(
            classify(" http://127.0.0.1:8080/c \n"),
            Ok(QrContent::Link("http://127.0.0.1:8080/c".into()))
        );
    }

    #[test]
    fn an_image_without_a_qr_code_is_no_code() {
        let blank = GrayImage::from_pixel(400, 300, Luma([255]));
        assert_eq!(read(&png(&blank)), Err(QrError::NoCode));
        let stripes = GrayImage::from_fn(400, 300, |x, _| Luma([if x / 7 % 2 == 0 { 0 } else { 255 }]));
        assert_eq!(read(&jpeg(&stripes)), Err(QrError::NoCode));
    }

    #[test]
    fn what_is_not_a_png_or_jpeg_is_not_an_image() {
        assert_eq!(read(b"{\"not\": \"an image\"}"), Err(QrError::NotAnImage));
        assert_eq!(read(b""), Err(QrError::NotAnImage));
        assert_eq!(read(b"GIF89a\x01\x00\x01\x00"), Err(QrError::NotAnImage));
        // A PNG signature followed by garbage, and a truncated PNG.
        assert_eq!(read(b"\x89PNG\r\n\x1a\ngarbage"), Err(QrError::Damaged));
        let whole = png(&qr_image(LINK));
        assert_eq!(read(&whole[..whole.len() / 2]), Err(QrError::Damaged));
    }

    #[test]
    fn oversize_images_are_refused_before_decoding() {
        let mut huge = png(&qr_image(LINK));
        huge.resize(MAX_IMAGE_BYTES + 1, 0);
        assert_eq!(read(&huge), Err(QrError::TooLarge));
        // Decompression bombs: the header alone is enough to refuse them.
        assert_eq!(read(&png_header(MAX_SIDE + 1, 10)), Err(QrError::TooManyPixels));
        assert_eq!(read(&png_header(10, 1_000_000)), Err(QrError::TooManyPixels));
        assert_eq!(
            read(&png_header(MAX_SIDE, MAX_SIDE)),
            Err(QrError::Damaged),
            "within limits: read, no data"
        );
        // 16-bit RGBA within the sides, needing 128 MiB: over the allocation limit,
        // refused once the header is read.
        let bytes = png_header_of(MAX_SIDE, MAX_SIDE, 16, 6);
        let start = std::time::Instant::now();
        assert_eq!(read(&bytes), Err(QrError::TooManyPixels));
        assert!(start.elapsed() < std::time::Duration::from_secs(1), "{:?}", start.elapsed());
    }

    #[test]
    fn the_search_stops_when_its_budget_is_spent() {
        // Many finder-pattern-like squares: rqrr copies the image for each candidate group.
        let mut tiles = GrayImage::from_pixel(1200, 1200, Luma([255]));
        for ty in 0..40 {
            for tx in 0..40 {
                for y in 0..21 {
                    for x in 0..21 {
                        let ring = (x / 3).min(y / 3).min((20 - x) / 3).min((20 - y) / 3);
                        if ring != 1 {
                            tiles.put_pixel(tx * 30 + x + 4, ty * 30 + y + 4, Luma([0]));
                        }
                    }
                }
            }
        }
        let start = std::time::Instant::now();
        assert_eq!(read(&png(&tiles)), Err(QrError::TooComplex));
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "{:?}", start.elapsed());
    }

    /// `side`² pixels tiled with QR finder patterns (7 × 7 modules of one pixel, two
    /// pixels apart): tens of thousands of candidate capstones for the search to group.
    fn finder_patterns(side: u32) -> GrayImage {
        let mut image = GrayImage::from_pixel(side, side, Luma([255]));
        for y0 in (0..side.saturating_sub(7)).step_by(9) {
            for x0 in (0..side.saturating_sub(7)).step_by(9) {
                for dy in 0..7u32 {
                    for dx in 0..7u32 {
                        if dx.min(dy).min(6 - dx).min(6 - dy) != 1 {
                            image.put_pixel(x0 + dx, y0 + dy, Luma([0]));
                        }
                    }
                }
            }
        }
        image
    }

    #[test]
    fn an_image_of_finder_patterns_runs_out_of_budget() {
        assert_eq!(decode_text(&png(&finder_patterns(800))), Err(QrError::TooComplex));
    }

    #[test]
    fn a_jpegs_working_memory_is_judged_from_its_frame_header() {
        let baseline = jpeg(&GrayImage::from_pixel(64, 48, Luma([200])));
        assert_eq!(jpeg_decode_bytes(&baseline), Some(64 * 48 * 2));
        // A progressive CMYK frame header of 4096 × 4096: 3 + 1 + 4 × 2 bytes a pixel.
        let mut progressive = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00];
        progressive.extend([0xFF, 0xC2, 0x00, 0x14, 0x08, 0x10, 0x00, 0x10, 0x00, 0x04]);
        progressive.extend([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0, 0xFF, 0xD9]);
        assert_eq!(jpeg_decode_bytes(&progressive), Some(4096 * 4096 * 12));
        assert_eq!(decode_text(&progressive), Err(QrError::TooManyPixels));
        assert_eq!(jpeg_decode_bytes(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]), None);
        assert_eq!(jpeg_decode_bytes(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF]), None);
    }
}
