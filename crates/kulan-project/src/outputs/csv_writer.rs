//! Large CSV files formatted in parallel and written in order, with bounded memory.
//!
//! The rows are cut into tasks; a window of tasks is formatted on all threads while the previous
//! window is being written, so the file is never held in memory whole and both cores stay busy.
//! The bytes do not depend on the number of threads or on how the rows are cut into tasks.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use kulan_io::AtomicPath;
use rayon::prelude::*;

/// Tasks formatted together before they are written.
const TASKS_PER_WINDOW: usize = 32;

/// Writes `header` and then, for every task in order, the text `format` appends for it, to
/// `path` (atomically: nothing is left at `path` if anything fails).
pub(crate) fn write_ordered<T: Sync>(
    path: &Path,
    header: &str,
    tasks: &[T],
    format: impl Fn(&T, &mut Vec<u8>) + Sync,
) -> anyhow::Result<()> {
    let target = AtomicPath::new(path)?;
    let mut file = std::fs::File::create(target.temp()).with_context(|| format!("cannot write {}", path.display()))?;
    let format_window = |window: &[T]| -> Vec<Vec<u8>> {
        window
            .par_iter()
            .map(|t| {
                let mut s = Vec::new();
                format(t, &mut s);
                s
            })
            .collect()
    };
    let write = |file: &mut std::fs::File, chunks: &[Vec<u8>]| -> anyhow::Result<()> {
        for c in chunks {
            file.write_all(c).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    };
    write(&mut file, &[header.as_bytes().to_vec()])?;
    let mut windows = tasks.chunks(TASKS_PER_WINDOW);
    let mut pending = windows.next().map(format_window).unwrap_or_default();
    for window in windows {
        // The formatted window is written while the next one is formatted.
        let (written, next) = rayon::join(|| write(&mut file, &pending), || format_window(window));
        written?;
        pending = next;
    }
    write(&mut file, &pending)?;
    drop(file);
    target.commit()?;
    Ok(())
}

/// Appends `x` exactly as `format!("{x}")` would, about four times faster (Ryū's shortest
/// digits, laid out as `Display` lays them out).
///
/// Both pick the shortest digits that read back as `x` and, among those, the closest to `x`;
/// they differ only when two candidates are equally close (Ryū rounds such ties to even, the
/// standard library up). Such a tie needs the exact decimal value of `x` to have at most 18
/// significant digits, which for 1e-5 ≤ |x| < 1e16 means between 1 and 23 bits after the
/// binary point; those values go through the standard library.
#[inline]
pub(crate) fn push_f64(out: &mut Vec<u8>, x: f64) {
    let magnitude = x.abs();
    if (1e-5..1e16).contains(&magnitude) && !(1..24).contains(&fraction_bits(x)) {
        let mut buffer = ryu::Buffer::new();
        let s = buffer.format_finite(x);
        // Ryū writes whole numbers as "12.0"; Display writes "12".
        out.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes());
    } else {
        let _ = write!(out, "{x}");
    }
}

/// How many binary digits a normal, finite `x` has after the binary point (0 for integers).
fn fraction_bits(x: f64) -> i64 {
    let bits = x.to_bits();
    let biased_exponent = ((bits >> 52) & 0x7ff) as i64;
    let significand = (bits & ((1 << 52) - 1)) | (1 << 52);
    (1075 - biased_exponent - i64::from(significand.trailing_zeros())).max(0)
}

/// Appends an unsigned integer in decimal.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Short strings (ids) packed into one buffer, so that looking many of them up in order streams
/// through memory instead of visiting one allocation each.
pub(crate) struct PackedStrings {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl PackedStrings {
    pub fn new<S: AsRef<str>>(strings: impl IntoIterator<Item = S>) -> Self {
        let (mut bytes, mut ends) = (Vec::new(), Vec::new());
        for s in strings {
            bytes.extend_from_slice(s.as_ref().as_bytes());
            ends.push(bytes.len());
        }
        PackedStrings { bytes, ends }
    }

    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *seed
    }

    #[test]
    fn push_f64_matches_display_everywhere() {
        let mut special = vec![
            0.0, -0.0, 1.0, -1.0, 12.0, 0.1, 0.3, 1e-5, 9.999999999999999e-6, 1e-7, 1e15, 1e16, 9999999999999998.0,
            1e17, 123456789.125, f64::MIN_POSITIVE, f64::MAX, f64::EPSILON, 5e-324, 2.5, 1234.5678,
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY,
            // Ties between two closest candidates, where Ryū and Display round differently.
            f64::from_bits(0xc313bbd7341d74d1), 1234.0 + 1.0 / 16384.0, 0.5 + 1.0 / 8388608.0,
        ];
        for k in 1..60 {
            special.push(1.0 + 1.0 / (1u64 << k) as f64);
            special.push(1e15 + 0.25 * k as f64);
        }
        let mut seed = 42;
        for _ in 0..200_000 {
            // Random bit patterns (every magnitude) and random lengths like the engine's.
            special.push(f64::from_bits(lcg(&mut seed)));
            let r = (lcg(&mut seed) >> 11) as f64 / (1u64 << 53) as f64;
            special.push(r * 10f64.powi((lcg(&mut seed) % 12) as i32));
            special.push((r * 1e6).round() / 100.0);
        }
        let mut got = Vec::new();
        for x in special {
            got.clear();
            push_f64(&mut got, x);
            assert_eq!(String::from_utf8_lossy(&got), format!("{x}"), "bits {:#x}", x.to_bits());
        }
        assert_eq!(fraction_bits(1.5), 1);
        assert_eq!(fraction_bits(12.0), 0);
        assert_eq!(fraction_bits(0.1), 55);
        let mut s = Vec::new();
        push_u64(&mut s, 0);
        push_u64(&mut s, 4_294_967_296);
        assert_eq!(s, b"04294967296");
    }

    #[test]
    fn packed_strings_give_back_each_string() {
        let ids = ["17", "", "\"a,b\"", "x"];
        let packed = PackedStrings::new(ids);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(packed.get(i), id.as_bytes());
        }
    }

    fn write_and_read(tasks: &[Vec<u32>], threads: usize) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            write_ordered(&path, "a,b\n", tasks, |t, out| {
                for &v in t {
                    push_u64(out, v as u64);
                    out.push(b',');
                    push_f64(out, v as f64 / 7.0);
                    out.push(b'\n');
                }
            })
        })
        .unwrap();
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn parallel_writer_gives_the_sequential_bytes_whatever_the_threads() {
        // Uneven tasks, more than one window, some empty.
        let tasks: Vec<Vec<u32>> = (0..100u32).map(|t| (0..(t * 37) % 101).map(|i| t * 1000 + i).collect()).collect();
        let mut sequential = String::from("a,b\n");
        for &v in tasks.iter().flatten() {
            sequential.push_str(&format!("{v},{}\n", v as f64 / 7.0));
        }
        assert_eq!(write_and_read(&tasks, 1), sequential.as_bytes());
        assert_eq!(write_and_read(&tasks, 2), sequential.as_bytes());
        assert_eq!(write_and_read(&tasks, 3), sequential.as_bytes());
        assert_eq!(write_and_read(&[], 2), b"a,b\n");
    }
}
