//! The filter expressions of saved views (`[[views]] filter = "…"`).
//!
//! ```text
//! expr       := and ("or" and)*
//! and        := unary (["and"] unary)*          terms side by side are ANDed
//! unary      := "not" unary | "(" expr ")" | comparison
//! comparison := field op value ("," value)*     a list matches any of its values
//! op         := "=" | "!=" | "~" (contains) | "!~" | "<" | "<=" | ">" | ">="
//! value      := word | "quoted text" | 'quoted text'
//! ```
//!
//! Fields: `status`, `priority`, `assignee`, `group`, `tag`, `customer`,
//! `segment`, `area` (feature area), `subject`, `requester`, `org`, `sla`
//! (time left, e.g. `sla < 2h`; `sla = none` when paused). `none` matches a
//! missing value; `assignee = me` means `[ui] me`. Priorities compare by
//! urgency: `priority >= high` is high or urgent. Text compares without
//! regard to ASCII case.
//!
//! Examples: `priority >= high and segment = enterprise`,
//! `tag = vip or customer ~ acme`, `not assignee = none and sla < 4h`.

use jiff::SignedDuration;

use crate::core::domain::{InquiryStatus, Priority, Segment};

/// An inquiry field a filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Status,
    Priority,
    Assignee,
    Group,
    Tag,
    Customer,
    Segment,
    Area,
    Subject,
    Requester,
    Org,
    Sla,
}

impl Field {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "status" => Self::Status,
            "priority" | "pri" => Self::Priority,
            "assignee" => Self::Assignee,
            "group" | "queue" => Self::Group,
            "tag" | "tags" => Self::Tag,
            "customer" => Self::Customer,
            "segment" => Self::Segment,
            "area" | "feature" | "feature_area" => Self::Area,
            "subject" => Self::Subject,
            "requester" => Self::Requester,
            "org" | "organization" => Self::Org,
            "sla" => Self::Sla,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Contains,
    NotContains,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// The operator written at `c` (followed by `next`), and how many
    /// characters it takes: the one definition of the operators' spelling,
    /// for saved views and for the `/` filter's field rules alike.
    #[must_use]
    pub fn starting(c: char, next: Option<char>) -> Option<(Self, usize)> {
        Some(match (c, next) {
            ('!', Some('=')) => (Self::Ne, 2),
            ('!', Some('~')) => (Self::NotContains, 2),
            ('<', Some('=')) => (Self::Le, 2),
            ('>', Some('=')) => (Self::Ge, 2),
            ('=', _) => (Self::Eq, 1),
            ('~', _) => (Self::Contains, 1),
            ('<', _) => (Self::Lt, 1),
            ('>', _) => (Self::Gt, 1),
            _ => return None,
        })
    }

    /// Whether `c` begins or ends an operator (`!` alone does not: it
    /// needs `=` or `~` after it).
    #[must_use]
    pub fn is_operator_char(c: char) -> bool {
        Self::starting(c, None).is_some()
    }

    /// `<`, `<=`, `>` or `>=`.
    #[must_use]
    pub fn ordering(self) -> bool {
        matches!(self, Self::Lt | Self::Le | Self::Gt | Self::Ge)
    }

    /// `=`, `!=`, `~` or `!~`.
    #[must_use]
    pub fn text(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Contains => "~",
            Self::NotContains => "!~",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// `left op right` for ordered values (`~` and `!~` hold for none).
    #[must_use]
    pub fn order<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            Self::Eq => left == right,
            Self::Ne => left != right,
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Gt => left > right,
            Self::Ge => left >= right,
            Self::Contains | Self::NotContains => false,
        }
    }
}

/// One value of a comparison, checked against its field when parsed so a
/// typo (`priority = hihg`) is a config error, not an always-empty view.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A missing value (`none`).
    None,
    /// `me`, the configured `[ui] me`.
    Me,
    /// Text, ASCII-lower-cased.
    Text(String),
    Status(InquiryStatus),
    Priority(Priority),
    Segment(Segment),
    /// SLA time left.
    Duration(SignedDuration),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        field: Field,
        op: Op,
        values: Vec<Value>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

/// A parse error with the 1-based column it was found at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

fn error<T>(column: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        column,
        message: message.into(),
    })
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        if let Some((op, len)) = Op::starting(c, next) {
            tokens.push((column, Token::Op(op)));
            i += len;
            continue;
        }
        let (token, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Token::Open, 1),
            ')' => (Token::Close, 1),
            ',' => (Token::Comma, 1),
            '"' | '\'' => {
                let end =
                    chars[i + 1..]
                        .iter()
                        .position(|&x| x == c)
                        .ok_or_else(|| ParseError {
                            column,
                            message: format!("unclosed quote {c}"),
                        })?;
                let inner: String = chars[i + 1..i + 1 + end].iter().collect();
                (Token::Quoted(inner), end + 2)
            }
            '!' => return error(column, "expected != or !~"),
            _ => {
                let len = chars[i..]
                    .iter()
                    .take_while(|&&x| !x.is_whitespace() && !"()=,~!<>\"'".contains(x))
                    .count();
                (Token::Word(chars[i..i + len].iter().collect()), len)
            }
        };
        tokens.push((column, token));
        i += len;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.end_column, |(c, _)| *c)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            if self.keyword("and") {
                self.at += 1;
            } else if self.peek().is_none()
                || self.keyword("or")
                || matches!(self.peek(), Some(Token::Close))
            {
                return Ok(left);
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.keyword("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.peek(), Some(Token::Open)) {
            let column = self.column();
            self.at += 1;
            let inner = self.or()?;
            if !matches!(self.peek(), Some(Token::Close)) {
                return error(column, "this ( is never closed");
            }
            self.at += 1;
            return Ok(inner);
        }
        self.comparison()
    }

    /// The field name of a comparison, and its column.
    fn field_name(&mut self) -> Result<(usize, String), ParseError> {
        let column = self.column();
        match self.peek() {
            Some(Token::Word(w)) => {
                let name = w.clone();
                self.at += 1;
                Ok((column, name))
            }
            None => error(column, "expected a comparison such as status = new"),
            Some(_) => error(column, "expected a field name"),
        }
    }

    /// The operator of a comparison, and its column.
    fn operator(&mut self) -> Result<(usize, Op), ParseError> {
        let column = self.column();
        let Some(Token::Op(op)) = self.peek().cloned() else {
            return error(column, "expected an operator (=, !=, ~, !~, <, <=, >, >=)");
        };
        self.at += 1;
        Ok((column, op))
    }

    /// The values of a comparison, separated by commas: each with its
    /// column and whether it was quoted.
    fn values(&mut self) -> Result<Vec<RawValue>, ParseError> {
        let mut values = Vec::new();
        loop {
            let column = self.column();
            let (text, quoted) = match self.peek() {
                Some(Token::Word(w)) => (w.clone(), false),
                Some(Token::Quoted(q)) => (q.clone(), true),
                _ => return error(column, "expected a value"),
            };
            self.at += 1;
            values.push(RawValue {
                column,
                text,
                quoted,
            });
            if matches!(self.peek(), Some(Token::Comma)) {
                self.at += 1;
            } else {
                return Ok(values);
            }
        }
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let (column, name) = self.field_name()?;
        let field = Field::parse(&name).ok_or_else(|| ParseError {
            column,
            message: format!(
                "unknown field {name:?} (status, priority, assignee, group, tag, customer, segment, area, subject, requester, org, sla)"
            ),
        })?;
        let (op_column, op) = self.operator()?;
        check_op(field, op, op_column)?;
        let values = self
            .values()?
            .into_iter()
            .map(|v| value(field, op, &v.text, v.quoted, v.column))
            .collect::<Result<Vec<_>, _>>()?;
        if op.ordering() && values.len() > 1 {
            return error(op_column, format!("{} takes one value", op.text()));
        }
        Ok(Expr::Compare { field, op, values })
    }
}

/// One value of a comparison as written.
struct RawValue {
    column: usize,
    text: String,
    quoted: bool,
}

/// One comparison, `field op value, value…`, read with the saved views'
/// syntax but not checked against their fields: for the `/` filter's rules
/// on the panes whose fields are not inquiry fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub field: String,
    pub op: Op,
    /// As written, quotes taken off.
    pub values: Vec<String>,
}

/// Parse one comparison, and nothing after it.
pub fn comparison(text: &str) -> Result<Comparison, ParseError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        end_column: text.chars().count() + 1,
    };
    let (_, field) = parser.field_name()?;
    let (_, op) = parser.operator()?;
    let values = parser.values()?.into_iter().map(|v| v.text).collect();
    if parser.peek().is_some() {
        return error(parser.column(), "unexpected text");
    }
    Ok(Comparison { field, op, values })
}

fn check_op(field: Field, op: Op, column: usize) -> Result<(), ParseError> {
    let ok = match field {
        Field::Sla => op.ordering() || matches!(op, Op::Eq | Op::Ne),
        Field::Priority => !matches!(op, Op::Contains | Op::NotContains),
        Field::Status | Field::Segment => matches!(op, Op::Eq | Op::Ne),
        _ => !op.ordering(),
    };
    if ok {
        Ok(())
    } else {
        error(
            column,
            format!("{} does not apply to {field:?}", op.text()).to_lowercase(),
        )
    }
}

fn value(
    field: Field,
    op: Op,
    raw: &str,
    quoted: bool,
    column: usize,
) -> Result<Value, ParseError> {
    let lower = raw.to_ascii_lowercase();
    if !quoted && lower == "none" && !op.ordering() {
        return Ok(Value::None);
    }
    Ok(match field {
        Field::Status => Value::Status(match lower.as_str() {
            "new" => InquiryStatus::New,
            "open" => InquiryStatus::Open,
            "pending" => InquiryStatus::Pending,
            "hold" | "on-hold" | "stalled" => InquiryStatus::Hold,
            "solved" => InquiryStatus::Solved,
            "closed" => InquiryStatus::Closed,
            _ => {
                return error(
                    column,
                    format!("unknown status {raw:?} (new, open, pending, hold, solved, closed)"),
                );
            }
        }),
        Field::Priority => Value::Priority(match lower.as_str() {
            "urgent" => Priority::Urgent,
            "high" => Priority::High,
            "normal" => Priority::Normal,
            "low" => Priority::Low,
            _ => {
                return error(
                    column,
                    format!("unknown priority {raw:?} (urgent, high, normal, low)"),
                );
            }
        }),
        Field::Segment => Value::Segment(match lower.as_str() {
            "enterprise" => Segment::Enterprise,
            "mid-market" | "midmarket" | "mid" => Segment::MidMarket,
            "small" => Segment::Small,
            _ => {
                return error(
                    column,
                    format!("unknown segment {raw:?} (enterprise, mid-market, small)"),
                );
            }
        }),
        Field::Sla => {
            let parsed = if lower == "0" {
                Ok(SignedDuration::ZERO)
            } else {
                lower.parse::<SignedDuration>()
            };
            match parsed {
                Ok(d) if op.ordering() => Value::Duration(d),
                _ if op.ordering() => {
                    return error(
                        column,
                        format!("invalid duration {raw:?} (write e.g. 30m, 2h, -1h)"),
                    );
                }
                _ => return error(column, "sla can only be compared with = none or != none"),
            }
        }
        Field::Assignee if !quoted && lower == "me" => Value::Me,
        _ => Value::Text(lower),
    })
}

/// Parse a filter expression.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(text)?;
    let end_column = text.chars().count() + 1;
    let mut parser = Parser {
        tokens,
        at: 0,
        end_column,
    };
    let expr = parser.or()?;
    if parser.peek().is_some() {
        let what = if matches!(parser.peek(), Some(Token::Close)) {
            "unmatched )"
        } else {
            "unexpected text"
        };
        return error(parser.column(), what);
    }
    Ok(expr)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn cmp(field: Field, op: Op, values: Vec<Value>) -> Expr {
        Expr::Compare { field, op, values }
    }

    #[test]
    fn precedence_and_implicit_and() {
        let e = parse("tag = vip or priority >= high segment = enterprise").unwrap();
        assert_eq!(
            e,
            Expr::Or(
                Box::new(cmp(Field::Tag, Op::Eq, vec![Value::Text("vip".into())])),
                Box::new(Expr::And(
                    Box::new(cmp(
                        Field::Priority,
                        Op::Ge,
                        vec![Value::Priority(Priority::High)]
                    )),
                    Box::new(cmp(
                        Field::Segment,
                        Op::Eq,
                        vec![Value::Segment(Segment::Enterprise)]
                    )),
                ))
            )
        );
    }

    #[test]
    fn lists_quotes_none_me_and_parentheses() {
        let e = parse("not (assignee = me, none) and customer ~ \"Acme Corp\"").unwrap();
        let Expr::And(left, right) = e else {
            panic!("expected and")
        };
        assert_eq!(
            *left,
            Expr::Not(Box::new(cmp(
                Field::Assignee,
                Op::Eq,
                vec![Value::Me, Value::None]
            )))
        );
        assert_eq!(
            *right,
            cmp(
                Field::Customer,
                Op::Contains,
                vec![Value::Text("acme corp".into())]
            )
        );
        assert_eq!(
            parse("sla < -30m").unwrap(),
            cmp(
                Field::Sla,
                Op::Lt,
                vec![Value::Duration(SignedDuration::from_mins(-30))]
            )
        );
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases = [
            ("priority = hihg", 12, "unknown priority"),
            ("colour = red", 1, "unknown field"),
            ("status new", 8, "expected an operator"),
            ("(status = new", 1, "never closed"),
            ("status = new)", 13, "unmatched )"),
            ("subject = \"open", 11, "unclosed quote"),
            ("status ~ ne", 8, "does not apply"),
            ("sla < soon", 7, "invalid duration"),
            ("tag =", 6, "expected a value"),
            ("", 1, "expected a comparison"),
        ];
        for (text, column, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.column, column, "{text}: {e}");
            assert!(e.message.contains(needle), "{text}: {e}");
        }
    }
}
