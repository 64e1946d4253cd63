//! The event loop: the single owner of the model.
//!
//! It waits on three things — terminal input, messages from background
//! tasks, and a 1 Hz clock — folds each into the model with `update`, runs
//! the effects that returns, and redraws only when something arrived and no
//! other message is queued (a burst of poll results costs one frame).

pub mod logging;
pub mod outbox;
pub mod poll;
pub mod presence;
pub mod team_feed;
pub mod terminal;
pub mod wiring;

use std::io;
use std::time::Duration;

use crossterm::event::{Event, MouseEvent, MouseEventKind};
use futures::{Stream, StreamExt};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::wiring::Pollers;
use crate::model::Model;
use crate::model::message::{Effect, Message};
use crate::ui;

/// Where OSC 52 clipboard writes go (the real terminal, or a test's record).
pub type Clipboard = Box<dyn FnMut(&str) + Send>;

/// What the loop needs besides the model and the terminal.
pub struct Runtime {
    /// When the process started, to log the time to the first frame.
    pub started: Option<std::time::Instant>,
    pub tx: mpsc::UnboundedSender<Message>,
    pub rx: mpsc::UnboundedReceiver<Message>,
    pub pollers: Pollers,
    /// Fires on SIGTERM/SIGHUP (or when a test wants the loop to end).
    pub cancel: CancellationToken,
    pub clipboard: Clipboard,
    /// The write journal; without one, writes are refused with the reason.
    pub journal: Option<crate::app::outbox::SharedJournal>,
    /// Wakes the outbox after a write is journalled.
    pub outbox: Option<std::sync::Arc<tokio::sync::Notify>>,
    /// What the writers can take: a write they would refuse (a `read_only`
    /// source, an id the source cannot have) is not journalled.
    pub accepts: Option<crate::app::outbox::Accepts>,
    /// Runs `$EDITOR` on a text (suspending the TUI) and returns the result.
    pub editor: Option<Editor>,
    /// Shows notifications (writes the bell / OSC escape to the terminal).
    pub notifier: Option<Notifier>,
    /// The local store, when it opened.
    pub store: Option<crate::store::Handle>,
    /// Team mode: where the model's announcements of what is open go.
    pub presence: Option<crate::app::presence::Open>,
}

/// Shows a notification.
pub type Notifier = Box<dyn FnMut(&crate::insight::notify::Notification) + Send>;

impl Runtime {
    /// A runtime with only the essentials: no journal, store, editor,
    /// notifier, and a clipboard that drops what it is given.
    #[must_use]
    pub fn new(
        tx: mpsc::UnboundedSender<Message>,
        rx: mpsc::UnboundedReceiver<Message>,
        pollers: Pollers,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            started: None,
            tx,
            rx,
            pollers,
            cancel,
            clipboard: Box::new(|_| {}),
            journal: None,
            outbox: None,
            accepts: None,
            editor: None,
            notifier: None,
            store: None,
            presence: None,
        }
    }
}

/// Edits text outside the TUI (`$EDITOR`).
pub type Editor = Box<dyn FnMut(&str) -> io::Result<String> + Send>;

/// Run until the user quits or `cancel` fires; returns the final model.
pub async fn run<B, S>(
    terminal: &mut Terminal<B>,
    mut model: Model,
    mut input: S,
    mut runtime: Runtime,
) -> io::Result<Model>
where
    B: Backend,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    if let Ok(size) = terminal.size() {
        model.size = (size.width, size.height);
    }
    // `[ui] mouse = false`: the terminal was entered with mouse reporting
    // on (as every restore path expects); turn it off before the first
    // frame.
    if !model.mouse {
        crate::app::terminal::set_mouse(false);
    }
    draw(terminal, &model)?;
    crate::app::terminal::panic_if_asked();
    // Start-up timing for the performance record (scripts/perf.sh reads it
    // from the log): the first frame, and the first one with the desk's data.
    let mut awaiting_desk = runtime.started;
    if let Some(started) = runtime.started {
        tracing::info!(ms = started.elapsed().as_millis(), "first frame drawn");
    }
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut input_open = true;
    let mut dirty = false;
    loop {
        // Messages from tasks first: they are what the user is waiting for,
        // and draining them before drawing batches a burst into one frame.
        let message = tokio::select! {
            biased;
            () = runtime.cancel.cancelled() => break,
            Some(message) = runtime.rx.recv() => message,
            event = input.next(), if input_open => match event {
                Some(Ok(event)) => Message::Input(event),
                Some(Err(error)) => return Err(error),
                None => { input_open = false; continue }
            },
            _ = clock.tick() => Message::Tick(Timestamp::now()),
        };
        dirty |= changes_screen(&message);
        let effects = model.update(message);
        for effect in effects {
            match effect {
                Effect::Quit => {
                    runtime.cancel.cancel();
                    return Ok(model);
                }
                Effect::ExternalEditor(text) => {
                    let result = match &mut runtime.editor {
                        Some(edit) => edit(&text).map_err(|e| format!("$EDITOR failed: {e}")),
                        None => Err("no external editor available here".to_owned()),
                    };
                    // The editor owned the screen; repaint all of it.
                    terminal.clear().map_err(io::Error::other)?;
                    model.update(Message::Edited(result));
                    dirty = true;
                }
                Effect::Handover => {
                    // The report is rendered from the model as it is now.
                    let (file_name, markdown) = crate::report::handover::shift_report(&model);
                    save_handover(file_name, markdown, &runtime);
                    dirty = true;
                }
                effect => perform(effect, &mut runtime),
            }
        }
        if dirty && runtime.rx.is_empty() {
            draw(terminal, &model)?;
            dirty = false;
            if let Some(started) = awaiting_desk
                && model
                    .source(crate::core::domain::SourceKind::Desk)
                    .is_some_and(|s| s.last_ok.is_some())
            {
                tracing::info!(
                    ms = started.elapsed().as_millis(),
                    inquiries = model.data.inquiries.len(),
                    "first frame with desk data drawn"
                );
                awaiting_desk = None;
            }
        }
    }
    Ok(model)
}

/// Whether a message can change what is on screen. Pointer motion (which
/// mouse capture reports on every cell crossed) and focus changes cannot, and
/// must not cost a frame each.
fn changes_screen(message: &Message) -> bool {
    !matches!(
        message,
        Message::Input(
            Event::Mouse(MouseEvent {
                kind: MouseEventKind::Moved,
                ..
            }) | Event::FocusGained
                | Event::FocusLost
        )
    )
}

fn draw<B>(terminal: &mut Terminal<B>, model: &Model) -> io::Result<()>
where
    B: Backend,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    terminal
        .draw(|frame| ui::render(frame, model))
        .map(|_| ())
        .map_err(io::Error::other)
}

fn save_handover(file_name: String, markdown: String, runtime: &Runtime) {
    let tx = runtime.tx.clone();
    tokio::task::spawn_blocking(move || {
        let said =
            crate::report::handover::save(&crate::config::paths::data_dir(), &file_name, &markdown);
        // The report is also shown in the cockpit, to read it at once.
        send(
            &tx,
            Message::HandoverWritten {
                report: crate::core::sanitize::multiline(&markdown),
                said,
            },
        );
    });
}

/// Start a side effect; its outcome returns as a message.
fn perform(effect: Effect, runtime: &mut Runtime) {
    match effect {
        // The loop handles these: they need the model or the terminal.
        Effect::Quit | Effect::ExternalEditor(_) | Effect::Handover => {}
        Effect::Mouse(on) => crate::app::terminal::set_mouse(on),
        Effect::Refresh => {
            runtime
                .pollers
                .all
                .iter()
                .for_each(crate::app::poll::Poller::refresh);
            // A follower's own poll only re-reads the store: the leader
            // is asked to poll the vendor now.
            if let Some((team, kinds)) = &runtime.pollers.team {
                crate::app::team_feed::ask_refresh(team, kinds);
            }
        }
        Effect::LoadComments(id) => match &runtime.pollers.desk {
            Some(desk) => desk.detail(id),
            None => send(&runtime.tx, Message::Status("no desk configured".into())),
        },
        Effect::LoadNotes(id) => match &runtime.pollers.incidents {
            Some(incidents) => incidents.detail(id),
            None => send(
                &runtime.tx,
                Message::Status("no incident source configured".into()),
            ),
        },
        Effect::OpenUrl(url) => {
            let tx = runtime.tx.clone();
            tokio::task::spawn_blocking(move || send(&tx, Message::Status(open_in_browser(&url))));
        }
        Effect::Copy(text) => (runtime.clipboard)(&text),
        Effect::Journal(request) => {
            let tx = runtime.tx.clone();
            let wake = runtime.outbox.clone();
            let Some(journal) = runtime.journal.clone() else {
                send(&tx, Message::Journalled(Err("no journal is open".into())));
                return;
            };
            if let Some(reason) = runtime
                .accepts
                .as_ref()
                .and_then(|a| a.refuse(&request.effects))
            {
                send(
                    &tx,
                    Message::Journalled(Err(format!("not saved: {reason}"))),
                );
                return;
            }
            tokio::spawn(async move {
                let crate::model::WriteRequest {
                    kind,
                    target,
                    text,
                    effects,
                } = request;
                let result = crate::app::outbox::with_journal(&journal, move |j| {
                    j.insert(kind, &target, &text, effects, Timestamp::now())
                })
                .await
                .map_err(|e| e.to_string());
                let saved = result.is_ok();
                send(&tx, Message::Journalled(result));
                if saved && let Some(wake) = wake {
                    wake.notify_one();
                }
            });
        }
        Effect::CancelWrite(id) => {
            let tx = runtime.tx.clone();
            let Some(journal) = runtime.journal.clone() else {
                return;
            };
            tokio::spawn(async move {
                let result = crate::app::outbox::with_journal(&journal, move |j| {
                    let n = j.cancel(id)?;
                    Ok((n, j.recent(500)?))
                })
                .await;
                match result {
                    Ok((n, recent)) => {
                        send(&tx, Message::JournalLoaded(recent));
                        send(
                            &tx,
                            Message::Status(format!(
                                "write {id}: {n} undelivered step(s) cancelled"
                            )),
                        );
                    }
                    Err(e) => send(&tx, Message::Status(format!("not cancelled: {e}"))),
                }
            });
        }
        Effect::Announce(open) => {
            if let Some(presence) = &runtime.presence {
                presence.send_replace(open);
            }
        }
        Effect::Notify(notification) => {
            if let Some(notify) = &mut runtime.notifier {
                notify(&notification);
            }
        }
        Effect::Persist(batch) => {
            if let Some(store) = runtime.store.clone() {
                let tx = runtime.tx.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = store.save(&batch, Timestamp::now()) {
                        tracing::warn!(error = %e, "saving health history failed");
                        send(
                            &tx,
                            Message::Status(format!("could not save health history: {e}")),
                        );
                    }
                });
            }
        }
    }
}

fn send(tx: &mpsc::UnboundedSender<Message>, message: Message) {
    // Only fails when the loop is gone, and then nobody is listening.
    let _ = tx.send(message);
}

/// Hand a link to the desktop's opener; over ssh there may be none, which
/// the user should hear about rather than wonder.
fn open_in_browser(url: &str) -> String {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return format!("not opening {url}: not a web link");
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
    {
        Ok(status) if status.success() => format!("opened {url}"),
        Ok(status) => format!("{opener} failed ({status}); link: {url}"),
        Err(e) => format!("cannot run {opener} ({e}); link: {url}"),
    }
}
