//! What `fault-proxy` does to the traffic it forwards, as data and pure functions: the fault
//! modes (parsed from the text its control endpoint takes) and the corruptions of a
//! Prometheus answer.

use std::{fmt, str::FromStr, time::Duration};

use serde_json::Value;

/// A fault the proxy injects until it is told otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Forward everything as it is.
    None,
    /// TCP: hold each chunk this long before forwarding it (both directions); HTTP: answer
    /// this much later.
    Delay(Duration),
    /// TCP: reset every open connection, and every new one as soon as it is accepted.
    Reset,
    /// TCP: forward the first half of the next chunk read (either way), then reset the
    /// connection: a message cut mid-way, on every connection while the fault lasts.
    Cut,
    /// TCP: accept and read, forward nothing until the fault ends (a partition: what was held
    /// is forwarded then, as TCP would retransmit it).
    Blackhole,
    /// HTTP: answer this status without asking the upstream.
    Status(u16),
    /// HTTP: forward the upstream's answer with its body cut in half (its headers say so).
    Truncate,
    /// HTTP: every sample value of a Prometheus answer replaced by this one.
    Sample(Special),
}

/// A value Prometheus writes as a string in its JSON answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// `"NaN"`.
    NaN,
    /// `"+Inf"`.
    PosInf,
    /// `"-Inf"`.
    NegInf,
}

impl Special {
    /// As Prometheus writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Special::NaN => "NaN",
            Special::PosInf => "+Inf",
            Special::NegInf => "-Inf",
        }
    }
}

/// Why a fault's text is not one.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault {0:?}: expected none, delay=DURATION, reset, cut, blackhole, status=CODE (100-599), truncate, nan, +inf or -inf"
)]
pub struct UnknownFault(String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let unknown = || UnknownFault(text.to_owned());
        Ok(match text.split_once('=') {
            Some(("delay", duration)) => {
                Fault::Delay(humantime::parse_duration(duration).map_err(|_| unknown())?)
            }
            Some(("status", code)) => match code.parse::<u16>() {
                Ok(code @ 100..=599) => Fault::Status(code),
                _ => return Err(unknown()),
            },
            Some(_) => return Err(unknown()),
            None => match text {
                "none" => Fault::None,
                "reset" => Fault::Reset,
                "cut" => Fault::Cut,
                "blackhole" => Fault::Blackhole,
                "truncate" => Fault::Truncate,
                "nan" => Fault::Sample(Special::NaN),
                "+inf" | "inf" => Fault::Sample(Special::PosInf),
                "-inf" => Fault::Sample(Special::NegInf),
                _ => return Err(unknown()),
            },
        })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::None => f.write_str("none"),
            Fault::Delay(duration) => write!(f, "delay={}", humantime::format_duration(*duration)),
            Fault::Reset => f.write_str("reset"),
            Fault::Cut => f.write_str("cut"),
            Fault::Blackhole => f.write_str("blackhole"),
            Fault::Status(code) => write!(f, "status={code}"),
            Fault::Truncate => f.write_str("truncate"),
            Fault::Sample(Special::NaN) => f.write_str("nan"),
            Fault::Sample(Special::PosInf) => f.write_str("+inf"),
            Fault::Sample(Special::NegInf) => f.write_str("-inf"),
        }
    }
}

/// The first half of a body: a JSON answer cut mid-way, as a connection dropped mid-answer
/// leaves it.
pub fn truncated(body: &[u8]) -> &[u8] {
    &body[..body.len() / 2]
}

/// A Prometheus query answer with every sample value (`value[1]` of an instant vector,
/// `values[*][1]` of a matrix, the value of a scalar) replaced by `special`; `None` when the
/// body is not such an answer (it is then forwarded as it is), or holds no sample.
pub fn with_samples(body: &[u8], special: Special) -> Option<Vec<u8>> {
    let mut answer: Value = serde_json::from_slice(body).ok()?;
    let data = answer.get_mut("data")?;
    let mut replaced = 0usize;
    let mut replace = |pair: &mut Value| {
        if let Some(slot) = pair.get_mut(1) {
            *slot = Value::String(special.as_str().to_owned());
            replaced += 1;
        }
    };
    match data.get("resultType").and_then(Value::as_str) {
        Some("scalar") => replace(data.get_mut("result")?),
        Some("vector" | "matrix") => {
            for series in data.get_mut("result")?.as_array_mut()? {
                if let Some(pair) = series.get_mut("value") {
                    replace(pair);
                }
                if let Some(pairs) = series.get_mut("values").and_then(Value::as_array_mut) {
                    pairs.iter_mut().for_each(&mut replace);
                }
            }
        }
        _ => return None,
    }
    (replaced > 0).then(|| serde_json::to_vec(&answer).expect("a JSON value serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_parses_from_its_text_and_prints_back_to_it() {
        let cases = [
            ("none", Fault::None),
            ("delay=1s 500ms", Fault::Delay(Duration::from_millis(1500))),
            ("reset", Fault::Reset),
            ("cut", Fault::Cut),
            ("blackhole", Fault::Blackhole),
            ("status=503", Fault::Status(503)),
            ("truncate", Fault::Truncate),
            ("nan", Fault::Sample(Special::NaN)),
            ("+inf", Fault::Sample(Special::PosInf)),
            ("-inf", Fault::Sample(Special::NegInf)),
        ];
        for (text, fault) in cases {
            assert_eq!(text.parse::<Fault>(), Ok(fault), "{text}");
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault), "{text}");
        }
        assert_eq!(" reset\n".parse::<Fault>(), Ok(Fault::Reset));
        assert_eq!("inf".parse::<Fault>(), Ok(Fault::Sample(Special::PosInf)));
    }

    #[test]
    fn a_text_that_is_no_fault_is_refused_with_what_is_expected() {
        for text in [
            "",
            "delay",
            "delay=",
            "delay=soon",
            "status=42",
            "status=600",
            "status=x",
            "slow=1s",
            "NaN ",
            "reset=1",
        ] {
            let error = text.parse::<Fault>().unwrap_err();
            assert!(
                error.to_string().contains("expected none"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn truncation_keeps_the_first_half_so_the_json_no_longer_parses() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        let cut = truncated(body);
        assert_eq!(cut.len(), body.len() / 2);
        assert!(body.starts_with(cut));
        assert!(serde_json::from_slice::<Value>(cut).is_err());
        assert!(truncated(b"").is_empty());
    }

    #[test]
    fn every_sample_of_a_vector_and_a_matrix_becomes_the_special_value() {
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"a"},"value":[1700000000,"1.5"]},
            {"metric":{"__name__":"b"},"value":[1700000000,"2"]}]}}"#;
        let out: Value =
            serde_json::from_slice(&with_samples(vector, Special::NaN).unwrap()).unwrap();
        let result = out["data"]["result"].as_array().unwrap();
        assert_eq!(result.len(), 2);
        for series in result {
            assert_eq!(series["value"][1], "NaN");
            assert_eq!(series["value"][0], 1_700_000_000);
        }
        assert_eq!(out["data"]["result"][1]["metric"]["__name__"], "b");

        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{},"values":[[1,"1"],[2,"2"],[3,"3"]]}]}}"#;
        let out: Value =
            serde_json::from_slice(&with_samples(matrix, Special::NegInf).unwrap()).unwrap();
        let values = out["data"]["result"][0]["values"].as_array().unwrap();
        assert_eq!(values.len(), 3);
        assert!(values.iter().all(|pair| pair[1] == "-Inf"));
        assert_eq!(values[2][0], 3);

        let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[5,"7"]}}"#;
        let out: Value =
            serde_json::from_slice(&with_samples(scalar, Special::PosInf).unwrap()).unwrap();
        assert_eq!(out["data"]["result"][1], "+Inf");
    }

    #[test]
    fn an_answer_without_samples_is_left_alone() {
        for body in [
            &br#"{"status":"success","data":["up","node_load1"]}"#[..],
            br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            br#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#,
            b"not json",
            br#"{"status":"error","error":"bad"}"#,
        ] {
            assert_eq!(
                with_samples(body, Special::NaN),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
