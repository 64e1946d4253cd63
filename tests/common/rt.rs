//! A direct REST2 client for arranging and checking what is in a real RT,
//! shared by the RT adapter tests.

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// A direct REST2 client for arranging and checking what is in RT.
pub struct Rest {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Rest {
    pub fn new(url: &str, token: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: format!("{url}/REST/2.0"),
            token: token.to_owned(),
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .client
            .request(method.clone(), format!("{}/{path}", self.base))
            .header("Authorization", format!("token {}", self.token))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        // RT reports some failures as 200 with a list of messages.
        if let Some(messages) = answer.as_array() {
            for m in messages {
                let m = m.as_str().unwrap_or_default();
                assert!(
                    !m.contains("Permission Denied") && !m.contains("isn't a valid"),
                    "{method} {path}: {m}"
                );
            }
        }
        answer
    }

    /// A fresh queue for one test.
    pub async fn queue(&self, test: &str) -> String {
        let name = format!(
            "cockpit {test} {}",
            jiff::Timestamp::now().as_nanosecond() % 1_000_000_000_000
        );
        self.send(reqwest::Method::POST, "queue", json!({"Name": name}))
            .await;
        name
    }

    pub async fn ticket(
        &self,
        queue: &str,
        subject: &str,
        priority: u32,
        customer: &str,
    ) -> String {
        let created = self
            .send(
                reqwest::Method::POST,
                "ticket",
                json!({
                    "Queue": queue, "Subject": subject, "Priority": priority,
                    "Requestor": format!("someone@{customer}.example"),
                    "Content": "Reported through the portal.", "ContentType": "text/plain",
                    "CustomFields": {"Customer": customer}
                }),
            )
            .await;
        created["id"].as_str().unwrap().to_owned()
    }

    pub async fn update(&self, id: &str, body: Value) {
        self.send(reqwest::Method::PUT, &format!("ticket/{id}"), body)
            .await;
    }

    /// RT's own answer: the active tickets of a queue.
    pub async fn active(&self, queue: &str) -> BTreeSet<String> {
        let mut url = reqwest::Url::parse(&format!("{}/tickets", self.base)).unwrap();
        url.query_pairs_mut()
            .append_pair(
                "query",
                &format!("Queue = '{queue}' AND Status = '__Active__'"),
            )
            .append_pair("per_page", "100");
        let answer: Value = self
            .client
            .get(url)
            .header("Authorization", format!("token {}", self.token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl Rest {
    /// Every item of a collection under the REST2 base (all pages).
    async fn collection(&self, path: &str, fields: &str) -> Vec<Value> {
        let mut all = Vec::new();
        for page in 1.. {
            let url = format!(
                "{}/{path}?fields={fields}&per_page=100&page={page}",
                self.base
            );
            let answer: Value = self
                .client
                .get(url)
                .header("Authorization", format!("token {}", self.token))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let items = answer["items"].as_array().cloned().unwrap_or_default();
            let n = items.len();
            all.extend(items);
            if n < 100 {
                break;
            }
        }
        all
    }

    /// How many comment transactions on the ticket carry `text`, read from
    /// RT's own record: `ticket/{id}/history` (each transaction's Type) and
    /// `ticket/{id}/attachments` (each attachment's TransactionId and
    /// Content, plain text in RT 5's collection answers).
    pub async fn comments_containing(&self, ticket: &str, text: &str) -> usize {
        let comments: BTreeSet<String> = self
            .collection(&format!("ticket/{ticket}/history"), "Type")
            .await
            .iter()
            .filter(|t| t["Type"] == "Comment")
            .filter_map(|t| t["id"].as_str().map(str::to_owned))
            .collect();
        let carrying: BTreeSet<String> = self
            .collection(
                &format!("ticket/{ticket}/attachments"),
                "TransactionId,Content",
            )
            .await
            .iter()
            .filter(|a| a["Content"].as_str().is_some_and(|c| c.contains(text)))
            .filter_map(|a| a["TransactionId"].as_str().map(str::to_owned))
            .collect();
        comments.intersection(&carrying).count()
    }

    /// A ticket's fields as RT answers them.
    pub async fn get_ticket(&self, id: &str) -> Value {
        self.send(reqwest::Method::GET, &format!("ticket/{id}"), Value::Null)
            .await
    }
}
