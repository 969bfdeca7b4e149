//! GeoPackages read and written straight through SQLite, for speed; GDAL still opens the files
//! (for layer names, fields and CRS) and handles every other format.

mod blob;
pub(crate) mod read;
pub(crate) mod write;

#[cfg(test)]
mod tests;
