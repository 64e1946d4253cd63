//! The real terminal: raw mode, alternate screen and mouse capture on the
//! way in, and the same undone on every way out — normal exit, error, panic
//! and SIGTERM/SIGHUP/SIGINT (these end the event loop, so the guard's drop
//! runs).

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use tokio_util::sync::CancellationToken;

/// Whether this process has taken the terminal over (`enter`), so that a
/// mouse switch is written to a real terminal only, never to a test's
/// standard output.
static ENTERED: AtomicBool = AtomicBool::new(false);
/// Whether mouse reporting should be on while the cockpit runs (`:mouse`).
static MOUSE: AtomicBool = AtomicBool::new(true);

/// Turn mouse reporting on or off on the real terminal (if entered).
pub fn set_mouse(on: bool) {
    MOUSE.store(on, Ordering::SeqCst);
    if ENTERED.load(Ordering::SeqCst) {
        let _ = if on {
            execute!(io::stdout(), EnableMouseCapture)
        } else {
            execute!(io::stdout(), DisableMouseCapture)
        };
    }
}

/// Restores the terminal when dropped.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// The real terminal, behind the backend that sanitises every cell.
pub type Screen = Terminal<SafeBackend<CrosstermBackend<Stdout>>>;

/// Take over the terminal.
pub fn enter() -> io::Result<(Screen, Guard)> {
    install_panic_hook();
    enable_raw_mode()?;
    // From here on there is something to restore, even if the rest fails.
    ENTERED.store(true, Ordering::SeqCst);
    let guard = Guard;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        cursor::Hide
    )?;
    ENTERED.store(true, Ordering::SeqCst);
    let terminal = Terminal::new(SafeBackend(CrosstermBackend::new(io::stdout())))?;
    Ok((terminal, guard))
}

/// A backend that lets no control or bidi character out: every cell whose
/// text has one is written sanitised. Remote text is sanitised where it
/// enters (the adapters); this is the last gate, so that whatever reaches a
/// widget by any road cannot become an escape sequence on the terminal.
pub struct SafeBackend<B>(pub B);

impl<B: Backend> Backend for SafeBackend<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let cells: Vec<(u16, u16, std::borrow::Cow<'a, Cell>)> = content
            .map(|(x, y, cell)| {
                if crate::core::sanitize::is_clean(cell.symbol()) {
                    (x, y, std::borrow::Cow::Borrowed(cell))
                } else {
                    let mut clean = cell.clone();
                    let text = crate::core::sanitize::text(cell.symbol());
                    clean.set_symbol(if text.is_empty() { " " } else { &text });
                    (x, y, std::borrow::Cow::Owned(clean))
                }
            })
            .collect();
        self.0
            .draw(cells.iter().map(|(x, y, cell)| (*x, *y, cell.as_ref())))
    }

    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.0.append_lines(n)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.hide_cursor()
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.show_cursor()
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.0.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.0.set_cursor_position(position)
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.0.clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        self.0.size()
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.0.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

/// The terminal's key, mouse and resize events, for the event loop.
#[must_use]
pub fn input() -> crossterm::event::EventStream {
    crossterm::event::EventStream::new()
}

/// Give the terminal back as it was. Safe to call more than once: only
/// the first call after `enter` writes anything — a second "leave the
/// alternate screen" would move the cursor back over what was printed
/// since (the panic message, printed between the hook's restore and the
/// guard's).
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    // Best effort: on the way out there is nobody left to report to.
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
}

/// The environment variable that makes the TUI panic right after its
/// first frame: a test hook (tests/terminal_safety.rs) to prove that a
/// panic gives the terminal back. Not documented for users; its name says
/// what it does, so nobody sets it by accident.
pub const TEST_PANIC_ENV: &str = "CRE_COCKPIT_TEST_PANIC_AFTER_FIRST_FRAME";

/// The test hook of [`TEST_PANIC_ENV`], checked once per run.
pub fn panic_if_asked() {
    if std::env::var_os(TEST_PANIC_ENV).is_some_and(|v| v == "1") {
        panic!("{TEST_PANIC_ENV}=1: panicking on purpose to test the terminal's restore");
    }
}

/// Restore the terminal before the default panic message prints, so the
/// message is readable (on the normal screen, not the alternate one that
/// is about to vanish) and the shell usable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Cancel `token` on SIGTERM, SIGHUP (terminal closed, ssh dropped) or
/// SIGINT (`kill -INT`; the Ctrl-C key itself arrives as a key in raw
/// mode): the event loop ends and the terminal guard restores the screen.
pub fn cancel_on_signals(token: CancellationToken) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
            () = token.cancelled() => return,
        }
        tracing::info!("signal received, shutting down");
        token.cancel();
    });
}

/// Write text to the system clipboard through the terminal (OSC 52), which
/// also works over ssh and inside tmux with `set-clipboard on`.
pub fn osc52(text: &str) {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(crate::core::sanitize::text(text));
    let mut out = io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

/// Edit `text` in `$VISUAL`/`$EDITOR` (default `vi`): leave the TUI, run
/// the editor on a private temporary file, come back. The file is removed
/// afterwards; it holds a note, not a secret.
pub fn edit_externally(text: &str) -> io::Result<String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut file = tempfile::Builder::new()
        .prefix("cre-cockpit-note-")
        .suffix(".txt")
        .tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    restore();
    // `$EDITOR` may carry arguments ("code --wait").
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(file.path())
        .status();
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
    ENTERED.store(true, Ordering::SeqCst);
    if MOUSE.load(Ordering::SeqCst) {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    let status = status?;
    if !status.success() {
        return Err(io::Error::other(format!("{program} exited with {status}")));
    }
    let edited = std::fs::read_to_string(file.path())?;
    Ok(edited.trim_end_matches('\n').to_owned())
}

/// Show a notification on the real terminal.
pub fn notify(n: &crate::insight::notify::Notification) {
    let bytes = crate::insight::notify::escape(n, std::env::var_os("TMUX").is_some());
    let mut out = io::stdout();
    let _ = out.write_all(bytes.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;

    #[test]
    fn the_backend_lets_no_control_or_bidi_character_out() {
        let mut terminal = Terminal::new(SafeBackend(TestBackend::new(12, 1))).unwrap();
        terminal
            .draw(|f| {
                let buf = f.buffer_mut();
                buf[(0, 0)].set_symbol("\u{202e}");
                buf[(1, 0)].set_symbol("a\u{1b}");
                buf[(2, 0)].set_symbol("\u{9b}");
                buf[(3, 0)].set_symbol("ok");
            })
            .unwrap();
        let cells = &terminal.backend().0.buffer().content;
        let shown: Vec<&str> = cells[..4].iter().map(Cell::symbol).collect();
        assert_eq!(shown, [" ", "a", " ", "ok"]);
    }
}
