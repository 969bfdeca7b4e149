//! Maps drawn by Kulan itself: rasters with a colour ramp, polygons, lines and points in a
//! projected CRS, with a title, a legend, a scale bar and a north arrow, encoded as PNG.
//!
//! ```
//! use geo::{line_string, MultiLineString};
//! use kulan_report::{Map, Rgba};
//! let mut map = Map::new("Barriers", [0.0, 0.0, 100_000.0, 50_000.0], 600);
//! let fence = MultiLineString::new(vec![line_string![(x: 10_000.0, y: 25_000.0), (x: 90_000.0, y: 25_000.0)]]);
//! map.lines(&[fence], Rgba(200, 30, 30, 255), 2.0);
//! map.legend_line("fence", Rgba(200, 30, 30, 255));
//! let png = map.render().unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! ```

use geo::{MultiLineString, MultiPolygon};
use kulan_core::raster::Grid;
use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Rect, Stroke, StrokeDash, Transform};

use crate::ramp::Ramp;
use crate::text::{draw_text, text_width};

/// A colour, 0–255 per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgba(pub u8, pub u8, pub u8, pub u8);

impl Rgba {
    fn paint(self) -> Paint<'static> {
        let mut p = Paint::default();
        p.set_color_rgba8(self.0, self.1, self.2, self.3);
        p.anti_alias = true;
        p
    }
}

enum Legend {
    Swatch(String, Rgba),
    Line(String, Rgba),
    Ramp { title: String, ramp: Ramp, low: String, high: String },
}

/// A map being drawn: the frame is the map area; the legend goes in a panel on the right.
pub struct Map {
    title: String,
    extent: [f64; 4],
    map_w: u32,
    map_h: u32,
    pixmap: Pixmap,
    legend: Vec<Legend>,
    note: Option<String>,
}

const MARGIN: u32 = 36;
const PANEL: u32 = 230;
const BACKGROUND: Rgba = Rgba(250, 250, 245, 255);

impl Map {
    /// A map of `extent` (XMIN, YMIN, XMAX, YMAX in metres) whose map area is `width` pixels wide.
    pub fn new(title: &str, extent: [f64; 4], width: u32) -> Map {
        let [x0, y0, x1, y1] = extent;
        let aspect = ((y1 - y0) / (x1 - x0)).clamp(0.2, 3.0);
        let map_w = width.max(100);
        let map_h = ((map_w as f64) * aspect).round() as u32;
        let mut pixmap = Pixmap::new(map_w + PANEL + MARGIN, map_h + 2 * MARGIN + 20).expect("non-zero size");
        pixmap.fill(tiny_skia::Color::from_rgba8(255, 255, 255, 255));
        let frame = Rect::from_xywh(MARGIN as f32, (MARGIN + 20) as f32, map_w as f32, map_h as f32).expect("positive");
        pixmap.fill_rect(frame, &BACKGROUND.paint(), Transform::identity(), None);
        Map { title: title.into(), extent, map_w, map_h, pixmap, legend: Vec::new(), note: None }
    }

    fn origin(&self) -> (f32, f32) {
        (MARGIN as f32, (MARGIN + 20) as f32)
    }

    /// Pixels per metre.
    fn scale(&self) -> f64 {
        self.map_w as f64 / (self.extent[2] - self.extent[0])
    }

    fn to_px(&self, x: f64, y: f64) -> (f32, f32) {
        let (ox, oy) = self.origin();
        let s = self.scale();
        (ox + ((x - self.extent[0]) * s) as f32, oy + ((self.extent[3] - y) * s) as f32)
    }

    fn clip(&self) -> tiny_skia::Mask {
        let mut mask = tiny_skia::Mask::new(self.pixmap.width(), self.pixmap.height()).expect("size");
        let (ox, oy) = self.origin();
        let r = Rect::from_xywh(ox, oy, self.map_w as f32, self.map_h as f32).expect("positive");
        mask.fill_path(&PathBuilder::from_rect(r), FillRule::Winding, false, Transform::identity());
        mask
    }

    /// A raster coloured by `ramp` between `low` and `high` (on a log scale with `log`); NoData
    /// and non-finite cells stay clear.
    pub fn raster(&mut self, grid: &Grid<f64>, ramp: Ramp, low: f64, high: f64, log: bool) {
        let t = grid.transform;
        let f = |v: f64| if log { v.max(1e-12).ln() } else { v };
        let (lo, hi) = (f(low), f(high));
        let span = if hi > lo { hi - lo } else { 1.0 };
        let (ox, oy) = self.origin();
        let s = self.scale();
        // Sample the grid at each map pixel's centre (nearest cell).
        let w = self.pixmap.width();
        let data = self.pixmap.pixels_mut();
        for py in 0..self.map_h {
            let y = self.extent[3] - (py as f64 + 0.5) / s;
            let row = ((t.origin_y - y) / t.cell_height).floor();
            if row < 0.0 || row >= grid.rows as f64 {
                continue;
            }
            for px in 0..self.map_w {
                let x = self.extent[0] + (px as f64 + 0.5) / s;
                let col = ((x - t.origin_x) / t.cell_width).floor();
                if col < 0.0 || col >= grid.cols as f64 {
                    continue;
                }
                let v = grid.get(row as usize, col as usize);
                if grid.is_nodata(v) || !v.is_finite() {
                    continue;
                }
                let c = ramp.at(((f(v) - lo) / span).clamp(0.0, 1.0));
                let idx = (oy as u32 + py) * w + ox as u32 + px;
                data[idx as usize] = tiny_skia::ColorU8::from_rgba(c.0, c.1, c.2, 255).premultiply();
            }
        }
    }

    /// Polygons filled with one colour and outlined.
    pub fn polygons(&mut self, polygons: &[&MultiPolygon<f64>], fill: Rgba, stroke: Rgba, width: f32) {
        let fills: Vec<Rgba> = vec![fill; polygons.len()];
        self.polygons_each(polygons, &fills, stroke, width);
    }

    /// Polygons, each with its own fill.
    pub fn polygons_each(&mut self, polygons: &[&MultiPolygon<f64>], fills: &[Rgba], stroke: Rgba, width: f32) {
        let mask = self.clip();
        for (mp, fill) in polygons.iter().zip(fills) {
            let mut pb = PathBuilder::new();
            for poly in &mp.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    for (i, c) in ring.0.iter().enumerate() {
                        let (x, y) = self.to_px(c.x, c.y);
                        if i == 0 {
                            pb.move_to(x, y)
                        } else {
                            pb.line_to(x, y)
                        }
                    }
                    pb.close();
                }
            }
            if let Some(path) = pb.finish() {
                if fill.3 > 0 {
                    self.pixmap.fill_path(&path, &fill.paint(), FillRule::EvenOdd, Transform::identity(), Some(&mask));
                }
                let st = Stroke { width, ..Default::default() };
                self.pixmap.stroke_path(&path, &stroke.paint(), &st, Transform::identity(), Some(&mask));
            }
        }
    }

    /// Lines in one colour.
    pub fn lines(&mut self, lines: &[MultiLineString<f64>], color: Rgba, width: f32) {
        self.lines_styled(lines, color, width, false);
    }

    /// Lines, dashed when asked (planned features).
    pub fn lines_styled(&mut self, lines: &[MultiLineString<f64>], color: Rgba, width: f32, dashed: bool) {
        let mask = self.clip();
        let mut pb = PathBuilder::new();
        for ml in lines {
            for ls in &ml.0 {
                for (i, c) in ls.0.iter().enumerate() {
                    let (x, y) = self.to_px(c.x, c.y);
                    if i == 0 {
                        pb.move_to(x, y)
                    } else {
                        pb.line_to(x, y)
                    }
                }
            }
        }
        if let Some(path) = pb.finish() {
            let mut st = Stroke { width, line_cap: tiny_skia::LineCap::Round, ..Default::default() };
            if dashed {
                st.dash = StrokeDash::new(vec![width * 3.0, width * 2.0], 0.0);
            }
            self.pixmap.stroke_path(&path, &color.paint(), &st, Transform::identity(), Some(&mask));
        }
    }

    /// Points as filled circles with a dark outline.
    pub fn points(&mut self, points: &[(f64, f64)], color: Rgba, radius: f32) {
        let mask = self.clip();
        for &(x, y) in points {
            let (px, py) = self.to_px(x, y);
            if let Some(path) = PathBuilder::from_circle(px, py, radius) {
                self.pixmap.fill_path(&path, &color.paint(), FillRule::Winding, Transform::identity(), Some(&mask));
                let st = Stroke { width: 1.0, ..Default::default() };
                self.pixmap.stroke_path(&path, &Rgba(30, 30, 30, 255).paint(), &st, Transform::identity(), Some(&mask));
            }
        }
    }

    /// Text placed at a map position (labels of cores, units).
    pub fn label(&mut self, x: f64, y: f64, text: &str) {
        let (px, py) = self.to_px(x, y);
        let (ox, oy) = self.origin();
        let w = text_width(12.0, text);
        // Labels whose anchor is off the map are left out rather than drawn over the frame.
        if px < ox || py < oy + 12.0 || px + w > ox + self.map_w as f32 || py > oy + self.map_h as f32 {
            return;
        }
        draw_text(&mut self.pixmap, px + 4.0, py - 4.0, 12.0, Rgba(20, 20, 20, 255), text);
    }

    pub fn legend_swatch(&mut self, label: &str, color: Rgba) {
        self.legend.push(Legend::Swatch(label.into(), color));
    }

    pub fn legend_line(&mut self, label: &str, color: Rgba) {
        self.legend.push(Legend::Line(label.into(), color));
    }

    pub fn legend_ramp(&mut self, title: &str, ramp: Ramp, low: &str, high: &str) {
        self.legend.push(Legend::Ramp { title: title.into(), ramp, low: low.into(), high: high.into() });
    }

    /// A line of small print under the legend (CRS, source).
    pub fn note(&mut self, text: &str) {
        self.note = Some(text.into());
    }

    /// Frame, title, legend, scale bar and north arrow; the PNG's bytes.
    pub fn render(mut self) -> Result<Vec<u8>, String> {
        let (ox, oy) = self.origin();
        let dark = Rgba(30, 30, 30, 255);
        let frame = PathBuilder::from_rect(Rect::from_xywh(ox, oy, self.map_w as f32, self.map_h as f32).expect("positive"));
        self.pixmap.stroke_path(&frame, &dark.paint(), &Stroke { width: 1.0, ..Default::default() }, Transform::identity(), None);
        let title = self.title.clone();
        draw_text(&mut self.pixmap, ox, oy - 12.0, 17.0, dark, &title);
        self.draw_scale_bar();
        self.draw_north_arrow();
        self.draw_legend();
        self.pixmap.encode_png().map_err(|e| e.to_string())
    }

    fn draw_scale_bar(&mut self) {
        let metres_per_px = 1.0 / self.scale();
        let target = metres_per_px * self.map_w as f64 / 4.0;
        let step = nice_length(target);
        let px = (step / metres_per_px) as f32;
        let (ox, oy) = self.origin();
        let x = ox + 12.0;
        let y = oy + self.map_h as f32 - 16.0;
        let white = Rgba(255, 255, 255, 220);
        let r = Rect::from_xywh(x - 6.0, y - 22.0, px + 12.0 + 60.0, 32.0).expect("positive");
        self.pixmap.fill_rect(r, &white.paint(), Transform::identity(), None);
        for i in 0..2 {
            let color = if i == 0 { Rgba(30, 30, 30, 255) } else { Rgba(255, 255, 255, 255) };
            let seg = Rect::from_xywh(x + i as f32 * px / 2.0, y - 4.0, px / 2.0, 6.0).expect("positive");
            self.pixmap.fill_rect(seg, &color.paint(), Transform::identity(), None);
        }
        let outline = PathBuilder::from_rect(Rect::from_xywh(x, y - 4.0, px, 6.0).expect("positive"));
        self.pixmap.stroke_path(&outline, &Rgba(30, 30, 30, 255).paint(), &Stroke { width: 1.0, ..Default::default() }, Transform::identity(), None);
        let label = if step >= 1000.0 { format!("{} km", step / 1000.0) } else { format!("{step} m") };
        draw_text(&mut self.pixmap, x, y - 8.0, 11.0, Rgba(30, 30, 30, 255), "0");
        draw_text(&mut self.pixmap, x + px + 4.0, y + 3.0, 11.0, Rgba(30, 30, 30, 255), &label);
    }

    fn draw_north_arrow(&mut self) {
        let (ox, oy) = self.origin();
        let cx = ox + self.map_w as f32 - 22.0;
        let top = oy + 10.0;
        let white = Rgba(255, 255, 255, 220);
        self.pixmap.fill_rect(Rect::from_xywh(cx - 14.0, top - 4.0, 28.0, 52.0).expect("positive"), &white.paint(), Transform::identity(), None);
        let mut pb = PathBuilder::new();
        pb.move_to(cx, top + 16.0);
        pb.line_to(cx + 9.0, top + 44.0);
        pb.line_to(cx, top + 36.0);
        pb.line_to(cx - 9.0, top + 44.0);
        pb.close();
        let path = pb.finish().expect("arrow");
        self.pixmap.fill_path(&path, &Rgba(30, 30, 30, 255).paint(), FillRule::Winding, Transform::identity(), None);
        let w = text_width(13.0, "N");
        draw_text(&mut self.pixmap, cx - w / 2.0, top + 12.0, 13.0, Rgba(30, 30, 30, 255), "N");
    }

    fn draw_legend(&mut self) {
        let x = MARGIN as f32 + self.map_w as f32 + 16.0;
        let mut y = (MARGIN + 20) as f32 + 4.0;
        let dark = Rgba(30, 30, 30, 255);
        draw_text(&mut self.pixmap, x, y + 12.0, 13.0, dark, "Legend");
        y += 24.0;
        let entries = std::mem::take(&mut self.legend);
        for e in &entries {
            match e {
                Legend::Swatch(label, c) => {
                    let r = Rect::from_xywh(x, y, 18.0, 12.0).expect("positive");
                    self.pixmap.fill_rect(r, &c.paint(), Transform::identity(), None);
                    self.pixmap.stroke_path(&PathBuilder::from_rect(r), &dark.paint(), &Stroke { width: 0.8, ..Default::default() }, Transform::identity(), None);
                    draw_text(&mut self.pixmap, x + 26.0, y + 11.0, 12.0, dark, label);
                    y += 20.0;
                }
                Legend::Line(label, c) => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x, y + 6.0);
                    pb.line_to(x + 18.0, y + 6.0);
                    let st = Stroke { width: 3.0, ..Default::default() };
                    self.pixmap.stroke_path(&pb.finish().expect("line"), &c.paint(), &st, Transform::identity(), None);
                    draw_text(&mut self.pixmap, x + 26.0, y + 11.0, 12.0, dark, label);
                    y += 20.0;
                }
                Legend::Ramp { title, ramp, low, high } => {
                    draw_text(&mut self.pixmap, x, y + 11.0, 12.0, dark, title);
                    y += 18.0;
                    let h: f32 = 110.0;
                    for i in 0..h as u32 {
                        let c = ramp.at(1.0 - i as f64 / (h as f64 - 1.0));
                        let r = Rect::from_xywh(x, y + i as f32, 18.0, 1.0).expect("positive");
                        self.pixmap.fill_rect(r, &Rgba(c.0, c.1, c.2, 255).paint(), Transform::identity(), None);
                    }
                    self.pixmap.stroke_path(
                        &PathBuilder::from_rect(Rect::from_xywh(x, y, 18.0, h).expect("positive")),
                        &dark.paint(),
                        &Stroke { width: 0.8, ..Default::default() },
                        Transform::identity(),
                        None,
                    );
                    draw_text(&mut self.pixmap, x + 26.0, y + 10.0, 11.0, dark, high);
                    draw_text(&mut self.pixmap, x + 26.0, y + h, 11.0, dark, low);
                    y += h + 12.0;
                }
            }
        }
        if let Some(note) = self.note.clone() {
            for line in wrap(&note, 34) {
                draw_text(&mut self.pixmap, x, y + 12.0, 10.0, Rgba(90, 90, 90, 255), &line);
                y += 14.0;
            }
        }
    }
}

/// 1, 2 or 5 × a power of ten, at most `target`.
fn nice_length(target: f64) -> f64 {
    let p = 10f64.powf(target.log10().floor());
    [5.0, 2.0, 1.0].into_iter().map(|m| m * p).find(|&v| v <= target).unwrap_or(p)
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + word.chars().count() + 1 > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use kulan_core::raster::GeoTransform;

    #[test]
    fn scale_bar_lengths_are_round() {
        assert_eq!(nice_length(137_000.0), 100_000.0);
        assert_eq!(nice_length(260.0), 200.0);
        assert_eq!(nice_length(61.0), 50.0);
    }

    #[test]
    fn rasters_are_drawn_where_the_cells_are() {
        let mut g = Grid::filled(10, 10, GeoTransform::from_lower_left(0.0, 0.0, 10.0, 10), 1.0f64);
        g.nodata = Some(-9999.0);
        g.set(0, 0, -9999.0);
        let mut map = Map::new("t", [0.0, 0.0, 100.0, 100.0], 200);
        map.raster(&g, Ramp::Viridis, 0.0, 2.0, false);
        let (ox, oy) = map.origin();
        // The NoData cell (top left) keeps the background; the others are coloured.
        let bg = map.pixmap.pixel(ox as u32 + 5, oy as u32 + 5).unwrap();
        let cell = map.pixmap.pixel(ox as u32 + 150, oy as u32 + 150).unwrap();
        assert_eq!((bg.red(), bg.green(), bg.blue()), (BACKGROUND.0, BACKGROUND.1, BACKGROUND.2));
        let mid = Ramp::Viridis.at(0.5);
        assert_eq!((cell.red(), cell.green(), cell.blue()), (mid.0, mid.1, mid.2));
    }
}
