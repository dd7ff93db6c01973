//! Values for tests (feature `test-support`, and this crate's own tests): one of each contract
//! type with every field present, so that a test that encodes, stores or serves one sees all of
//! its fields.

use chrono::{DateTime, TimeDelta, Utc};

use crate::record::{
    Anomalies, CandidateScore, ChangeKind, Changepoint, Decomposition, Metadata, OutlierStatus,
    PredictedPoint, Prediction, Seasonality, Stationarity,
};

/// Metadata with every statistic present (a non-constant, seasonal series with a level shift,
/// outlying among its fleet), for tests that encode, store or serve one.
pub fn full_metadata() -> Metadata {
    Metadata {
        constant: false,
        samples: 4320,
        step_seconds: 60,
        stationarity: Some(Stationarity {
            stationary: true,
            p_value: 0.001,
            adf_statistic: -4.2,
            used_lag: 3,
        }),
        autocorrelation: Some([("0".to_owned(), 1.0), ("1".to_owned(), 0.8)].into()),
        seasonality: Some(Seasonality {
            period: Some(60.0),
            periods: Vec::new(),
            add: Some(Decomposition {
                period: 60.0,
                error: 0.5,
            }),
            mul: None,
        }),
        anomalies: Some(Anomalies {
            changepoints: vec![Changepoint {
                timestamp: "2026-11-22T04:00:00Z".parse().expect("a time"),
                kind: ChangeKind::Level,
                size: 2.5,
                score: 8.0,
            }],
            outlier: Some(OutlierStatus {
                method: "mad".to_owned(),
                compared: 12,
                outlying: true,
                since: Some("2026-11-22T04:00:00Z".parse().expect("a time")),
                until: None,
                score: Some(6.5),
            }),
        }),
    }
}

/// A prediction with every field present, computed at `at`: ten points one minute apart after
/// it (value 1, bounds 0.5 and 1.5, so `min`, `max` and `avg` agree with them) and one
/// candidate with its held-out RMSE.
pub fn full_prediction(at: DateTime<Utc>) -> Prediction {
    let values = (1..=10)
        .map(|minutes| PredictedPoint {
            timestamp: at + TimeDelta::minutes(minutes),
            value: 1.0,
            lower: 0.5,
            upper: 1.5,
        })
        .collect();
    Prediction {
        model: "holt_winters_additive".to_owned(),
        rmse: 0.2,
        min: 1.0,
        max: 1.0,
        avg: 1.0,
        horizon_minutes: 10,
        step_seconds: 60,
        values,
        candidates: vec![CandidateScore {
            model: "holt_winters_additive".to_owned(),
            holdout_rmse: 0.25,
        }],
    }
}

/// One token of PromQL text, as [`promql_tokens`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A bare name: `[a-zA-Z_:][a-zA-Z0-9_:]*` (metric and label names, functions, keywords).
    Ident(String),
    /// A double-quoted string, unescaped.
    Str(String),
    /// A number or duration (`1h59m59s999ms`, `0.5`).
    Literal(String),
    /// Punctuation or an operator: `{ } ( ) [ ] ,` and `= != =~ !~`.
    Punct(String),
}

/// The tokens of `text` as Prometheus' lexer sees them, for tests that check that generated
/// PromQL has exactly the intended shape: a double-quoted string ends at the first `"` not
/// escaped by a backslash and may not hold a raw newline (as in Prometheus), so a name that
/// escaped badly shows up as extra or missing tokens. Strings are unescaped as JSON (the
/// escapes the generators write are JSON's, a subset of PromQL's).
///
/// # Errors
/// Text Prometheus would not lex: an unterminated string, a raw newline in one, an unknown
/// character.
pub fn promql_tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '"' => {
                let start = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None | Some('\n') => return Err(format!("unterminated string at {start}")),
                        Some('\\') => i += 2,
                        Some('"') => break,
                        Some(_) => i += 1,
                    }
                }
                let raw: String = chars[start..=i].iter().collect();
                let value: String =
                    serde_json::from_str(&raw).map_err(|e| format!("{raw}: {e}"))?;
                tokens.push(Token::Str(value));
                i += 1;
            }
            '{' | '}' | '(' | ')' | '[' | ']' | ',' => {
                tokens.push(Token::Punct(c.to_string()));
                i += 1;
            }
            '=' | '!' => {
                let next = chars.get(i + 1).copied();
                let op = match (c, next) {
                    ('=', Some('~')) | ('!', Some('~')) | ('!', Some('=')) | ('=', Some('=')) => {
                        format!("{c}{}", next.unwrap_or_default())
                    }
                    ('=', _) => "=".to_owned(),
                    _ => return Err(format!("unexpected {c:?} at {i}")),
                };
                i += op.chars().count();
                tokens.push(Token::Punct(op));
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                tokens.push(Token::Literal(chars[start..i].iter().collect()));
            }
            c if word(c) => {
                let start = i;
                while i < chars.len() && word(chars[i]) {
                    i += 1;
                }
                tokens.push(Token::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected {other:?} at {i}")),
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_prometheus_lexing() {
        let tokens = promql_tokens(r#"min_over_time({"a.b"="x\"y",job=~"a|b"}[1h] offset 5m)"#);
        let p = |s: &str| Token::Punct(s.into());
        assert_eq!(
            tokens,
            Ok(vec![
                Token::Ident("min_over_time".into()),
                p("("),
                p("{"),
                Token::Str("a.b".into()),
                p("="),
                Token::Str("x\"y".into()),
                p(","),
                Token::Ident("job".into()),
                p("=~"),
                Token::Str("a|b".into()),
                p("}"),
                p("["),
                Token::Literal("1h".into()),
                p("]"),
                Token::Ident("offset".into()),
                Token::Literal("5m".into()),
                p(")"),
            ])
        );
        // What an unescaped name would leave: an unterminated string, a newline in one.
        assert!(promql_tokens(r#"{a="x"y"}"#).is_err());
        assert!(promql_tokens("{a=\"x\ny\"}").is_err());
        assert!(promql_tokens(r#"{a="x\"}"#).is_err());
    }
}
