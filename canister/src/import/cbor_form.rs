//! The CBOR form: `serde_cbor::to_writer(StableWriter, StableStateV2)`, as
//! dfx's frontend canister saves it since ic-certified-assets moved to CBOR
//! in 2025. Read as one untyped `Value` and walked by hand: typed serde
//! structs would instantiate serde_cbor's parser once per type and add
//! about 200 KB to the wasm. Fields we do not import are skipped; optional
//! fields may be missing or null.

use std::collections::BTreeMap;

use candid::Principal;
use serde_bytes::ByteBuf;
use serde_cbor::Value;

use super::saved::{SavedAsset, SavedEncoding, SavedState, with_permissions};

type Map = BTreeMap<Value, Value>;

/// Decodes the CBOR state; like DFINITY's `post_upgrade`, it stops after
/// the value and ignores what follows.
pub fn decode_cbor(bytes: &[u8]) -> Result<SavedState, String> {
    let mut deserializer = serde_cbor::Deserializer::from_slice(bytes);
    let value: Value =
        serde::Deserialize::deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    let mut state = into_map(value, "the state")?;
    let authorized = principals(take(&mut state, "authorized"), "authorized")?;
    let permissions = match optional(take(&mut state, "permissions")) {
        None => None,
        Some(value) => {
            let mut p = into_map(value, "permissions")?;
            Some([
                principals(take(&mut p, "commit"), "commit")?,
                principals(take(&mut p, "prepare"), "prepare")?,
                principals(take(&mut p, "manage_permissions"), "manage_permissions")?,
            ])
        }
    };
    let assets = into_map(
        required(take(&mut state, "stable_assets"), "stable_assets")?,
        "stable_assets",
    )?
    .into_iter()
    .map(|(key, asset)| {
        let key = into_text(key, "an asset key")?;
        let asset = decode_asset(asset).map_err(|why| format!("{key}: {why}"))?;
        Ok((key, asset))
    })
    .collect::<Result<_, String>>()?;
    let next_batch_id = optional_u64(take(&mut state, "next_batch_id"), "next_batch_id")?;
    Ok(with_permissions(
        SavedState {
            assets,
            next_batch_id: next_batch_id.unwrap_or(1),
            ..SavedState::default()
        },
        authorized,
        permissions,
    ))
}

fn decode_asset(value: Value) -> Result<SavedAsset, String> {
    let mut asset = into_map(value, "asset")?;
    let encodings = into_map(
        required(take(&mut asset, "encodings"), "encodings")?,
        "encodings",
    )?
    .into_iter()
    .map(|(name, encoding)| {
        let name = into_text(name, "an encoding name")?;
        let encoding = decode_encoding(encoding).map_err(|why| format!("{name}: {why}"))?;
        Ok((name, encoding))
    })
    .collect::<Result<_, String>>()?;
    let headers = match optional(take(&mut asset, "headers")) {
        None => None,
        Some(value) => Some(
            into_map(value, "headers")?
                .into_iter()
                .map(|(k, v)| {
                    Ok((
                        into_text(k, "a header name")?,
                        into_text(v, "a header value")?,
                    ))
                })
                .collect::<Result<_, String>>()?,
        ),
    };
    Ok(SavedAsset {
        content_type: into_text(
            required(take(&mut asset, "content_type"), "content_type")?,
            "content_type",
        )?,
        encodings,
        max_age: optional_u64(take(&mut asset, "max_age"), "max_age")?,
        headers,
        is_aliased: optional_bool(take(&mut asset, "is_aliased"), "is_aliased")?,
        allow_raw_access: optional_bool(take(&mut asset, "allow_raw_access"), "allow_raw_access")?,
    })
}

fn decode_encoding(value: Value) -> Result<SavedEncoding, String> {
    let mut encoding = into_map(value, "encoding")?;
    let Value::Array(chunks) = required(take(&mut encoding, "content_chunks"), "content_chunks")?
    else {
        return Err("content_chunks is not an array".into());
    };
    let content_chunks = chunks
        .into_iter()
        .map(|chunk| match chunk {
            Value::Bytes(bytes) => Ok(ByteBuf::from(bytes)),
            _ => Err("a content chunk is not a byte string".to_string()),
        })
        .collect::<Result<_, String>>()?;
    Ok(SavedEncoding {
        modified: optional_u64(take(&mut encoding, "modified"), "modified")?
            .ok_or("modified is missing")?,
        content_chunks,
        total_length: optional_u64(take(&mut encoding, "total_length"), "total_length")?
            .ok_or("total_length is missing")?,
    })
}

fn take(map: &mut Map, field: &str) -> Option<Value> {
    map.remove(&Value::Text(field.into()))
}

/// A missing field and a null one both mean `None`.
fn optional(value: Option<Value>) -> Option<Value> {
    value.filter(|v| *v != Value::Null)
}

fn required(value: Option<Value>, what: &str) -> Result<Value, String> {
    optional(value).ok_or_else(|| format!("{what} is missing"))
}

fn into_map(value: Value, what: &str) -> Result<Map, String> {
    match value {
        Value::Map(map) => Ok(map),
        _ => Err(format!("{what} is not a map")),
    }
}

fn into_text(value: Value, what: &str) -> Result<String, String> {
    match value {
        Value::Text(text) => Ok(text),
        _ => Err(format!("{what} is not text")),
    }
}

fn optional_u64(value: Option<Value>, what: &str) -> Result<Option<u64>, String> {
    match optional(value) {
        None => Ok(None),
        Some(Value::Integer(n)) => u64::try_from(n)
            .map(Some)
            .map_err(|_| format!("{what} {n} is not a u64")),
        Some(_) => Err(format!("{what} is not an integer")),
    }
}

fn optional_bool(value: Option<Value>, what: &str) -> Result<Option<bool>, String> {
    match optional(value) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(_) => Err(format!("{what} is not a boolean")),
    }
}

/// Principals are serialized as byte strings (serde, not human readable).
fn principals(value: Option<Value>, what: &str) -> Result<Vec<Principal>, String> {
    let Value::Array(items) = required(value, what)? else {
        return Err(format!("{what} is not an array"));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Bytes(bytes) => {
                Principal::try_from_slice(&bytes).map_err(|e| format!("{what}: {e}"))
            }
            _ => Err(format!("{what} holds something other than a principal")),
        })
        .collect()
}
