//! Text in maps, drawn with the bundled DejaVu Sans (Bitstream Vera licence, see
//! `fonts/LICENSE-DejaVu.txt`), so labels read the same on every machine.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use tiny_skia::Pixmap;

use crate::map::Rgba;

static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

fn font() -> FontRef<'static> {
    FontRef::try_from_slice(FONT_BYTES).expect("the bundled font parses")
}

/// Width in pixels of `text` at `size`.
pub fn text_width(size: f32, text: &str) -> f32 {
    let f = font();
    let scaled = f.as_scaled(PxScale::from(size));
    text.chars().map(|c| scaled.h_advance(f.glyph_id(c))).sum()
}

/// Draws `text` with its baseline at (`x`, `y`), blending over what is there.
pub fn draw_text(pixmap: &mut Pixmap, x: f32, y: f32, size: f32, color: Rgba, text: &str) {
    let f = font();
    let scaled = f.as_scaled(PxScale::from(size));
    let (w, h) = (pixmap.width() as i32, pixmap.height() as i32);
    let data = pixmap.data_mut();
    let mut caret = x;
    let mut last = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(prev) = last {
            caret += scaled.kern(prev, id);
        }
        let glyph = id.with_scale_and_position(PxScale::from(size), point(caret, y));
        caret += scaled.h_advance(id);
        last = Some(id);
        let Some(outlined) = f.outline_glyph(glyph) else { continue };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, cov| {
            let px = bounds.min.x as i32 + gx as i32;
            let py = bounds.min.y as i32 + gy as i32;
            if px < 0 || py < 0 || px >= w || py >= h {
                return;
            }
            let i = ((py * w + px) * 4) as usize;
            let a = (cov * color.3 as f32 / 255.0).clamp(0.0, 1.0);
            // Pixels are premultiplied; the maps are opaque, so blending the colour is enough.
            for (k, v) in [color.0, color.1, color.2].into_iter().enumerate() {
                data[i + k] = (data[i + k] as f32 * (1.0 - a) + v as f32 * a).round() as u8;
            }
            data[i + 3] = (data[i + 3] as f32 * (1.0 - a) + 255.0 * a).round() as u8;
        });
    }
}
