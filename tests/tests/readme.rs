//! Issue 15.9: the README's examples are run against the server on the real data, so an example
//! whose route moved, whose options changed or whose documented output no longer matches fails
//! here rather than in a reader's terminal.
//!
//! What is run, read from README.md itself (no list to keep in step):
//! * every `curl` command in a ```` ```sh ```` block that talks to `localhost:8080`: its method
//!   (`-X`, `--data-binary`, `-F`), body (`printf '...' |` before it), query (`-G` with
//!   `--data-urlencode`) and headers; the answer must be 2xx. Output documented under it as
//!   `# ...` lines must appear in the answer; a `| jq PATH   # VALUE` comment must equal the
//!   answer's value at that path;
//! * every other `localhost:8080` / `127.0.0.1:8080` address in a code block or in inline code
//!   (GDAL's `/vsicurl/` and `OAPIF:`, MapLibre snippets, the embed code): a GET that must
//!   answer 2xx.
//!
//! Blocks that need a write token (`$TOKEN`: uploading a dataset, then maps of it) are left to
//! the datasets tests (`crates/placemap/tests/datasets.rs`), which run that sequence; an address
//! with a placeholder (`{layer}`) is a pattern, not an example. The CLI examples are checked in
//! `crates/placemap/tests/cli.rs` (`readme_cli_examples_use_real_flags`).

use axum::body::Body;
use axum::http::Request;
use placemap_e2e::send;
use test_support::readme::{Command, blocks, commands, readme, split_comment};

/// The path and query of a `localhost:8080` / `127.0.0.1:8080` address, `None` for another
/// host or a pattern with placeholders.
fn local_path(word: &str) -> Option<String> {
    let at = ["localhost:8080", "127.0.0.1:8080"]
        .iter()
        .find_map(|h| word.find(h).map(|i| i + h.len()))?;
    let rest = &word[at..];
    let end = rest
        .find(|c: char| c == '"' || c == '`' || c == '\'' || c == ')' || c.is_whitespace())
        .unwrap_or(rest.len());
    let path = &rest[..end];
    let path = path.split('#').next().unwrap_or_default();
    if path.contains('{') || path.contains('<') || !(path.is_empty() || path.starts_with('/')) {
        return None;
    }
    Some(if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    })
}

/// `printf` arguments as the shell writes them (`\n` and `\t` only).
fn unescape(s: &str) -> String {
    s.replace("\\n", "\n").replace("\\t", "\t")
}

/// The value at a jq path of `.name`, `[n]` steps (`None` when a step is missing or the
/// expression is more than a path).
fn jq(value: &serde_json::Value, expr: &str) -> Option<serde_json::Value> {
    let mut v = value;
    let mut rest = expr.trim();
    if rest == "." {
        return Some(v.clone());
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            v = v.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            v = v.get(r[..end].parse::<usize>().ok()?)?;
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(v.clone())
}

/// Runs one `[printf ... |] curl ... [| jq PATH]` command through the router and checks it.
async fn run_curl(c: &Command) {
    let (command, comment) = split_comment(&c.text);
    let words = shlex::split(command)
        .unwrap_or_else(|| panic!("README line {}: unbalanced quotes", c.line));
    let mut stages = words.split(|w| w == "|");
    let mut stage = stages.next().unwrap_or_default();
    let mut body: Option<String> = None;
    if stage.first().map(String::as_str) == Some("printf") {
        body = stage.get(1).map(|s| unescape(s));
        stage = stages.next().unwrap_or_default();
    }
    assert_eq!(
        stage.first().map(String::as_str),
        Some("curl"),
        "README line {}",
        c.line
    );
    let (mut method, mut url, mut query, mut headers) = ("GET", None, Vec::new(), Vec::new());
    let mut get_mode = false;
    let mut args = stage[1..].iter();
    while let Some(w) = args.next() {
        match w.as_str() {
            "-G" => get_mode = true,
            "-X" => {
                method = match args.next().map(String::as_str) {
                    Some("POST") => "POST",
                    Some("PUT") => "PUT",
                    other => panic!("README line {}: method {other:?}", c.line),
                }
            }
            "-H" => {
                let h = args.next().expect("-H value");
                let (k, v) = h.split_once(':').expect("header name: value");
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
            "--data-urlencode" => {
                let kv = args.next().expect("--data-urlencode value");
                let (k, v) = kv.split_once('=').expect("name=value");
                query.push(serde_urlencoded::to_string([(k, v)]).expect("encodes"));
            }
            "--data-binary" => {
                let data = args.next().expect("--data-binary value");
                assert_eq!(data, "@-", "README line {}: only stdin bodies", c.line);
                method = "POST";
            }
            w if w.starts_with("-") && w.ends_with('o') => {
                args.next(); // -o / -so FILE
            }
            w if w.starts_with('-') => {}
            w => url = local_path(w),
        }
    }
    assert!(
        !(get_mode && method != "GET"),
        "README line {}: -G with a body",
        c.line
    );
    let mut path = url.unwrap_or_else(|| panic!("README line {}: no localhost URL", c.line));
    if !query.is_empty() {
        path.push(if path.contains('?') { '&' } else { '?' });
        path.push_str(&query.join("&"));
    }
    let mut req = Request::builder().method(method).uri(&path);
    for (k, v) in &headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let req = req
        .body(Body::from(body.clone().unwrap_or_default()))
        .expect("request");
    let r = send(req).await;
    let text = r.text();
    assert!(
        r.status.is_success(),
        "README line {}: {method} {path} answered {}: {text}",
        c.line,
        r.status
    );
    for want in &c.output {
        assert!(
            text.contains(want.as_str()),
            "README line {}: {path}: the documented output {want:?} is not in the answer:\n{text}",
            c.line
        );
    }
    // `| jq PATH   # VALUE`: the value at that path.
    if let (Some(jq_stage), Some(doc)) = (stages.next(), comment)
        && jq_stage.first().map(String::as_str) == Some("jq")
        && let Ok(documented) = serde_json::from_str::<serde_json::Value>(doc)
    {
        let expr = jq_stage.get(1).expect("jq expression");
        let got = jq(&r.json(), expr);
        assert_eq!(
            got.as_ref(),
            Some(&documented),
            "README line {}: {path} | jq {expr}",
            c.line
        );
    }
}

async fn get_ok(path: &str, line: usize) {
    let req = Request::builder()
        .uri(path)
        .body(Body::empty())
        .expect("request");
    let r = send(req).await;
    assert!(
        r.status.is_success(),
        "README line {line}: GET {path} answered {}: {}",
        r.status,
        r.text()
    );
}

/// The embed code example: its `title` is the description the server writes for that view
/// (the legend JSON's `description`, which the map page puts in the embed code).
async fn check_embed(line: &str, n: usize) {
    let Some(src) = line
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
    else {
        return;
    };
    let title = line
        .split("title=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("README line {n}: the embed code has no title"))
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let path = local_path(src).unwrap_or_else(|| panic!("README line {n}: {src}"));
    let mut parts = path.trim_start_matches("/map/").split('/');
    let (layer, indicator) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let period = src.split('#').nth(1).and_then(|h| h.split('/').nth(4));
    let query = period.map(|p| format!("?year={p}")).unwrap_or_default();
    let req = Request::builder()
        .uri(format!("/legend/{layer}/{indicator}.json{query}"))
        .body(Body::empty())
        .expect("request");
    let legend = send(req).await.json();
    assert_eq!(
        legend["description"].as_str(),
        Some(title.as_str()),
        "README line {n}: the embed code's title is not what the server writes"
    );
}

#[tokio::test]
async fn readme_http_examples_answer_as_documented() {
    let text = readme();
    let mut curls = 0;
    let mut addresses = 0;
    for (lang, first, lines) in blocks(&text) {
        if lines.iter().any(|l| l.contains("$TOKEN")) {
            continue;
        }
        if lang == "sh" {
            for c in commands(&lines, first) {
                let (command, _) = split_comment(&c.text);
                if command.contains("curl ") && command.contains("localhost:8080") {
                    run_curl(&c).await;
                    curls += 1;
                } else {
                    // GDAL's `/vsicurl/http://...` and `OAPIF:http://...`.
                    for w in command.split_whitespace().filter(|w| w.contains("http://")) {
                        if let Some(p) = local_path(w) {
                            get_ok(&p, c.line).await;
                            addresses += 1;
                        }
                    }
                }
            }
        } else {
            if lang == "html" {
                for (k, line) in lines.iter().enumerate() {
                    check_embed(line, first + k).await;
                }
            }
            for (k, line) in lines.iter().enumerate() {
                for w in line.split(['"', ' ']) {
                    if let Some(p) = local_path(w) {
                        get_ok(&p, first + k).await;
                        addresses += 1;
                    }
                }
            }
        }
    }
    // Inline code in the prose: `http://localhost:8080/...` addresses.
    let mut in_block = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        for (k, code) in line.split('`').enumerate() {
            if k % 2 == 1
                && (code.contains("http://localhost:8080")
                    || code.contains("http://127.0.0.1:8080"))
            {
                for w in code.split(['"', ' ']) {
                    if let Some(p) = local_path(w) {
                        get_ok(&p, n + 1).await;
                        addresses += 1;
                    }
                }
            }
        }
    }
    // The README has these many today; fewer means the parsing lost some.
    assert!(curls >= 15, "only {curls} curl examples found");
    assert!(addresses >= 5, "only {addresses} other addresses found");
}

#[test]
fn addresses_and_jq_paths_are_read() {
    assert_eq!(
        local_path("'localhost:8080/lookup?layer=lad19'").as_deref(),
        Some("/lookup?layer=lad19")
    );
    assert_eq!(
        local_path("src=\"http://127.0.0.1:8080/map/lad23/imd25_score#6/53.5/-1.8").as_deref(),
        Some("/map/lad23/imd25_score")
    );
    assert_eq!(local_path("localhost:8080/tiles/{layer}.json"), None);
    assert_eq!(local_path("example.org/x"), None);
    let v = serde_json::json!({"results": [{"name": "Cumberland"}]});
    assert_eq!(
        jq(&v, ".results[0].name"),
        Some(serde_json::json!("Cumberland"))
    );
    assert_eq!(jq(&v, ".results[].name"), None);
}
