//! Reads the text of a QR code from a PNG picture (a scanned or exported code).

/// The most pixels a picture may have; decoding stops before allocating more.
const MAX_PIXELS: u64 = 16 * 1024 * 1024;

/// Decodes a PNG and returns the text of the first QR code found in it.
pub fn decode_png(png: &[u8]) -> Result<String, String> {
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(png),
        png::Limits {
            bytes: 4 * MAX_PIXELS as usize,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("not a PNG picture: {e}"))?;
    let (width, height) = (reader.info().width, reader.info().height);
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err("the picture is too large".into());
    }
    let size = reader
        .output_buffer_size()
        .ok_or("the picture is too large")?;
    let mut buffer = vec![0; size];
    let frame = reader
        .next_frame(&mut buffer)
        .map_err(|e| format!("the picture does not decode: {e}"))?;
    let channels = frame.color_type.samples();
    let line = frame.line_size;
    let grey = |x: usize, y: usize| -> u8 {
        let at = y * line + x * channels;
        let pixel = &buffer[at..at + channels];
        let (colour, alpha) = match channels {
            1 => (u32::from(pixel[0]), 255),
            2 => (u32::from(pixel[0]), u32::from(pixel[1])),
            3 => (luma(pixel), 255),
            _ => (luma(pixel), u32::from(pixel[3])),
        };
        // Transparent parts read as white paper.
        ((colour * alpha + 255 * (255 - alpha)) / 255) as u8
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(
        frame.width as usize,
        frame.height as usize,
        grey,
    );
    let grids = image.detect_grids();
    let grid = grids.first().ok_or("no QR code found in the picture")?;
    let (_, content) = grid
        .decode()
        .map_err(|e| format!("the QR code does not decode: {e}"))?;
    Ok(content)
}

fn luma(rgb: &[u8]) -> u32 {
    (299 * u32::from(rgb[0]) + 587 * u32::from(rgb[1]) + 114 * u32::from(rgb[2])) / 1000
}
