//! Misbehaving desks: every failure a desk can throw at a poll becomes one
//! clear, secret-free message (for the chip and the log), for both desk
//! adapters: rate limits, 5xx, timeouts, refused connections, malformed,
//! truncated and oversized bodies, and redirects to another host.

use std::time::Duration;

use cre_cockpit::core::domain::{DeskUpdate, SourceError};
use cre_cockpit::sources::DeskSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::rt::Rt;
use cre_cockpit::sources::zendesk::Zendesk;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "desk-secret-4242";

#[derive(Clone, Copy, Debug)]
enum Vendor {
    Zendesk,
    Rt,
}

impl Vendor {
    const BOTH: [Self; 2] = [Self::Zendesk, Self::Rt];

    /// The operation the first poll names in its errors.
    fn prefix(self) -> &'static str {
        match self {
            Self::Zendesk => "zendesk: ticket export: ",
            Self::Rt => "rt: ticket search: ",
        }
    }

    async fn poll(self, url: &str) -> Result<DeskUpdate, SourceError> {
        let toml = match self {
            Self::Zendesk => format!(
                "[desk]\nkind = \"zendesk\"\nurl = \"{url}\"\nemail = \"cre@example.com\"\ntimeout = \"1s\"\n"
            ),
            Self::Rt => format!("[desk]\nkind = \"rt\"\nurl = \"{url}\"\ntimeout = \"1s\"\n"),
        };
        let desk = super::config(&toml).desk.expect("desk");
        match self {
            Self::Zendesk => {
                Zendesk::new(http::client(), &desk, Secret::new(TOKEN))
                    .expect("adapter")
                    .poll()
                    .await
            }
            Self::Rt => {
                Rt::new(http::client(), &desk, Secret::new(TOKEN))
                    .expect("adapter")
                    .poll()
                    .await
            }
        }
    }
}

#[tokio::test]
async fn http_failures_are_clear_for_both_desks() {
    for vendor in Vendor::BOTH {
        for (label, response, needle, retry) in super::failure_cases() {
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(response)
                .mount(&server)
                .await;
            let err = vendor.poll(&server.uri()).await.expect_err(label);
            let label = format!("{vendor:?} {label}");
            super::check_failure(&label, &err, vendor.prefix(), needle, retry, TOKEN);
        }
    }
}

#[tokio::test]
async fn a_slow_desk_times_out() {
    for vendor in Vendor::BOTH {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(4)))
            .mount(&server)
            .await;
        let started = std::time::Instant::now();
        let err = vendor.poll(&server.uri()).await.expect_err("timeout");
        assert!(
            err.message.starts_with(vendor.prefix()),
            "{vendor:?}: {err}"
        );
        assert!(err.message.contains("timed out"), "{vendor:?}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the 1s timeout applies"
        );
    }
}

#[tokio::test]
async fn a_refused_connection_says_so() {
    // A port that was free a moment ago and has nobody listening now.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    for vendor in Vendor::BOTH {
        let err = vendor
            .poll(&format!("http://127.0.0.1:{port}"))
            .await
            .expect_err("refused");
        assert!(
            err.message.starts_with(vendor.prefix()),
            "{vendor:?}: {err}"
        );
        assert!(err.message.contains("cannot connect"), "{vendor:?}: {err}");
        assert!(!err.message.contains(TOKEN));
    }
}

/// A one-response-per-connection HTTP server writing raw bytes, for what
/// wiremock cannot send: a lying Content-Length, an endless chunked body.
async fn raw_server(declared: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                if declared {
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{";
                    let _ = socket.write_all(head.as_bytes()).await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 1 << 20];
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                // 100 MiB of whitespace, or until the client hangs up.
                for _ in 0..100 {
                    if socket.write_all(&framed).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    url
}

#[tokio::test]
async fn an_oversized_body_is_not_read() {
    for declared in [true, false] {
        let url = raw_server(declared).await;
        for vendor in Vendor::BOTH {
            let err = vendor.poll(&url).await.expect_err("oversized");
            assert!(
                err.message.starts_with(vendor.prefix()),
                "{vendor:?}: {err}"
            );
            assert!(
                err.message.contains("larger than"),
                "{vendor:?} declared={declared}: {err}"
            );
        }
    }
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_and_gets_no_token() {
    for vendor in Vendor::BOTH {
        let elsewhere = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&elsewhere)
            .await;
        let desk = MockServer::start().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("Location", format!("{}/stolen", elsewhere.uri())),
            )
            .mount(&desk)
            .await;
        let err = vendor.poll(&desk.uri()).await.expect_err("redirect");
        assert!(
            err.message.starts_with(vendor.prefix()),
            "{vendor:?}: {err}"
        );
        assert!(err.message.contains("redirect"), "{vendor:?}: {err}");
        assert!(!err.message.contains(TOKEN));
        // `expect(0)` on the other host is checked when it drops here.
    }
}
