//! `sla-manager rules`: the generated rules pass `promtool check rules`, their generated unit
//! tests pass `promtool test rules` (each alert fires on a burn and stays quiet on a healthy
//! series), and a unit test that expects the opposite fails.

use std::{path::Path, process::Command};

use serde_json::{Value, json};

/// A set of two SLAs with objectives (one with a negative range) and one without.
fn set() -> Value {
    json!([
        {"name": {"__name__": "latency_seconds", "job": "api"}, "range": {"min": 0, "max": 0.5}, "for": 5,
         "objective": {"target": 0.995, "window": "28d"}},
        {"name": {"__name__": "temperature", "room": "a"}, "range": {"min": -20, "max": -5}, "for": 5,
         "objective": {"target": 0.9, "window": "7d"}},
        {"name": {"__name__": "up", "job": "api"}, "range": {"min": 1, "max": 1}, "for": 1}
    ])
}

fn promtool(args: &[&str], dir: &Path) -> (bool, String) {
    let bin = std::env::var("PROMTOOL_BIN").unwrap_or_else(|_| "promtool".to_owned());
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs (PROMTOOL_BIN)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Writes [`set`] to `set.json` and generates `rules.yml` (and, for `prometheus`, `tests.yml`)
/// from it in `dir`; the command must succeed.
fn generate(dir: &Path, format: &str) {
    std::fs::write(dir.join("set.json"), set().to_string()).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sla-manager"));
    command.current_dir(dir).args([
        "rules",
        "--format",
        format,
        "--input",
        "set.json",
        "--output",
        "rules.yml",
    ]);
    if format == "prometheus" {
        command.args(["--tests", "tests.yml"]);
    }
    let out = command.output().expect("sla-manager runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A generated file (JSON is YAML, and what the generator writes).
fn read_json(dir: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
}

#[test]
fn generated_rules_check_and_their_alerts_fire_on_a_burn_only() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "prometheus");

    let rules = read_json(dir.path(), "rules.yml");
    let groups = rules["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "one group per SLA with an objective");
    // 1 indicator + 7 error ratios + 4 alerts.
    assert_eq!(groups[0]["rules"].as_array().unwrap().len(), 12);

    let (ok, text) = promtool(&["check", "rules", "rules.yml"], dir.path());
    assert!(ok && text.contains("SUCCESS: 24 rules found"), "{text}");
    let (ok, text) = promtool(&["test", "rules", "tests.yml"], dir.path());
    assert!(ok, "{text}");

    // At a 90% target a full burn is 10x: the 14.4x page cannot fire, and is expected quiet.
    let tests = read_json(dir.path(), "tests.yml");
    let burn_at_90 = &tests["tests"][2]["alert_rule_test"];
    assert_eq!(burn_at_90[0]["alertname"], "SloBurnRate14_4x");
    assert_eq!(burn_at_90[0]["exp_alerts"], json!([]));
    assert_eq!(burn_at_90[2]["alertname"], "SloBurnRate6x");
    assert_eq!(burn_at_90[2]["exp_alerts"].as_array().unwrap().len(), 1);

    // The tests can fail: expecting silence during the burn, or alerts on the healthy series.
    let count = tests["tests"].as_array().unwrap().len();
    assert_eq!(count, 4, "a burn and a healthy case per objective");
    for (case, flip) in [(0, "burn"), (1, "healthy")] {
        let mut wrong = tests.clone();
        let cases = wrong["tests"][case]["alert_rule_test"]
            .as_array_mut()
            .unwrap();
        assert_eq!(cases.len(), 8, "4 alerts at 2 times");
        let firing = tests["tests"][0]["alert_rule_test"][0]["exp_alerts"].clone();
        for c in cases {
            c["exp_alerts"] = if flip == "burn" {
                json!([])
            } else {
                firing.clone()
            };
        }
        std::fs::write(dir.path().join("wrong.yml"), wrong.to_string()).unwrap();
        let (ok, text) = promtool(&["test", "rules", "wrong.yml"], dir.path());
        assert!(!ok, "the flipped {flip} case must fail: {text}");
    }
}

#[test]
fn a_prometheus_rule_resource_wraps_the_same_groups() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "prometheusrule");
    let resource = read_json(dir.path(), "rules.yml");
    assert_eq!(resource["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(resource["kind"], "PrometheusRule");
    assert_eq!(resource["spec"]["groups"].as_array().unwrap().len(), 2);
    // The spec is itself a valid rule file.
    std::fs::write(dir.path().join("spec.yml"), resource["spec"].to_string()).unwrap();
    let (ok, text) = promtool(&["check", "rules", "spec.yml"], dir.path());
    assert!(ok, "{text}");
}

#[test]
fn an_invalid_set_names_every_problem_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = set();
    body[0]["objective"]["target"] = json!(2);
    body[1]["range"]["min"] = json!(0);
    std::fs::write(dir.path().join("set.json"), body.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sla-manager"))
        .current_dir(dir.path())
        .args(["rules", "--input", "set.json", "--output", "rules.yml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("objective.target must be a number between 0 and 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("range.min (0) is greater than range.max (-5)"),
        "{stderr}"
    );
    assert!(!dir.path().join("rules.yml").exists());
}

/// A slow burn, one bad minute in a hundred at a 99.5% target (2x), fires the 1x ticket only:
/// the thresholds, not just the windows, decide.
#[test]
fn a_slow_burn_opens_the_1x_ticket_only() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "prometheus");
    let tests = read_json(dir.path(), "tests.yml");
    // The first objective (latency_seconds, range 0 to 0.5, 99.5%): its burn case.
    let mut case = tests["tests"][0].clone();
    // Minutes 50 and 150 of 0..=180 are out of range: at 3h, 2 of 181 in 6h and 3d (2.2x),
    // 1 of 121 in 2h (1.7x), 1 of 61 in 1h (3.3x).
    let values: Vec<String> = (0..=180)
        .map(|minute| if minute % 100 == 50 { "2" } else { "0.25" }.to_owned())
        .collect();
    case["input_series"][0]["values"] = json!(values.join(" "));
    let alerts: Vec<Value> = case["alert_rule_test"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["eval_time"] == "3h")
        .map(|a| {
            let mut a = a.clone();
            if a["alertname"] != "SloBurnRate1x" {
                a["exp_alerts"] = json!([]);
            }
            a
        })
        .collect();
    assert_eq!(alerts.len(), 4);
    assert_eq!(alerts[3]["exp_alerts"].as_array().unwrap().len(), 1);
    case["alert_rule_test"] = json!(alerts);
    let mut file = tests.clone();
    file["tests"] = json!([case.clone()]);
    std::fs::write(dir.path().join("slow.yml"), file.to_string()).unwrap();
    let (ok, text) = promtool(&["test", "rules", "slow.yml"], dir.path());
    assert!(ok, "{text}");
    // And it is the burn that opens it: expecting the ticket quiet fails.
    case["alert_rule_test"][3]["exp_alerts"] = json!([]);
    file["tests"] = json!([case]);
    std::fs::write(dir.path().join("slow.yml"), file.to_string()).unwrap();
    let (ok, _) = promtool(&["test", "rules", "slow.yml"], dir.path());
    assert!(!ok, "the 1x ticket fires on a 2x burn");
}
