//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3): the encodings a client
//! accepts, most preferred first; `q=0` means refused.

/// Accepted encodings from the header values, by descending quality; the
/// order of equal qualities is kept. `identity` is always acceptable.
pub fn accepted_encodings(values: &[&str]) -> Vec<String> {
    let mut weighted = qualities(values);
    // A stable sort keeps the order of equal qualities.
    weighted.retain(|(_, quality)| *quality > 0);
    weighted.sort_by_key(|(_, quality)| std::cmp::Reverse(*quality));
    weighted.into_iter().map(|(name, _)| name).collect()
}

/// Every named encoding with its quality in thousandths (0 = refused),
/// names in lower case, in header order.
pub fn qualities(values: &[&str]) -> Vec<(String, u32)> {
    let mut weighted: Vec<(String, u32)> = Vec::new();
    for item in values.iter().flat_map(|v| v.split(',')) {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(parse_quality))
            .unwrap_or(1000);
        weighted.push((name, quality));
    }
    weighted
}

/// `0.5` -> 500; anything unreadable counts as refused.
fn parse_quality(text: &str) -> u32 {
    text.trim()
        .parse::<f32>()
        .map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u32)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualities_order_the_encodings() {
        assert_eq!(
            accepted_encodings(&["br;q=0.5, gzip, deflate;q=0.8"]),
            vec!["gzip", "deflate", "br"]
        );
    }

    #[test]
    fn zero_quality_is_a_refusal() {
        assert_eq!(accepted_encodings(&["gzip;q=0, br"]), vec!["br"]);
    }

    #[test]
    fn several_header_values_are_joined() {
        assert_eq!(accepted_encodings(&["gzip", "BR"]), vec!["gzip", "br"]);
    }
}
