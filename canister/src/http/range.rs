//! The first byte a `Range` request asks for (RFC 9110 §14.1.2). v2 answers
//! with the certified chunk holding that byte, so only the start matters;
//! a client such as a browser or the gateway reads on from there.

/// What a `Range` header value asks of a body of `total` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Ask {
    /// No usable range: answer as if none was sent.
    Whole,
    /// The bytes from this offset on.
    From(u64),
    /// A range starting past the end: `416`.
    Unsatisfiable,
}

pub fn parse(value: &str, total: u64) -> Ask {
    let Some(ranges) = value.trim().strip_prefix("bytes=") else {
        return Ask::Whole;
    };
    // Of several ranges, the first decides where the answer starts.
    let first = ranges.split(',').next().unwrap_or_default().trim();
    let Some((start, end)) = first.split_once('-') else {
        return Ask::Whole;
    };
    let (start, end) = (start.trim(), end.trim());
    let offset = if start.is_empty() {
        // `bytes=-N`: the last N bytes.
        match end.parse::<u64>() {
            Ok(0) => return Ask::Unsatisfiable,
            Ok(suffix) => total.saturating_sub(suffix),
            Err(_) => return Ask::Whole,
        }
    } else {
        match (start.parse::<u64>(), end) {
            (Ok(start), "") => start,
            (Ok(start), end) => match end.parse::<u64>() {
                Ok(end) if end >= start => start,
                _ => return Ask::Whole,
            },
            (Err(_), _) => return Ask::Whole,
        }
    };
    if offset >= total {
        Ask::Unsatisfiable
    } else {
        Ask::From(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_and_closed_ranges_start_where_they_say() {
        assert_eq!(parse("bytes=0-", 10), Ask::From(0));
        assert_eq!(parse("bytes=4-7", 10), Ask::From(4));
        assert_eq!(parse(" bytes=9- ", 10), Ask::From(9));
        assert_eq!(parse("bytes=2-3, 6-7", 10), Ask::From(2));
    }

    #[test]
    fn suffix_ranges_count_from_the_end() {
        assert_eq!(parse("bytes=-3", 10), Ask::From(7));
        assert_eq!(parse("bytes=-30", 10), Ask::From(0));
        assert_eq!(parse("bytes=-0", 10), Ask::Unsatisfiable);
    }

    #[test]
    fn ranges_past_the_end_are_unsatisfiable() {
        assert_eq!(parse("bytes=10-", 10), Ask::Unsatisfiable);
        assert_eq!(parse("bytes=0-", 0), Ask::Unsatisfiable);
    }

    #[test]
    fn unreadable_ranges_are_ignored() {
        for value in ["items=0-1", "bytes=a-", "bytes=5-2", "bytes=", "bytes=3"] {
            assert_eq!(parse(value, 10), Ask::Whole, "{value}");
        }
    }
}
