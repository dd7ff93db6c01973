//! The objectives' stored minutes (`slo_minutes`): `GET /slo` from them agrees with the planted
//! minutes and PromQL as the subqueries did; a restart and a second replica over the same
//! database neither lose nor double-count a minute; the back-fill happens once per objective,
//! and again for a changed definition.

use std::time::Duration;

use bson::{Document, doc};
use futures::TryStreamExt;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{TestApp, refreshing},
    slo::{check_planted_figures, counted, promql, set_with_objectives},
};

/// Minutes back-filled for the test set's objectives: each reads its retention (the window or
/// the 3-day burn window, whichever is longer, and a day) and the current minute: 8 days for
/// the 7-day objective, 29 for the 28-day one.
pub(crate) const BACKFILL_7D: u64 = 8 * 1_440 + 1;
const BACKFILL_28D: u64 = 29 * 1_440 + 1;

pub(crate) async fn backfilled(app: &TestApp) -> u64 {
    app.counter(r#"slo_minutes_fetched_total{kind="backfill"}"#)
        .await
}

async fn caught_up(app: &TestApp) -> u64 {
    app.counter(r#"slo_minutes_fetched_total{kind="catch_up"}"#)
        .await
}

/// Waits until `app` has back-filled the test set's two objectives.
pub(crate) async fn wait_for_backfill(app: &TestApp, minutes: u64) {
    common::testing::wait_until("the back-fill", Duration::from_secs(60), || async {
        backfilled(app).await >= minutes
    })
    .await;
}

/// Waits until `app` has evaluated `n` objectives from the stored minutes.
pub(crate) async fn wait_for_stored_evaluations(app: &TestApp, n: u64) {
    common::testing::wait_until(
        "evaluations from the stored minutes",
        Duration::from_secs(60),
        || async { counted(app, "minutes").await >= n },
    )
    .await;
}

/// The stored minutes of the SLA series (the first of the test set) from the start of the
/// synthetic history to its end: every one is there once, in or out of range as planted.
async fn check_stored_minutes(app: &TestApp) {
    let id = common::SeriesId::of(&app.sla_set()[0].0).to_string();
    let (start, end) = (app.manifest.config.start(), app.end());
    let buckets: Vec<Document> = app
        .database
        .collection::<Document>("slo_minutes")
        .find(doc! { "_id": { "$gt": format!("{id}-"), "$lt": format!("{id}.") }, "day": { "$exists": true } })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let keys: std::collections::BTreeSet<_> = buckets
        .iter()
        .map(|b| b.get_str("key").unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 1, "one definition: {keys:?}");
    let (mut good, mut bad) = (0_u64, 0_u64);
    for bucket in &buckets {
        let day = bucket.get_i64("day").unwrap();
        for (index, code) in bucket.get_document("m").unwrap() {
            let minute = day * 86_400 + index.parse::<i64>().unwrap() * 60;
            assert!(minute >= start, "a minute before the history: {minute}");
            if minute <= end {
                match code.as_i32() {
                    Some(1) => good += 1,
                    Some(0) => bad += 1,
                    other => panic!("minute {minute} holds {other:?}"),
                }
            }
        }
    }
    let planted: u64 = app
        .manifest
        .sla
        .runs
        .iter()
        .map(|r| u64::from(r.samples_in_window(end, end - start)))
        .sum();
    assert_eq!(bad, planted, "out-of-range minutes stored");
    assert_eq!(
        good + bad,
        ((end - start) / 60 + 1) as u64,
        "minutes stored"
    );
}

/// Stores the test set with objectives (a new set) and waits for both back-fills.
async fn define_and_backfill(app: &TestApp) {
    let (status, _) = app.put_slaset(&set_with_objectives(app)).await;
    assert_eq!(status, StatusCode::CREATED);
    wait_for_backfill(app, BACKFILL_7D + BACKFILL_28D).await;
}

#[tokio::test]
async fn figures_from_the_stored_minutes_follow_the_planted_minutes_and_agree_with_promql() {
    let app = refreshing(None).await;
    define_and_backfill(&app).await;
    let (subqueries, stored) = (
        counted(&app, "subqueries").await,
        counted(&app, "minutes").await,
    );
    for at in [app.end(), app.end() - 1_800] {
        check_planted_figures(&app, at).await;
    }
    assert_eq!(counted(&app, "subqueries").await, subqueries, "none asked");
    assert!(counted(&app, "minutes").await >= stored + 4);
    check_stored_minutes(&app).await;
}

#[tokio::test]
async fn a_restart_neither_loses_nor_double_counts_minutes_nor_back_fills_again() {
    let first = refreshing(None).await;
    define_and_backfill(&first).await;
    wait_for_stored_evaluations(&first, 2).await;
    assert_eq!(backfilled(&first).await, BACKFILL_7D + BACKFILL_28D);
    let database = first.database.name().to_owned();
    drop(first);

    let second = refreshing(Some(database)).await;
    wait_for_stored_evaluations(&second, 4).await;
    assert_eq!(backfilled(&second).await, 0, "the stored minutes are used");
    assert!(caught_up(&second).await > 0);
    check_planted_figures(&second, second.end()).await;
    check_stored_minutes(&second).await;
}

#[tokio::test]
async fn two_replicas_writing_the_same_minutes_store_each_once() {
    let one = refreshing(None).await;
    let other = refreshing(Some(one.database.name().to_owned())).await;
    let (status, _) = one.put_slaset(&set_with_objectives(&one)).await;
    assert_eq!(status, StatusCode::CREATED);
    // Either may back-fill first, or both at once: the minutes are the same.
    wait_for_stored_evaluations(&one, 6).await;
    wait_for_stored_evaluations(&other, 6).await;
    check_stored_minutes(&one).await;
    for app in [&one, &other] {
        check_planted_figures(app, app.end()).await;
    }
}

#[tokio::test]
async fn the_back_fill_happens_once_and_again_for_a_changed_definition() {
    let app = refreshing(None).await;
    let mut body = set_with_objectives(&app);
    let (status, _) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::CREATED);
    wait_for_backfill(&app, BACKFILL_7D + BACKFILL_28D).await;
    let (evaluated, read) = (counted(&app, "minutes").await, caught_up(&app).await);
    wait_for_stored_evaluations(&app, evaluated + 10).await;
    assert_eq!(
        backfilled(&app).await,
        BACKFILL_7D + BACKFILL_28D,
        "once each"
    );
    // What the cost does not grow with: after the back-fill a refresh reads each objective's
    // last 6 minutes (5 again, for late samples, and the current one) and any minute since,
    // not its window (at 200 ms, a new minute comes once in many refreshes).
    let (evaluations, minutes) = (
        counted(&app, "minutes").await - evaluated,
        caught_up(&app).await - read,
    );
    // (Slack: a refresh between the two reads of the counters, and a minute or two passing.)
    assert!(
        minutes <= evaluations * 6 + 2 * (6 + 2),
        "{minutes} minutes read in {evaluations} evaluations"
    );

    // A narrower range for the SLA series: another indicator, read from Prometheus anew; the
    // other objective keeps its minutes.
    let spec = app.manifest.sla.clone();
    let max = (spec.range.min + spec.range.max) / 2.0;
    body[0]["range"]["max"] = json!(max);
    let (status, reply) = app.put_slaset(&body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    wait_for_backfill(&app, 2 * BACKFILL_7D + BACKFILL_28D).await;
    let stored = counted(&app, "minutes").await;
    let subqueries = counted(&app, "subqueries").await;
    let at = app.end();
    let item = &app.evaluate("/slo", at).await[0];
    assert_eq!(counted(&app, "subqueries").await, subqueries);
    assert!(counted(&app, "minutes").await > stored);
    let labels = app.sla_set()[0].0.clone();
    let indicator = format!(
        "((synthetic_sla_latency >= bool {:?}) * (synthetic_sla_latency <= bool {max:?}))",
        spec.range.min
    );
    let good = promql(&format!("sum_over_time({indicator}[7d:1m])"), &labels, at).await;
    let measured = promql(&format!("count_over_time({indicator}[7d:1m])"), &labels, at).await;
    assert_eq!(item["good_minutes"], good);
    assert_eq!(item["measured_minutes"], measured);
    assert!(
        good < measured - 100.0,
        "the narrower range is left more often"
    );
    assert_eq!(backfilled(&app).await, 2 * BACKFILL_7D + BACKFILL_28D);
    let coverages = app
        .database
        .collection::<Document>("slo_minutes")
        .count_documents(doc! { "day": { "$exists": false } })
        .await
        .unwrap();
    assert_eq!(
        coverages, 3,
        "two definitions of the SLA series, one of the constant"
    );
}
