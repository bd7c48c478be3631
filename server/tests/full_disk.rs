//! A full disk, freed (issue 22, item 11): with the SQLite file on a real 3 MB file system
//! (tmpfs) that is then filled to the last byte, a refresh fails with 500 and keeps its cookie;
//! once the space is freed, the same session refreshes at once — no restart.
//!
//! Mounting needs root (CI runs as root); as another user the test re-runs itself in a user
//! and mount namespace (`unshare --user --map-root-user --mount`), where it may mount.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::*;
use reqwest::StatusCode;
use tokenpair_server::db::Database;

const IN_NAMESPACE: &str = "TOKENPAIR_TEST_IN_MOUNT_NAMESPACE";

/// A tmpfs of `size` at `dir`; unmounted when dropped.
struct SmallFileSystem(std::path::PathBuf);

impl SmallFileSystem {
    fn mount(dir: &Path, size: &str) -> SmallFileSystem {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "mount a {size} tmpfs at {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        SmallFileSystem(dir.to_path_buf())
    }
}

impl Drop for SmallFileSystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros into `path` until the file system refuses.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).expect("filler file");
    let block = vec![0u8; 64 * 1024];
    loop {
        if f.write_all(&block).is_err() {
            break;
        }
    }
    let mut byte = [0u8; 1];
    while f.write_all(&byte).is_ok() {
        byte[0] = byte[0].wrapping_add(1);
    }
    let _ = f.sync_all();
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

mod sqlite_file {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_full_disk_is_freed_the_same_session_refreshes_at_once() {
        if !is_root() && std::env::var_os(IN_NAMESPACE).is_none() {
            let test = "sqlite_file::after_a_full_disk_is_freed_the_same_session_refreshes_at_once";
            let status = Command::new("unshare")
                .args(["--user", "--map-root-user", "--mount"])
                .arg(std::env::current_exe().expect("this test binary"))
                .args(["--exact", test, "--nocapture"])
                .env(IN_NAMESPACE, "1")
                .status()
                .expect("run unshare");
            assert!(
                status.success(),
                "the test in its own mount namespace failed"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let _fs = SmallFileSystem::mount(dir.path(), "3m");
        let db_path = dir.path().join("tokenpair.db");
        let server = start_with({
            let db_path = db_path.clone();
            move |c| c.database = Database::Sqlite(db_path)
        })
        .await;
        let t = server.login(USER1).await;

        let filler = dir.path().join("filler");
        fill(&filler);
        let full = server.refresh(&t.refresh).await;
        assert_eq!(full.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            full.headers().get("set-cookie").is_none(),
            "a 500 keeps the cookie: the same token may work a moment later"
        );

        std::fs::remove_file(&filler).unwrap();
        // At once: the first refresh after the space is back succeeds, and so do the next.
        let next = server.refresh_ok(&t.refresh).await;
        let after = server.refresh_ok(&next.refresh).await;
        server.refresh_ok(&after.refresh).await;
    }
}
