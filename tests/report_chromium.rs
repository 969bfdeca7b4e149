//! `report.html` in a real browser: headless Chromium (Debian's `chromium`) opens the report of a
//! sample run offline, every map image loads and is not blank, a screenshot shows content, and
//! no request leaves the machine. Skips with a message when Chromium is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KULAN_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs headless Chromium on `page` with the network cut off, logging every request.
fn browse(browser: &Path, work: &Path, page: &Path, extra: &[&str]) -> (String, serde_json::Value) {
    let netlog = work.join(format!("{}.netlog.json", page.file_name().unwrap().to_string_lossy()));
    let profile = work.join("profile");
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=15000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--log-net-log={}", netlog.display()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(format!("file://{}", page.display()));
    let out = Command::new(browser).args(&args).output().expect("chromium starts");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    let log = std::fs::read_to_string(&netlog).unwrap_or_default();
    // Chromium may end the log without closing it.
    let log = if log.trim_end().ends_with('}') { log } else { format!("{}]}}", log.trim_end().trim_end_matches(',')) };
    let json = serde_json::from_str(&log).expect("the net log is JSON");
    (String::from_utf8_lossy(&out.stdout).to_string(), json)
}

/// Network requests the page made (the browser's own update and time checks are started by no
/// origin and are not the page's doing; the host-resolver rule stops them anyway).
fn page_requests(netlog: &serde_json::Value) -> Vec<String> {
    let types = &netlog["constants"]["logEventTypes"];
    let start = types["URL_REQUEST_START_JOB"].as_i64().expect("event type");
    netlog["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["type"].as_i64() == Some(start))
                .filter_map(|e| {
                    let url = e["params"]["url"].as_str()?;
                    let initiator = e["params"]["initiator"].as_str().unwrap_or("");
                    let remote = ["http:", "https:", "ws:", "wss:", "ftp:"].iter().any(|s| url.starts_with(s));
                    (remote && initiator != "not an origin").then(|| url.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

const CHECK_SCRIPT: &str = r#"<script>
(function () {
  var out = [];
  var imgs = Array.prototype.slice.call(document.images);
  imgs.forEach(function (img) {
    var r = { complete: img.complete, w: img.naturalWidth, h: img.naturalHeight, sd: 0 };
    if (img.complete && img.naturalWidth > 0) {
      var c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      var ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
      var d = ctx.getImageData(0, 0, c.width, c.height).data, n = 0, s = 0, s2 = 0;
      for (var i = 0; i < d.length; i += 4 * 7) { var l = 0.3 * d[i] + 0.59 * d[i + 1] + 0.11 * d[i + 2]; s += l; s2 += l * l; n++; }
      r.sd = Math.sqrt(Math.max(0, s2 / n - (s / n) * (s / n)));
    }
    out.push(r);
  });
  var pre = document.createElement('pre'); pre.id = 'kulan-check';
  pre.textContent = 'KULAN-CHECK' + JSON.stringify(out) + 'END-CHECK';
  document.body.appendChild(pre);
})();
</script>"#;

#[test]
fn report_renders_offline_in_headless_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("skipping: chromium not found (apt-get install chromium, or set KULAN_CHROMIUM)");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("ustyurt");
    let o = Command::new(env!("CARGO_BIN_EXE_kulan"))
        .args(["run", repo().join("data/ustyurt/project.toml").to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = out.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();

    // Nothing in the page points off the machine.
    for needle in ["http://", "https://", "<script", "<link", "@import", "src=\"//", "url("] {
        assert!(!html.contains(needle), "report.html contains '{needle}'");
    }
    let n_maps = html.matches("<img src=\"data:image/png;base64,").count();
    assert_eq!(n_maps, html.matches("<img ").count());
    assert_eq!(n_maps, 2 * (2 + 3), "two scenarios × (barriers, m_eff, resistance, corridors, current)");

    // Every image decodes, has a size and is not blank (a copy of the page with a checking script).
    let check = out.join("check.html");
    std::fs::write(&check, html.replace("</body>", &format!("{CHECK_SCRIPT}</body>"))).unwrap();
    let (dom, netlog) = browse(&browser, d.path(), &check, &["--dump-dom"]);
    let marker = "id=\"kulan-check\">KULAN-CHECK";
    let start = dom.find(marker).expect("the check script ran") + marker.len();
    let end = start + dom[start..].find("END-CHECK").unwrap();
    let images: Vec<serde_json::Value> = serde_json::from_str(&dom[start..end].replace("&quot;", "\"")).unwrap();
    assert_eq!(images.len(), n_maps);
    for (i, img) in images.iter().enumerate() {
        assert_eq!(img["complete"], true, "image {i}: {img}");
        assert!(img["w"].as_f64().unwrap() > 400.0 && img["h"].as_f64().unwrap() > 200.0, "image {i}: {img}");
        assert!(img["sd"].as_f64().unwrap() > 5.0, "image {i} looks blank: {img}");
    }
    assert_eq!(page_requests(&netlog), Vec::<String>::new());

    // A screenshot of the report itself shows content (text, tables and the first maps).
    let shot = d.path().join("shot.png");
    let (_, netlog) = browse(&browser, d.path(), &report, &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2200"]);
    assert_eq!(page_requests(&netlog), Vec::<String>::new());
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let lum: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| 0.3 * p[0] as f64 + 0.59 * p[1] as f64 + 0.11 * p[2] as f64)
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let sd = (lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64).sqrt();
    let coloured = buf[..info.buffer_size()].chunks(channels).filter(|p| p[0].abs_diff(p[1]) > 30 || p[1].abs_diff(p[2]) > 30).count();
    assert!(sd > 20.0, "the screenshot looks blank (sd {sd:.1})");
    assert!(coloured > 20_000, "too few coloured pixels in the screenshot ({coloured}): are the maps there?");

    // The request check is not blind: a page that loads a remote image is caught.
    let control = out.join("control.html");
    std::fs::write(&control, "<html><body><img src=\"http://kulan-test.invalid/x.png\"></body></html>").unwrap();
    let (_, netlog) = browse(&browser, d.path(), &control, &["--dump-dom"]);
    assert_eq!(page_requests(&netlog), vec!["http://kulan-test.invalid/x.png".to_string()]);
}
