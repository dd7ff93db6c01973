//! The stored SLA set as the check reads it: the range SLAs (a series, a range, a `for`: the
//! ones the pipeline forecasts) and sla-manager's ratio SLIs (`{_id, good, total, counter,
//! objective}`: two PromQL expressions and an objective, no series of their own, nothing for
//! the pipeline to store), which are checked for their shape and otherwise left alone.

use bson::{Bson, Document};
use common::store::SlaDocument;

use crate::compare::Tally;

/// Whether a stored document is a ratio SLI: it has `good` and `total` and no `name`.
pub fn is_ratio(document: &Document) -> bool {
    document.contains_key("good")
        && document.contains_key("total")
        && !document.contains_key("name")
}

/// The range SLAs of the stored set; a document that is neither a range SLA nor a well-formed
/// ratio SLI is a mismatch.
pub fn sla_documents(raw: &[Document], tally: &mut Tally) -> Vec<SlaDocument> {
    let mut slas = Vec::new();
    for document in raw {
        let id = document
            .get("_id")
            .map_or_else(|| "(no _id)".to_owned(), ToString::to_string);
        let subject = format!("slaset document {id}");
        if is_ratio(document) {
            let text = |key: &str| matches!(document.get(key), Some(Bson::String(s)) if !s.trim().is_empty());
            let shaped = text("good")
                && text("total")
                && matches!(document.get("objective"), Some(Bson::Document(_)));
            tally.assert(
                shaped,
                &subject,
                "a ratio SLI has good and total expressions and an objective",
                shaped,
                true,
            );
            continue;
        }
        match bson::from_document::<SlaDocument>(document.clone()) {
            Ok(sla) => slas.push(sla),
            Err(error) => {
                tally.assert(
                    false,
                    &subject,
                    "parses as an SLA",
                    error,
                    "an SLA document",
                );
            }
        }
    }
    slas
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    #[test]
    fn ratio_slis_are_not_malformed_slas_and_are_not_checked_as_series() {
        let raw = [
            doc! {"_id": "00000000000000aa", "name": {"__name__": "up"},
            "range": {"min": 0.0, "max": 1.0}, "for": 5, "position": 0},
            doc! {"_id": "00000000000000bb", "good": "sum(ok)", "total": "sum(all)",
            "counter": true, "position": 1, "objective": {"target": 0.99, "window": "28d"}},
        ];
        let mut tally = Tally::default();
        let slas = sla_documents(&raw, &mut tally);
        assert_eq!(slas.len(), 1, "the range SLA only");
        assert_eq!(tally.assertions(), 1);
        assert!(tally.mismatches().is_empty(), "{:?}", tally.mismatches());

        let broken = [
            doc! {"_id": "00000000000000cc", "good": "sum(ok)", "total": 3},
            doc! {"_id": "00000000000000dd", "range": {"min": 0.0, "max": 1.0}},
        ];
        let mut tally = Tally::default();
        assert!(sla_documents(&broken, &mut tally).is_empty());
        assert_eq!(tally.mismatches().len(), 2);
    }
}
