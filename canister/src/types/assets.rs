//! Upload, commit and read types of the asset canister interface.

use candid::{CandidType, Deserialize, Int, Nat};
use serde_bytes::ByteBuf;

use super::{BatchId, ChunkId, HeaderField, Key};

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct CreateAssetArguments {
    pub key: Key,
    pub content_type: String,
    pub max_age: Option<u64>,
    pub headers: Option<Vec<HeaderField>>,
    pub enable_aliasing: Option<bool>,
    pub allow_raw_access: Option<bool>,
}

impl CreateAssetArguments {
    /// An asset at `key` of `content_type`, with no properties set (the
    /// canister's defaults apply).
    pub fn new(key: &str, content_type: &str) -> Self {
        Self {
            key: key.into(),
            content_type: content_type.into(),
            max_age: None,
            headers: None,
            enable_aliasing: None,
            allow_raw_access: None,
        }
    }
}

/// Add or change content for an asset, by content encoding.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct SetAssetContentArguments {
    pub key: Key,
    pub content_encoding: String,
    pub chunk_ids: Vec<ChunkId>,
    pub last_chunk: Option<ByteBuf>,
    pub sha256: Option<ByteBuf>,
}

/// Remove content for an asset, by content encoding.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct UnsetAssetContentArguments {
    pub key: Key,
    pub content_encoding: String,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct DeleteAssetArguments {
    pub key: Key,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ClearArguments {}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct SetAssetPropertiesArguments {
    pub key: Key,
    pub max_age: Option<Option<u64>>,
    pub headers: Option<Option<Vec<HeaderField>>>,
    pub allow_raw_access: Option<Option<bool>>,
    pub is_aliased: Option<Option<bool>>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub enum BatchOperationKind {
    CreateAsset(CreateAssetArguments),
    SetAssetContent(SetAssetContentArguments),
    SetAssetProperties(SetAssetPropertiesArguments),
    UnsetAssetContent(UnsetAssetContentArguments),
    DeleteAsset(DeleteAssetArguments),
    Clear(ClearArguments),
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct CommitBatchArguments {
    pub batch_id: BatchId,
    pub operations: Vec<BatchOperationKind>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct DeleteBatchArguments {
    pub batch_id: BatchId,
}

#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct CreateBatchArguments {}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CreateBatchResponse {
    pub batch_id: BatchId,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct CreateChunkArguments {
    pub batch_id: BatchId,
    pub content: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CreateChunkResponse {
    pub chunk_id: ChunkId,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct CreateChunksArguments {
    pub batch_id: BatchId,
    pub content: Vec<ByteBuf>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CreateChunksResponse {
    pub chunk_ids: Vec<ChunkId>,
}

/// Single call to create an asset with content for a single content encoding
/// that fits within the message ingress limit.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct StoreArguments {
    pub key: Key,
    pub content_type: String,
    pub content_encoding: String,
    pub content: ByteBuf,
    pub sha256: Option<ByteBuf>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct GetArguments {
    pub key: Key,
    pub accept_encodings: Vec<String>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct EncodedAsset {
    /// The whole content, or only chunk 0 when there are more.
    pub content: ByteBuf,
    pub content_type: String,
    pub content_encoding: String,
    pub sha256: Option<ByteBuf>,
    /// Every chunk but the last has the size of `content`.
    pub total_length: Nat,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct GetChunkArguments {
    pub key: Key,
    pub content_encoding: String,
    pub index: Nat,
    pub sha256: Option<ByteBuf>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct GetChunkResponse {
    pub content: ByteBuf,
}

/// `list`'s argument. `ic-asset` 0.26+ pages through the listing with
/// `start`; older clients send `record {}`, which decodes to the whole
/// listing.
#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct ListArguments {
    pub start: Option<Nat>,
    pub length: Option<Nat>,
}

impl ListArguments {
    /// The part of `all` these arguments select: from `start` (0 when
    /// absent), at most `length` entries (all when absent).
    pub fn page<T>(&self, all: Vec<T>) -> Vec<T> {
        let start = self
            .start
            .as_ref()
            .map_or(0, |n| usize::try_from(&n.0).unwrap_or(usize::MAX));
        let length = self
            .length
            .as_ref()
            .map_or(usize::MAX, |n| usize::try_from(&n.0).unwrap_or(usize::MAX));
        all.into_iter().skip(start).take(length).collect()
    }
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct AssetEncodingDetails {
    pub content_encoding: String,
    pub sha256: Option<ByteBuf>,
    pub length: Nat,
    pub modified: Int,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct AssetDetails {
    pub key: Key,
    pub content_type: String,
    pub encodings: Vec<AssetEncodingDetails>,
}

#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct CertifiedTreeArguments {}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CertifiedTreeResponse {
    pub certificate: ByteBuf,
    pub tree: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct AssetProperties {
    pub max_age: Option<u64>,
    pub headers: Option<Vec<HeaderField>>,
    pub allow_raw_access: Option<bool>,
    pub is_aliased: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pages_as_ic_asset_reads_them_and_whole_without_arguments() {
        let all: Vec<u32> = (0..10).collect();
        assert_eq!(ListArguments::default().page(all.clone()), all);
        let page = |start: u32, length: Option<u32>| ListArguments {
            start: Some(Nat::from(start)),
            length: length.map(Nat::from),
        };
        assert_eq!(page(4, Some(3)).page(all.clone()), vec![4, 5, 6]);
        assert_eq!(page(8, None).page(all.clone()), vec![8, 9]);
        assert_eq!(page(10, None).page(all.clone()), Vec::<u32>::new());
        assert_eq!(page(99, Some(5)).page(all), Vec::<u32>::new());
    }
}
