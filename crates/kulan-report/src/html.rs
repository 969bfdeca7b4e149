//! One self-contained HTML page: inline CSS, images as `data:` URIs, no script, no external
//! request, so it opens offline and can be mailed as one file.
//!
//! ```
//! use kulan_report::Page;
//! let mut page = Page::new("Study");
//! page.heading("Summary");
//! page.paragraph("Two scenarios.");
//! page.table(&["scenario", "m_eff"], &[vec!["baseline".into(), "1,234".into()]]);
//! let html = page.finish();
//! assert!(html.contains("<table>") && !html.contains("http"));
//! ```

use base64::Engine as _;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An HTML page being written.
pub struct Page {
    title: String,
    body: String,
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}\
h1{border-bottom:2px solid #555}h2{margin-top:2em;border-bottom:1px solid #aaa}\
table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #bbb;padding:3px 7px;text-align:left}\
th{background:#eee}td.num{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1em 0}figcaption{font-size:13px;color:#444}img{max-width:100%;border:1px solid #ccc}\
.up{color:#a00}.down{color:#070}pre{background:#f5f5f5;padding:.8em;overflow:auto;font-size:12px}";

impl Page {
    pub fn new(title: &str) -> Page {
        Page { title: title.into(), body: format!("<h1>{}</h1>\n", escape(title)) }
    }

    pub fn heading(&mut self, text: &str) {
        self.body.push_str(&format!("<h2>{}</h2>\n", escape(text)));
    }

    pub fn subheading(&mut self, text: &str) {
        self.body.push_str(&format!("<h3>{}</h3>\n", escape(text)));
    }

    pub fn paragraph(&mut self, text: &str) {
        self.body.push_str(&format!("<p>{}</p>\n", escape(text)));
    }

    /// A bulleted list.
    pub fn list(&mut self, items: &[String]) {
        self.body.push_str("<ul>");
        for i in items {
            self.body.push_str(&format!("<li>{}</li>", escape(i)));
        }
        self.body.push_str("</ul>\n");
    }

    /// Preformatted text (settings, a model file).
    pub fn pre(&mut self, text: &str) {
        self.body.push_str(&format!("<pre>{}</pre>\n", escape(text)));
    }

    /// A table; cells that parse as numbers are right-aligned.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.body.push_str("<table><tr>");
        for h in header {
            self.body.push_str(&format!("<th>{}</th>", escape(h)));
        }
        self.body.push_str("</tr>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for cell in row {
                let numeric = cell.replace([',', '%', '+'], "").trim().parse::<f64>().is_ok();
                let class = if numeric { " class=\"num\"" } else { "" };
                self.body.push_str(&format!("<td{class}>{}</td>", escape(cell)));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</table>\n");
    }

    /// A PNG embedded as a `data:` URI with its caption.
    pub fn figure(&mut self, png: &[u8], alt: &str, caption: &str) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(png);
        self.body.push_str(&format!(
            "<figure><img src=\"data:image/png;base64,{b64}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
            escape(alt),
            escape(caption)
        ));
    }

    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{}</title><style>{STYLE}</style></head>\n<body>\n{}</body></html>\n",
            escape(&self.title),
            self.body
        )
    }
}
