//! Kulan's report pieces: maps rendered to PNG by Kulan itself ([`Map`]: rasters, polygons,
//! lines, a legend, a scale bar and a north arrow) and one self-contained HTML page ([`Page`]).
//! No network, no external assets: the font is bundled (`fonts/`, DejaVu Sans, Bitstream Vera
//! licence).

pub mod html;
pub mod map;
pub mod ramp;
pub mod text;

pub use html::{escape, Page};
pub use map::{Map, Rgba};
pub use ramp::Ramp;
