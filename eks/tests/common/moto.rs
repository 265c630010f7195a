//! A private `moto_server` per test: found on PATH (or in the repo's `.venv/bin`), started
//! on a free 127.0.0.1 port, waited for, and killed on drop. One server per test keeps
//! parallel tests from seeing each other's clusters without resets.

use anyhow::{Context, bail};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REQUIRE_ENV: &str = "RISKGRID_REQUIRE_TOOLS";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running moto_server, killed when dropped.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    addr: SocketAddr,
}

impl Moto {
    /// Starts a server, or returns `Ok(None)` after a SKIP note when moto_server is missing
    /// and `RISKGRID_REQUIRE_TOOLS` is not `1` (then it is an error).
    pub fn start_or_skip(test: &str) -> anyhow::Result<Option<Moto>> {
        let Some(bin) = find_moto_server() else {
            if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
                bail!(
                    "{test}: moto_server not found on PATH or in .venv/bin, and {REQUIRE_ENV}=1 (run scripts/venv.sh)"
                );
            }
            eprintln!("SKIP {test}: moto_server not found (run scripts/venv.sh and put .venv/bin on PATH)");
            return Ok(None);
        };
        // A port picked by binding :0 can be taken before moto binds it; retry on a new one.
        let mut last_err = None;
        for _ in 0..3 {
            match Self::spawn(&bin) {
                Ok(moto) => return Ok(Some(moto)),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("moto_server did not start")))
    }

    fn spawn(bin: &PathBuf) -> anyhow::Result<Moto> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let mut moto = Moto { child, addr };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = moto.child.try_wait()? {
                bail!("moto_server exited during startup on port {port}: {status}");
            }
            if moto.answers() {
                return Ok(moto);
            }
            if Instant::now() > deadline {
                bail!("moto_server did not answer on {addr} within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT`, for `EksConfig::endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Clears all moto state (`POST /moto-api/reset`).
    #[allow(dead_code)]
    pub fn reset(&self) -> anyhow::Result<()> {
        let status = self.http("POST", "/moto-api/reset")?;
        anyhow::ensure!(status == 200, "moto reset answered HTTP {status}");
        Ok(())
    }

    fn answers(&self) -> bool {
        self.http("GET", "/moto-api/").is_ok_and(|status| status == 200)
    }

    /// A minimal HTTP/1.0 request; returns the status code.
    fn http(&self, method: &str, path: &str) -> anyhow::Result<u16> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(stream, "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Length: 0\r\n\r\n", self.addr)?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response.split_whitespace().nth(1).context("empty HTTP response")?;
        Ok(status.parse()?)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_moto_server() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|dir| dir.join("moto_server")).collect::<Vec<_>>())
        .unwrap_or_default();
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    on_path.into_iter().chain([venv]).find(|p| p.is_file())
}
