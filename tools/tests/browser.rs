//! A real browser against the preview (today's gateway, ic-http-gateway, in
//! front of the replica endpoint): headless Chromium loads the sample site
//! and dumps the DOM after scripts ran; plays and seeks a 20+ MB film that
//! arrives as certified `206` ranges; shows the certified 404 page; and
//! gets nothing of a stylesheet a byzantine replica altered. Skipped
//! (passing) when /usr/bin/chromium is not installed, the film part when
//! ffmpeg is not; needs no display and no network.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use asset_tools::preview::site_files;
use asset_tools::site::workspace_root;
use asset_tools::upload::LocalFile;
use common::{RunningGateway, http_get};

const CHROMIUM: &str = "/usr/bin/chromium";
const FFMPEG: &str = "/usr/bin/ffmpeg";

/// The DOM of `url` after up to 5 s of virtual time (scripts, fetches).
fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().expect("a profile directory");
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .expect("running chromium");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && dom.contains("<html"),
        "chromium failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    dom
}

/// Opens `url` in headless Chromium and waits, in real time up to `limit`,
/// for the gateway to log a request starting with `prefix`; that line.
fn browse_until(
    url: &str,
    gateway: &RunningGateway,
    prefix: &str,
    limit: Duration,
) -> Option<String> {
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut browser = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--autoplay-policy=no-user-gesture-required",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("running chromium");
    let deadline = Instant::now() + limit;
    let line = loop {
        let found = gateway
            .log_lines()
            .into_iter()
            .find(|l| l.starts_with(prefix));
        if found.is_some() || Instant::now() > deadline {
            break found;
        }
        if let Ok(Some(status)) = browser.try_wait() {
            panic!("chromium exited ({status}) before the page reported");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = browser.kill();
    let _ = browser.wait();
    line
}

fn skipped() -> bool {
    if Path::new(CHROMIUM).exists() {
        return false;
    }
    println!("browser test SKIPPED: /usr/bin/chromium not installed (apt-get install chromium)");
    true
}

#[test]
fn the_page_renders_runs_its_script_and_shows_the_certificate() {
    if skipped() {
        return;
    }
    let gateway = RunningGateway::start(site_files(None).unwrap(), None);
    let dom = dump_dom(&gateway.url());
    assert!(dom.contains("Served by a certified canister"), "{dom}");
    assert!(
        dom.contains(r#"data-script-loaded="yes""#),
        "app.js did not run: {dom}"
    );
    assert!(dom.contains("app.js ran"), "{dom}");
    assert!(
        dom.contains("IC-Certificate present"),
        "no certificate seen by the page: {dom}"
    );
    assert!(
        dom.contains("style.css applied"),
        "stylesheet not applied: {dom}"
    );

    let log = gateway.log_lines();
    for path in ["/", "/style.css", "/app.js", "/logo.svg"] {
        assert!(
            log.iter()
                .any(|l| l.starts_with(&format!("GET {path} -> 200"))
                    && l.ends_with("(verified v2)")),
            "{path} not served verified: {log:#?}"
        );
    }
}

#[test]
fn a_stylesheet_a_byzantine_replica_altered_is_refused_and_the_page_shows_it_missing() {
    if skipped() {
        return;
    }
    let gateway = RunningGateway::start(site_files(None).unwrap(), Some("/style.css"));
    let css = gateway.get("/style.css");
    assert_eq!(css.status, 503);
    assert!(css.text().contains("failed verification"), "{}", css.text());

    let dom = dump_dom(&gateway.url());
    assert!(dom.contains(r#"data-script-loaded="yes""#), "{dom}");
    assert!(
        dom.contains("style.css missing"),
        "the refused stylesheet applied: {dom}"
    );
    assert!(
        gateway
            .log_lines()
            .iter()
            .any(|l| l.starts_with("GET /style.css -> 503 (NOT verified:")),
        "{:#?}",
        gateway.log_lines()
    );
}

/// A WebM film of about 24 MB (VP8, 24 s of a test pattern under noise at
/// 8 Mbit/s, a key frame each second), generated once with ffmpeg and kept
/// under `target/browser-test/`; `None` without ffmpeg.
fn film() -> Option<Vec<u8>> {
    let path = workspace_root().join("target/browser-test/film-24s-8M.webm");
    if let Ok(film) = std::fs::read(&path) {
        return Some(film);
    }
    if !Path::new(FFMPEG).exists() {
        return None;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // Written beside it and renamed: a test binary running at the same time
    // never reads half a film.
    let partial = PathBuf::from(format!(
        "{}.{}.partial.webm",
        path.display(),
        std::process::id()
    ));
    let output = Command::new(FFMPEG)
        .args(["-v", "error", "-y", "-f", "lavfi"])
        .args(["-i", "testsrc2=size=640x360:rate=30:duration=24"])
        .args(["-vf", "noise=alls=60:allf=t+u"])
        .args([
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-g",
            "30",
        ])
        .args([
            "-b:v", "8M", "-minrate", "8M", "-maxrate", "8M", "-bufsize", "16M", "-an",
        ])
        .arg(&partial)
        .output()
        .expect("running ffmpeg");
    assert!(
        output.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &path).unwrap();
    Some(std::fs::read(&path).unwrap())
}

fn page(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `bytes <start>-<end>/<total>` of a log line, if it has one.
fn content_range(line: &str) -> Option<(u64, u64, u64)> {
    let rest = &line[line.find(" bytes ")? + " bytes ".len()..];
    let (range, rest) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let total = rest.split(' ').next()?;
    Some((start.parse().ok()?, end.parse().ok()?, total.parse().ok()?))
}

#[test]
fn the_film_plays_and_seeks_over_verified_ranges_and_a_missing_page_is_the_certified_404() {
    if skipped() {
        return;
    }
    let Some(film) = film() else {
        println!(
            "browser film test SKIPPED: {FFMPEG} not installed (apt-get install ffmpeg); \
             the 404 page is still checked"
        );
        return not_found_page_only();
    };
    assert!(
        film.len() >= 20_000_000,
        "the film is only {} bytes",
        film.len()
    );
    let mut files = site_files(None).unwrap();
    files.push(LocalFile::new("/film.webm", film.clone()));
    files.push(LocalFile::new("/video.html", page("video.html")));
    files.push(LocalFile::new("/video.js", page("video.js")));
    files.push(LocalFile::new("/404.html", page("404.html")));
    let gateway = RunningGateway::start(files, None);

    // Real time, not --virtual-time-budget: virtual time does not wait for
    // media fetches, so it may run out while the film's ranges arrive.
    let result = browse_until(
        &format!("{}video.html", gateway.url()),
        &gateway,
        "GET /video-result/",
        Duration::from_secs(120),
    );
    let log = gateway.log_lines();
    let result = result.unwrap_or_else(|| panic!("the page reported nothing: {log:#?}"));
    println!("film: {result}");
    assert!(
        result.starts_with("GET /video-result/ok?") && result.contains("seeked%20to"),
        "the film did not play, seek and play on: {result}\n{log:#?}"
    );

    // Every answer for the film: a 206 range or the whole 200, verified
    // under v2 (a refused one would be a 503, logged NOT verified).
    let film_lines: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with("GET /film.webm"))
        .collect();
    assert!(
        !film_lines.is_empty(),
        "the browser never asked for the film: {log:#?}"
    );
    for line in &film_lines {
        assert!(
            (line.contains(" -> 206 bytes ") || line.contains(" -> 200 "))
                && line.ends_with("(verified v2)"),
            "an answer for the film that is not a verified 206/200: {line}"
        );
    }
    // The browser asked for ranges; one of them lies past the middle (the
    // seek to 80 %), and every one it got is a stored chunk of the film.
    let ranges: Vec<(u64, u64, u64)> = film_lines.iter().filter_map(|l| content_range(l)).collect();
    let total = film.len() as u64;
    assert!(
        ranges
            .iter()
            .all(|&(start, end, of)| of == total && start <= end && end < total),
        "{film_lines:#?}"
    );
    assert!(
        ranges.iter().any(|&(start, _, _)| start > total / 2),
        "no range past the middle of the film: {film_lines:#?}"
    );

    assert_not_found_page(&gateway);
}

/// The 404 page alone, when the film cannot be made.
fn not_found_page_only() {
    let mut files = site_files(None).unwrap();
    files.push(LocalFile::new("/404.html", page("404.html")));
    let gateway = RunningGateway::start(files, None);
    assert_not_found_page(&gateway);
}

/// A path the site does not have: the browser shows /404.html with status
/// 404, certified (a 404 the gateway could not verify would be a 503).
fn assert_not_found_page(gateway: &RunningGateway) {
    let missing = "/no/such/page";
    let reply = http_get(gateway.port, missing, &[]);
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(reply.body, page("404.html"));
    let dom = dump_dom(&format!("{}no/such/page", gateway.url()));
    assert!(dom.contains("certified 404 page"), "{dom}");
    assert!(
        dom.contains("status 404"),
        "the browser did not see a 404: {dom}"
    );
    let log = gateway.log_lines();
    assert!(
        log.iter().any(
            |l| l.starts_with(&format!("GET {missing} -> 404")) && l.ends_with("(verified v2)")
        ),
        "{log:#?}"
    );
}
