//! One ratio SLI entry, `{"good", "total", "counter", "objective"}`: its fields and whether
//! another entry already has the same good and total. The expressions themselves are parsed
//! by [`crate::domain::ratio`].

use serde_json::{Map, Value};

use super::ParsedSet;
use crate::domain::ratio::{RATIO_FIELDS, RatioSli, parse_ratio};

pub(super) fn parse_ratio_entry(
    index: usize,
    fields: &Map<String, Value>,
    who: &str,
    parsed: &mut ParsedSet,
) -> Option<RatioSli> {
    let mut problems: Vec<String> = fields
        .keys()
        .filter(|key| !RATIO_FIELDS.contains(&key.as_str()))
        .map(|key| {
            format!("{who}: unknown field {key:?} (a ratio entry has good, total, counter and objective)")
        })
        .collect();
    let sli = parse_ratio(fields)
        .map_err(|list| problems.extend(list.into_iter().map(|p| format!("{who}: {p}"))))
        .ok();
    if let Some(sli) = &sli {
        match parsed
            .ratios
            .iter()
            .find(|(_, other)| other.id() == sli.id())
        {
            Some((first, _)) => problems.push(format!(
                "{who}: the same good and total as metric {}",
                first + 1
            )),
            None => parsed.ratios.push((index, sli.clone())),
        }
    }
    let clean = problems.is_empty();
    parsed.problems.extend(problems);
    sli.filter(|_| clean)
}
