//! The real binary in a real pseudo-terminal: one tmux server on a private
//! socket per program, one pane, read and typed into as a person would;
//! the server is killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a screen may take to show what a test waits for: generous,
/// for a loaded CI machine; a test that measures a time says so itself.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct Pane {
    tmux: String,
    socket: String,
    /// The program's log, whose tail a failed wait prints.
    log: Option<PathBuf>,
}

impl Pane {
    /// Run `script` in a detached `width`×`height` pane on a server of its
    /// own (`socket`), kept after the program exits so its status and last
    /// screen can be read.
    pub fn start(
        tmux: &str,
        socket: &str,
        script: &Path,
        size: (u16, u16),
        log: Option<PathBuf>,
    ) -> Self {
        let pane = Self {
            tmux: tmux.to_owned(),
            socket: socket.to_owned(),
            log,
        };
        let (width, height) = (size.0.to_string(), size.1.to_string());
        // One command line, so the option is set before the program can
        // exit.
        pane.tmux(&[
            "-f",
            "/dev/null",
            "start-server",
            ";",
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            "cockpit",
            "-x",
            &width,
            "-y",
            &height,
            &script.display().to_string(),
        ]);
        pane
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
        let out = Command::new(&self.tmux)
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "cockpit"]).stdout)
            .into_owned()
    }

    /// Type `keys` (tmux key names or text), one at a time.
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", "cockpit", key]);
            // One key, one frame: let the loop redraw before the next.
            std::thread::sleep(Duration::from_millis(400));
        }
    }

    /// tmux's own view of the pane: `format` of `display-message`, e.g.
    /// `#{mouse_any_flag}`.
    pub fn pane(&self, format: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "cockpit", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The program's pid (the pane runs the shell that waits for it).
    pub fn pid(&self) -> String {
        let shell = self.pane("#{pane_pid}");
        let child = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        let pid = String::from_utf8_lossy(&child.stdout).trim().to_owned();
        assert!(
            !pid.is_empty() && !pid.contains('\n'),
            "child of {shell}: {pid:?}"
        );
        pid
    }

    /// Send the program a signal.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// Wait until the program has exited with `expected` status.
    pub fn wait_exited_with(&self, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let state = self.pane("#{pane_dead} #{pane_dead_status}");
            // tmux does not always have the exit status yet when the pane
            // is already dead; when it does, it must be the expected one.
            let mut fields = state.split_whitespace();
            if fields.next() == Some("1") {
                if let Some(status) = fields.next() {
                    assert_eq!(status, expected, "the cockpit exited with status {status}");
                }
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cockpit did not exit (pane: {state}); screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Wait until the screen shows `text`.
    pub fn wait_for(&self, text: &str) {
        self.wait_for_any(&[text]);
    }

    /// Wait until the screen shows one of `texts` (a footer message the
    /// next event may replace before the screen is read).
    pub fn wait_for_any(&self, texts: &[&str]) {
        let what = format!("\"{}\"", texts.join("\" or \""));
        self.wait_until(&what, PATIENCE, |screen| {
            texts.iter().any(|t| screen.contains(t))
        });
    }

    /// Wait until `done` holds for the screen, and return that screen; on
    /// timeout fail with the screen and the log's tail.
    pub fn wait_until(
        &self,
        what: &str,
        patience: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + patience;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                let log = self
                    .log
                    .as_ref()
                    .and_then(|p| std::fs::read_to_string(p).ok())
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "{what} never appeared; screen:\n{screen}\nlog tail:\n{}",
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new(&self.tmux)
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// Make a file only its owner can use (a config, a script).
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
