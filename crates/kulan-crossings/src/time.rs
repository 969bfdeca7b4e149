//! Timestamps: parsing the forms telemetry files use, and writing ISO 8601 in UTC.
//!
//! Times are kept as whole milliseconds since 1970-01-01T00:00:00Z. Parsing is hand-written so
//! that a million fixes read quickly and so that the presence or absence of a UTC offset is
//! known for every value (mixed files are reported, never guessed).

use std::fmt;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// How a timestamp was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// An explicit `Z` or `±hh:mm` offset: the instant is unambiguous.
    Offset(i32),
    /// A calendar date and time without an offset (taken as UTC, or shifted by the caller).
    Naive,
    /// A bare number: seconds since the Unix epoch (or since the start of the track).
    Epoch,
}

/// A parsed timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub millis: Millis,
    pub zone: Zone,
}

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError(pub String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        if self.i + n > self.b.len() {
            return None;
        }
        let mut v = 0u32;
        for k in 0..n {
            let c = self.b[self.i + k];
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as u32;
        }
        self.i += n;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
}

/// Parses a timestamp: ISO 8601 / RFC 3339 (`2014-01-01T05:00:00Z`, `2014-01-01 05:00:00.000`,
/// `2013-12-31T22:00:00-07:00`, `...-0700`, `...+05`), the same with `/` as date separator, or a
/// bare number of seconds since the Unix epoch (fractions allowed).
pub fn parse(s: &str) -> Result<Stamp, TimeError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(TimeError("empty timestamp".into()));
    }
    let looks_numeric = t.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
        && !(t.len() >= 8 && t.as_bytes()[4] == b'-');
    if looks_numeric {
        let v: f64 = t.parse().map_err(|_| TimeError(format!("'{t}' is neither a date nor a number of seconds")))?;
        if !v.is_finite() {
            return Err(TimeError(format!("'{t}' is not a finite number of seconds")));
        }
        return Ok(Stamp { millis: (v * 1000.0).round() as i64, zone: Zone::Epoch });
    }
    let bad = || TimeError(format!("'{t}' is not a timestamp of the form YYYY-MM-DD[T ]hh:mm[:ss[.fff]][Z|±hh[:mm]]"));
    let mut c = Cursor { b: t.as_bytes(), i: 0 };
    let year = c.digits(4).ok_or_else(bad)? as i64;
    let sep = c.peek().ok_or_else(bad)?;
    if sep != b'-' && sep != b'/' {
        return Err(bad());
    }
    c.i += 1;
    let month = c.digits(2).ok_or_else(bad)?;
    if !c.eat(sep) {
        return Err(bad());
    }
    let day = c.digits(2).ok_or_else(bad)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(TimeError(format!("'{t}': no such date")));
    }
    let (mut hh, mut mm, mut ss, mut frac_ms) = (0u32, 0u32, 0u32, 0i64);
    if c.peek().is_some() {
        if !(c.eat(b'T') || c.eat(b' ') || c.eat(b't')) {
            return Err(bad());
        }
        while c.eat(b' ') {}
        hh = c.digits(2).ok_or_else(bad)?;
        if !c.eat(b':') {
            return Err(bad());
        }
        mm = c.digits(2).ok_or_else(bad)?;
        if c.eat(b':') {
            ss = c.digits(2).ok_or_else(bad)?;
            if c.eat(b'.') || c.eat(b',') {
                let start = c.i;
                let mut scale = 100i64;
                let mut acc = 0i64;
                let mut rest = false;
                while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                    if scale >= 1 {
                        acc += (d - b'0') as i64 * scale;
                        scale /= 10;
                    } else if !rest {
                        // round half up on the first dropped digit
                        if d >= b'5' {
                            acc += 1;
                        }
                        rest = true;
                    }
                    c.i += 1;
                }
                if c.i == start {
                    return Err(bad());
                }
                frac_ms = acc;
            }
        }
        if hh > 24 || mm > 59 || ss > 60 || (hh == 24 && (mm, ss, frac_ms) != (0, 0, 0)) {
            return Err(TimeError(format!("'{t}': no such time of day")));
        }
    }
    while c.eat(b' ') {}
    let zone = match c.peek() {
        None => Zone::Naive,
        Some(b'Z') | Some(b'z') => {
            c.i += 1;
            Zone::Offset(0)
        }
        Some(s @ (b'+' | b'-')) => {
            c.i += 1;
            let oh = c.digits(2).ok_or_else(bad)? as i32;
            // `+05`, `+0530` or `+05:30`
            let om = if c.eat(b':') || c.peek().is_some() { c.digits(2).ok_or_else(bad)? as i32 } else { 0 };
            if oh > 18 || om > 59 {
                return Err(TimeError(format!("'{t}': UTC offset out of range")));
            }
            let off = (oh * 60 + om) * 60;
            Zone::Offset(if s == b'-' { -off } else { off })
        }
        Some(_) => {
            let rest = &t[c.i..];
            if rest.eq_ignore_ascii_case("utc") || rest.eq_ignore_ascii_case("gmt") {
                c.i = t.len();
                Zone::Offset(0)
            } else {
                return Err(TimeError(format!(
                    "'{t}': time zone '{rest}' not understood; write times in UTC or with a numeric offset (+05:00)"
                )));
            }
        }
    };
    if c.i != t.len() {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86400 + hh as i64 * 3600 + mm as i64 * 60 + ss as i64;
    let offset = match zone {
        Zone::Offset(o) => o as i64,
        _ => 0,
    };
    Ok(Stamp { millis: (secs - offset) * 1000 + frac_ms, zone })
}

/// ISO 8601 in UTC: `2014-01-02T05:00:00Z`, with milliseconds only when there are any.
pub fn format_utc(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, (sod / 60) % 60, sod % 60);
    if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{frac:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 16_071, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(2014, 1, 1), 16_071);
    }

    #[test]
    fn parses_the_usual_forms() {
        let utc = parse("2014-01-01T05:00:00Z").unwrap();
        assert_eq!(utc.millis, 1_388_552_400_000);
        assert_eq!(utc.zone, Zone::Offset(0));
        assert_eq!(parse("2013-12-31T22:00:00-07:00").unwrap().millis, utc.millis);
        assert_eq!(parse("2013-12-31T22:00:00-0700").unwrap().millis, utc.millis);
        assert_eq!(parse("2014-01-01T10:00:00+05").unwrap().millis, utc.millis);
        let naive = parse("2014-01-01 05:00:00.000").unwrap();
        assert_eq!((naive.millis, naive.zone), (utc.millis, Zone::Naive));
        assert_eq!(parse("2014/01/01 05:00").unwrap().millis, utc.millis);
        assert_eq!(parse("1388552400").unwrap(), Stamp { millis: utc.millis, zone: Zone::Epoch });
        assert_eq!(parse("100840").unwrap().millis, 100_840_000);
        assert_eq!(parse("2014-01-01 05:00:00.1234").unwrap().millis, utc.millis + 123);
        assert_eq!(parse("2014-01-01 05:00:00 UTC").unwrap().zone, Zone::Offset(0));
        assert_eq!(parse("2014-01-01").unwrap().millis, utc.millis - 5 * 3_600_000);
    }

    #[test]
    fn rejects_nonsense_clearly() {
        assert!(parse("").is_err());
        assert!(parse("2014-02-30 00:00:00").unwrap_err().0.contains("no such date"));
        assert!(parse("2014-01-01 25:00:00").unwrap_err().0.contains("no such time"));
        assert!(parse("2014-01-01 05:00:00 MST").unwrap_err().0.contains("numeric offset"));
        assert!(parse("yesterday").is_err());
    }

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc(1_388_552_400_000), "2014-01-01T05:00:00Z");
        assert_eq!(format_utc(1_388_552_400_250), "2014-01-01T05:00:00.250Z");
        assert_eq!(format_utc(-1000), "1969-12-31T23:59:59Z");
    }
}
