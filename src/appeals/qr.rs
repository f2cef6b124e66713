//! An appeal's booking link as a QR code: SVG from the `qrcode` crate, PNG drawn from its
//! module matrix with `png` (black on white, a 4-module quiet zone, 1 bit per pixel).

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module in the PNG (a 6-character link makes 33 modules: 328 px with the quiet
/// zone, enough to print on an A4 appeal or to scan from a phone's screen).
const SCALE: usize = 8;
/// Modules of white around the code, as the standard asks.
const QUIET: usize = 4;

fn code(link: &str) -> Result<QrCode, qrcode::types::QrError> {
    // Level M: readable with some of it creased or smudged on a poster.
    QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M)
}

/// The link's QR code as an SVG document.
///
/// # Errors
/// The link is too long for a QR code.
pub fn svg(link: &str) -> Result<String, String> {
    let code = code(link).map_err(|e| e.to_string())?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// The link's QR code as a PNG image.
///
/// # Errors
/// The link is too long for a QR code, or the image cannot be written.
pub fn png(link: &str) -> Result<Vec<u8>, String> {
    let code = code(link).map_err(|e| e.to_string())?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let row_bytes = side.div_ceil(8);
    // 1 is white in a 1-bit greyscale image: start all white, clear the dark pixels.
    let mut data = vec![0xff_u8; row_bytes * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules, i / modules);
        for dy in 0..SCALE {
            let y = (my + QUIET) * SCALE + dy;
            for dx in 0..SCALE {
                let x = (mx + QUIET) * SCALE + dx;
                data[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let side_px = u32::try_from(side).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    {
        let mut encoder = ::png::Encoder::new(&mut out, side_px, side_px);
        encoder.set_color(::png::ColorType::Grayscale);
        encoder.set_depth(::png::BitDepth::One);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&data).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_is_a_square_black_and_white_image_with_a_white_quiet_zone() {
        let link = "https://donors.example.cn/stops/12?via=K7M3QX";
        let bytes = png(link).unwrap();
        let decoder = ::png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, info.height);
        let modules = code(link).unwrap().width();
        assert_eq!(info.width as usize, (modules + 2 * QUIET) * SCALE);
        // The top-left pixel is quiet zone (white); the finder pattern's corner is dark.
        assert_eq!(buf[0] & 0x80, 0x80);
        let corner = QUIET * SCALE;
        let row = info.line_size;
        assert_eq!(buf[corner * row + corner / 8] & (0x80 >> (corner % 8)), 0);
        assert!(svg(link).unwrap().starts_with("<?xml"));
    }
}
