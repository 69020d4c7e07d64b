//! QR codes drawn as SVG, for the pages and the API of every module.

use crate::error::{AppError, AppResult};

/// Renders text as a QR code in SVG.
pub fn qr_svg(text: &str) -> AppResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("qr: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(280, 280)
        .quiet_zone(true)
        .build())
}

/// The QR code as an `<svg>` element to place inside a page (without the XML declaration).
pub fn inline_qr_svg(text: &str) -> AppResult<String> {
    let svg = qr_svg(text)?;
    Ok(svg
        .split_once("?>")
        .map(|(_, element)| element.trim().to_owned())
        .unwrap_or(svg))
}
