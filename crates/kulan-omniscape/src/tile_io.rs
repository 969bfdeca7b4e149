//! A tile's partial result as bytes, so that tiles solved on other machines (or in other
//! processes) can be shipped back and merged with [`crate::engine::Merger`] in block-row order.
//!
//! Layout: the magic `KOTP1`, then little-endian `u64` counts and `f64` values; a flag byte says
//! whether flow potential is present.

use std::ops::Range;

use crate::engine::{BandPartial, TilePartial, TileSpec};
use crate::OmniscapeError;

const MAGIC: &[u8; 5] = b"KOTP1";

struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, v: usize) {
        self.0.extend_from_slice(&(v as u64).to_le_bytes());
    }
    fn values(&mut self, v: &[f64]) {
        self.u64(v.len());
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }
    fn maybe(&mut self, v: Option<&Vec<f64>>) {
        match v {
            Some(v) => {
                self.0.push(1);
                self.values(v);
            }
            None => self.0.push(0),
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], OmniscapeError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| OmniscapeError::Input("tile partial: truncated data".into()))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u64(&mut self) -> Result<usize, OmniscapeError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()) as usize)
    }
    fn values(&mut self) -> Result<Vec<f64>, OmniscapeError> {
        let n = self.u64()?;
        let raw = self.take(n.checked_mul(8).ok_or_else(|| OmniscapeError::Input("tile partial: bad length".into()))?)?;
        Ok(raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect())
    }
    fn maybe(&mut self) -> Result<Option<Vec<f64>>, OmniscapeError> {
        match self.take(1)?[0] {
            0 => Ok(None),
            _ => Ok(Some(self.values()?)),
        }
    }
    fn range(&mut self) -> Result<Range<usize>, OmniscapeError> {
        Ok(self.u64()?..self.u64()?)
    }
}

impl TilePartial {
    /// The tile as bytes (exact: values keep every bit).
    ///
    /// ```
    /// use kulan_omniscape::engine::{TilePartial, TileSpec};
    /// let t = TilePartial { spec: TileSpec { block_rows: 2..4 }, fold_rows: 5..6, current: vec![1.5, 2.0],
    ///                       flow: None, pending: vec![], targets: 3 };
    /// assert_eq!(TilePartial::from_bytes(&t.to_bytes()).unwrap(), t);
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer(MAGIC.to_vec());
        w.u64(self.spec.block_rows.start);
        w.u64(self.spec.block_rows.end);
        w.u64(self.fold_rows.start);
        w.u64(self.fold_rows.end);
        w.u64(self.targets);
        w.values(&self.current);
        w.maybe(self.flow.as_ref());
        w.u64(self.pending.len());
        for b in &self.pending {
            w.u64(b.block_row);
            w.u64(b.row0);
            w.u64(b.rows);
            w.values(&b.current);
            w.maybe(b.flow.as_ref());
        }
        w.0
    }

    /// Reads a tile written by [`TilePartial::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<TilePartial, OmniscapeError> {
        if !bytes.starts_with(MAGIC) {
            return Err(OmniscapeError::Input("not a Kulan Omniscape tile partial (bad magic)".into()));
        }
        let mut r = Reader { bytes, at: MAGIC.len() };
        let spec = TileSpec { block_rows: r.range()? };
        let fold_rows = r.range()?;
        let targets = r.u64()?;
        let current = r.values()?;
        let flow = r.maybe()?;
        let n = r.u64()?;
        let mut pending = Vec::new();
        for _ in 0..n {
            pending.push(BandPartial { block_row: r.u64()?, row0: r.u64()?, rows: r.u64()?, current: r.values()?, flow: r.maybe()? });
        }
        if r.at != bytes.len() {
            return Err(OmniscapeError::Input("tile partial: trailing bytes".into()));
        }
        Ok(TilePartial { spec, fold_rows, current, flow, pending, targets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, EngineSettings, Merger};
    use crate::setup::Landscape;
    use crate::window::{Dims, WindowParams};
    use kulan_circuit::graph::Connectivity;

    #[test]
    fn shipped_tiles_merge_to_the_same_bits() {
        let (rows, cols) = (24, 17);
        let land = Landscape {
            row0: 0,
            rows,
            cols,
            conductance: (0..rows * cols).map(|i| 1.0 + (i % 7) as f64).collect(),
            source: (0..rows * cols).map(|i| (i % 5) as f64).collect(),
            conditions: vec![],
        };
        let settings = EngineSettings {
            window: WindowParams { radius: 4, buffer: 1, block_size: 3 },
            connectivity: Connectivity::Eight,
            flow_potential: true,
            correct_artifacts: true,
        };
        let engine = Engine::new(settings, Dims { rows, cols }).unwrap();
        let direct = engine.run_in_memory(&land).unwrap();
        let mut merger = Merger::new(cols, true);
        let (mut cur, mut flow) = (Vec::new(), Vec::new());
        for spec in [0..3, 3..4, 4..8] {
            let tile = engine.solve_tile(&TileSpec { block_rows: spec }, &land).unwrap();
            let bytes = tile.to_bytes();
            merger.push(TilePartial::from_bytes(&bytes).unwrap()).unwrap();
        }
        let rest = merger.take_rows(rows);
        cur.extend(rest.current);
        flow.extend(rest.flow.unwrap());
        assert_eq!(cur.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), direct.current.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_eq!(flow, direct.flow.unwrap());
        assert!(TilePartial::from_bytes(b"KOTP1\x01").is_err());
        assert!(TilePartial::from_bytes(b"nope").is_err());
    }
}
