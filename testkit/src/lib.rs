//! One way to launch the real `tokenpair-server` binary, for the server's tests and the bench
//! (and the e2e harness): spawn it, collect everything it prints, and wait for its explicit
//! readiness line — `listening on http://127.0.0.1:PORT`, printed once the socket is bound and
//! the state (database, migrations, revocations) is ready. No polling of ports, no sleeps.
//!
//! ```no_run
//! use tokenpair_testkit::{server_command, ServerProcess};
//! let mut cmd = server_command("target/debug/tokenpair-server", "sqlite:///tmp/t.db");
//! cmd.args(["--refresh-rate-limit", "0"]);
//! let server = ServerProcess::spawn(cmd);
//! println!("{}", server.base);
//! let log = server.stop(); // SIGTERM, graceful; returns stdout + stderr
//! ```

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The line the server prints when it is ready, followed by its base URL.
pub const READY_PREFIX: &str = "listening on ";

/// How long a start may take (migrations on a cold PostgreSQL, a debug build seeding accounts).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The binary with a clean environment (no stray `ACCESS_TOKEN_SECRET` from the shell), on a
/// free loopback port, with the given database and the demo accounts (`--demo-users`, which
/// the tests sign in with). Add flags and variables before spawning.
pub fn server_command(bin: impl AsRef<Path>, database_url: &str) -> Command {
    server_command_on_port(bin, database_url, 0)
}

/// Like [`server_command`], on a given port (a restart that must keep its address, as the
/// e2e harness does; 0 = any free port).
pub fn server_command_on_port(bin: impl AsRef<Path>, database_url: &str, port: u16) -> Command {
    let mut cmd = Command::new(bin.as_ref());
    cmd.env_clear()
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--database-url", database_url])
        .arg("--demo-users")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A running server process whose stdout and stderr are collected into one string.
pub struct ServerProcess {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl ServerProcess {
    /// Spawns `cmd` and waits for the readiness line. Panics (with everything the process
    /// printed) if it exits first or is not ready within [`START_TIMEOUT`].
    pub fn spawn(mut cmd: Command) -> ServerProcess {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        let streams: [Option<Box<dyn Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for mut stream in streams.into_iter().flatten() {
            let output = output.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut out) = output.lock() {
                        out.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            }));
        }
        let mut process = ServerProcess {
            child,
            output,
            readers,
            base: String::new(),
        };
        let started = Instant::now();
        process.base = loop {
            let text = process.output();
            if let Some(base) = ready_base(&text) {
                break base;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("the server exited with {status} before it was ready:\n{text}");
            }
            if started.elapsed() > START_TIMEOUT {
                panic!("the server was not ready within {START_TIMEOUT:?}:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        process
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the process gracefully (SIGTERM; SIGKILL after 10 s) and returns its output.
    pub fn stop(mut self) -> String {
        self.signal("-TERM");
        self.wait_and_collect(Duration::from_secs(10))
    }

    /// `kill -9`: the process gets no chance to clean up. Returns its output.
    pub fn kill9(mut self) -> String {
        self.signal("-KILL");
        self.wait_and_collect(Duration::from_secs(10))
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status();
    }

    fn wait_and_collect(&mut self, patience: Duration) -> String {
        let started = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if started.elapsed() > patience {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        self.output()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The base URL from the readiness line, once it has been printed completely.
pub fn ready_base(output: &str) -> Option<String> {
    let rest = output.split(READY_PREFIX).nth(1)?;
    let (line, _) = rest.split_once('\n')?;
    let base = line.trim();
    base.starts_with("http://").then(|| base.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readiness_line_gives_the_base_url_only_once_complete() {
        assert_eq!(
            ready_base("starting\nlistening on http://127.0.0.1:4"),
            None
        );
        assert_eq!(
            ready_base("x\nlistening on http://127.0.0.1:4321\nmore"),
            Some("http://127.0.0.1:4321".into())
        );
        assert_eq!(ready_base("listening on nothing\n"), None);
    }
}

/// DPoP proofs made outside the browser, by a key of the test's own (ES256): what a thief
/// with a copied token would have to make, or the bench's client.
pub mod dpop {
    use base64::Engine;
    use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use sha2::Digest;

    /// A key pair: ES256 (what the browser uses) or EdDSA, and its public JWK.
    pub struct ProofKey(EncodingKey, Algorithm, Jwk);

    impl Default for ProofKey {
        fn default() -> Self {
            Self::new()
        }
    }

    impl ProofKey {
        /// A new random ES256 (P-256) key.
        pub fn new() -> ProofKey {
            let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
            let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&secret).expect("pkcs8");
            ProofKey::of(EncodingKey::from_ec_der(der.as_bytes()), Algorithm::ES256)
        }

        /// A new random EdDSA (Ed25519) key.
        pub fn ed25519() -> ProofKey {
            // PKCS#8 of an Ed25519 seed (RFC 8410): a fixed prefix, then the 32 bytes.
            let mut der = vec![
                0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
                0x04, 0x20,
            ];
            der.extend_from_slice(&rand::random::<[u8; 32]>());
            ProofKey::of(EncodingKey::from_ed_der(&der), Algorithm::EdDSA)
        }

        fn of(key: EncodingKey, alg: Algorithm) -> ProofKey {
            let jwk = Jwk::from_encoding_key(&key, alg).expect("jwk");
            ProofKey(key, alg, jwk)
        }

        /// The public key as a JWK.
        pub fn jwk(&self) -> Jwk {
            self.2.clone()
        }

        /// Its RFC 7638 thumbprint (what `cnf.jkt` names).
        pub fn jkt(&self) -> String {
            self.jwk()
                .thumbprint(ThumbprintHash::SHA256)
                .expect("thumbprint")
        }

        /// A proof for `method url`, presenting `access_token` (`ath`), with `nonce`.
        pub fn proof(
            &self,
            method: &str,
            url: &str,
            access_token: Option<&str>,
            nonce: Option<&str>,
        ) -> String {
            let mut header = Header::new(self.1);
            header.typ = Some("dpop+jwt".into());
            header.jwk = Some(self.jwk());
            let iat = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let jti: u128 = rand::random();
            let mut claims = serde_json::json!({
                "jti": format!("{jti:032x}"), "htm": method, "htu": url, "iat": iat,
            });
            if let Some(token) = access_token {
                claims["ath"] = token_hash(token).into();
            }
            if let Some(nonce) = nonce {
                claims["nonce"] = nonce.into();
            }
            jsonwebtoken::encode(&header, &claims, &self.0).expect("sign")
        }
    }

    /// `ath`: base64url(SHA-256(token)).
    pub fn token_hash(token: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token))
    }
}
