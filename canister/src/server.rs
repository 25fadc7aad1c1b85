//! The asset server: stores in stable memory plus the certification tree
//! derived from them. Every method takes the caller and the time from the
//! outside, so the whole canister runs natively in tests; the `api` module
//! is the only place that asks the system for them.

use std::collections::{BTreeMap, BTreeSet};

use crate::certification::Hash;
use candid::{Int, Nat, Principal};
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;

use crate::access::{self, Caller};
use crate::aliases::{alias_targets, aliases_of};
use crate::certification::{
    Certification, CertifiedTree, Scope, fallback_certifications, normalized, path_certifications,
};
use crate::error::{AssetError, Result};
use crate::http::{self, QueryContext};
use crate::import::{self, Imported, SavedForm};
use crate::lookup::{certified_encoding, fallback, resolve};
use crate::phases::timed;
use crate::store::layout::{self, Contents};
use crate::store::{BatchId, ChunkTable, Records, Stores};
use crate::types::*;
use crate::upload::{self, Applied, Prehashed, to_u64};

pub mod governance;
mod snapshot;

pub use snapshot::{TreeOrigin, derivation_probe};

/// What `AssetServer::reopen` found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reopened {
    Empty,
    /// Our stores, at this layout version before any migration.
    Ours {
        version: u32,
    },
    Imported(Imported),
}

impl std::fmt::Display for Reopened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reopened::Empty => f.write_str("stable memory was empty: starting with no assets"),
            Reopened::Ours { version } if *version == layout::LAYOUT_VERSION => {
                write!(f, "opened the stores (layout version {version})")
            }
            Reopened::Ours { version } => write!(
                f,
                "opened the stores and migrated them from layout version {version} to {}",
                layout::LAYOUT_VERSION
            ),
            Reopened::Imported(i) => write!(
                f,
                "imported DFINITY's asset canister: {} assets, {} encodings, {} bytes \
                 (each re-hashed), {} permission grants; batches in flight were dropped",
                i.assets, i.encodings, i.bytes, i.grants
            ),
        }
    }
}

pub struct AssetServer<M: Memory> {
    stores: Stores<M>,
    tree: CertifiedTree,
    tree_origin: TreeOrigin,
}

impl<M: Memory> AssetServer<M> {
    /// New, empty stores in `memory`, which must be empty (`canister_init`:
    /// the IC hands a new or reinstalled canister empty stable memory).
    pub fn create(memory: M) -> Self
    where
        M: Clone,
    {
        Self::with_stores(Stores::create(memory))
    }

    /// Opens what the previous code left in `memory` (`canister_post_upgrade`):
    /// our stores, migrated to the current layout; or DFINITY's asset
    /// canister's saved state, imported; or nothing. Anything else is
    /// refused before a byte is written, so the upgrade fails and the old
    /// code keeps running on its own memory.
    pub fn reopen(memory: M) -> Result<(Self, Reopened)>
    where
        M: Clone,
    {
        let (stores, reopened) = match layout::inspect(&memory) {
            Contents::Empty => (Stores::create(memory), Reopened::Empty),
            Contents::Ours { version } if version > layout::LAYOUT_VERSION => {
                return Err(AssetError::NewerLayout {
                    found: version,
                    supported: layout::LAYOUT_VERSION,
                });
            }
            Contents::Ours { version } => {
                let stores = timed("open_stores", || Stores::open(memory, version));
                (stores, Reopened::Ours { version })
            }
            Contents::DfinityCandid => {
                let (stores, imported) = import::import(memory, SavedForm::Candid)?;
                (stores, Reopened::Imported(imported))
            }
            Contents::DfinityCbor => {
                let (stores, imported) = import::import(memory, SavedForm::Cbor)?;
                (stores, Reopened::Imported(imported))
            }
            Contents::Unknown(what) => return Err(AssetError::UnreadableStableMemory(what)),
        };
        Ok((Self::with_stores(stores), reopened))
    }

    /// Derives the certification tree from the stored hashes (nothing is
    /// re-hashed).
    /// Uses the tree `pre_upgrade` saved when it may (`snapshot`).
    fn with_stores(stores: Stores<M>) -> Self {
        let mut server = Self {
            stores,
            tree: CertifiedTree::default(),
            tree_origin: TreeOrigin::Built,
        };
        server.tree_origin = server.restore_or_build_tree();
        server
    }

    /// Where the certification tree came from when the server was opened.
    pub fn tree_origin(&self) -> TreeOrigin {
        self.tree_origin
    }

    /// `canister_init`: the installer may do everything, unless the
    /// argument sets the permission lists itself.
    pub fn install(&mut self, installer: Principal, args: Option<AssetCanisterArgs>) -> Result<()> {
        let set_permissions = match args {
            None => None,
            Some(AssetCanisterArgs::Init(init)) => init.set_permissions,
            Some(AssetCanisterArgs::Upgrade(_)) => {
                return Err(AssetError::WrongInstallArgument(
                    "install takes an Init argument, not an Upgrade argument",
                ));
            }
        };
        if installer != Principal::anonymous() {
            for permission in Permission::ALL {
                access::grant(&mut self.stores.permissions, installer, permission)?;
            }
        }
        if let Some(lists) = set_permissions {
            access::set_all(&mut self.stores.permissions, lists)?;
        }
        Ok(())
    }

    /// `canister_post_upgrade`: applies permission lists if given.
    pub fn upgrade(&mut self, args: Option<AssetCanisterArgs>) -> Result<()> {
        match args {
            None => Ok(()),
            Some(AssetCanisterArgs::Upgrade(upgrade)) => match upgrade.set_permissions {
                Some(lists) => access::set_all(&mut self.stores.permissions, lists),
                None => Ok(()),
            },
            Some(AssetCanisterArgs::Init(_)) => Err(AssetError::WrongInstallArgument(
                "upgrade takes an Upgrade argument, not an Init argument",
            )),
        }
    }

    /// The 32 bytes for `certified_data_set`.
    /// The heap mirror of the assets equals stable memory (see
    /// `store::AssetTable`); for tests.
    pub fn assets_mirror_matches_stored(&self) -> bool {
        self.stores.assets.mirror_matches_stored()
    }

    /// The small chunks kept on the heap equal stable memory's (see
    /// `store::ChunkTable`); for tests. Also how many and how many bytes.
    pub fn chunk_copies_match_stored(&self) -> (bool, usize, usize) {
        let (count, bytes) = self.stores.chunks.on_heap();
        (self.stores.chunks.heap_matches_stored(), count, bytes)
    }

    /// The large chunks' pages are each used once or free, none lost
    /// (see `store::pages`); for tests.
    pub fn chunk_pages_check(&self) -> Result<(), String> {
        self.stores
            .chunks
            .paged_store()
            .map_or(Ok(()), |paged| paged.check_pages())
    }

    pub fn certified_root(&self) -> Hash {
        self.tree.root_hash()
    }

    pub fn tree(&self) -> &CertifiedTree {
        &self.tree
    }

    // ---- uploads ----

    pub fn create_batch(&mut self, caller: Caller, now: u64) -> Result<CreateBatchResponse> {
        access::require(&self.stores.permissions, caller, Permission::Prepare)?;
        let batch_id = upload::create_batch(&mut self.stores, now)?;
        Ok(CreateBatchResponse {
            batch_id: Nat::from(batch_id),
        })
    }

    pub fn create_chunks(
        &mut self,
        caller: Caller,
        now: u64,
        args: CreateChunksArguments,
    ) -> Result<CreateChunksResponse> {
        access::require(&self.stores.permissions, caller, Permission::Prepare)?;
        let batch_id = to_u64(&args.batch_id)?;
        let contents = args.content.into_iter().map(ByteBuf::into_vec).collect();
        let ids = upload::create_chunks(&mut self.stores, batch_id, contents, now)?;
        Ok(CreateChunksResponse {
            chunk_ids: ids.into_iter().map(Nat::from).collect(),
        })
    }

    pub fn create_chunk(
        &mut self,
        caller: Caller,
        now: u64,
        args: CreateChunkArguments,
    ) -> Result<CreateChunkResponse> {
        let response = self.create_chunks(
            caller,
            now,
            CreateChunksArguments {
                batch_id: args.batch_id,
                content: vec![args.content],
            },
        )?;
        let chunk_id = response
            .chunk_ids
            .into_iter()
            .next()
            .expect("one chunk in, one id out");
        Ok(CreateChunkResponse { chunk_id })
    }

    pub fn delete_batch(&mut self, caller: Caller, args: DeleteBatchArguments) -> Result<()> {
        access::require(&self.stores.permissions, caller, Permission::Prepare)?;
        upload::delete_batch(&mut self.stores, to_u64(&args.batch_id)?)
    }

    /// Applies every operation or none; the batch is gone afterwards.
    pub fn commit_batch(
        &mut self,
        caller: Caller,
        now: u64,
        args: CommitBatchArguments,
    ) -> Result<()> {
        self.commit_batch_prehashed(caller, now, args, Prehashed::default())
    }

    /// `commit_batch` with some bodies' chunks hashed beforehand (see
    /// `upload::BodyHashing`).
    pub fn commit_batch_prehashed(
        &mut self,
        caller: Caller,
        now: u64,
        args: CommitBatchArguments,
        prehashed: Prehashed,
    ) -> Result<()> {
        self.require_commit(caller)?;
        let batch_id = to_u64(&args.batch_id)?;
        upload::require_not_proposed(&self.stores, batch_id)?;
        upload::touch_batch(&mut self.stores, batch_id, now)?;
        upload::check_commit_limits(&self.stores, &args.operations)?;
        self.commit_prehashed(Some(batch_id), args.operations, now, prehashed)?;
        upload::delete_batch(&mut self.stores, batch_id)
    }

    /// Whether `caller` may commit (checked before hashing what it asks to
    /// commit, and again by the commit).
    pub fn require_commit(&self, caller: Caller) -> Result<()> {
        access::require(&self.stores.permissions, caller, Permission::Commit)
    }

    /// The stored chunks, for hashing ahead of a commit.
    pub fn chunks(&self) -> &ChunkTable<M> {
        &self.stores.chunks
    }

    /// One commit operation outside any batch (`create_asset`, `clear`, ...).
    pub fn apply_operation(
        &mut self,
        caller: Caller,
        now: u64,
        operation: BatchOperationKind,
    ) -> Result<()> {
        access::require(&self.stores.permissions, caller, Permission::Commit)?;
        self.commit(None, vec![operation], now)
    }

    /// Creates or replaces one encoding of an asset in a single call.
    pub fn store(&mut self, caller: Caller, now: u64, args: StoreArguments) -> Result<()> {
        access::require(&self.stores.permissions, caller, Permission::Commit)?;
        let mut operations = Vec::new();
        match self.stores.assets.get(&args.key) {
            Some(record) if record.content_type == args.content_type => {}
            existing => {
                // A changed content type replaces the asset, keeping its properties.
                let properties = existing.as_ref();
                if existing.is_some() {
                    operations.push(BatchOperationKind::DeleteAsset(DeleteAssetArguments {
                        key: args.key.clone(),
                    }));
                }
                operations.push(BatchOperationKind::CreateAsset(CreateAssetArguments {
                    key: args.key.clone(),
                    content_type: args.content_type,
                    max_age: properties.and_then(|r| r.max_age),
                    headers: properties.and_then(|r| r.headers.clone()),
                    enable_aliasing: properties.and_then(|r| r.is_aliased),
                    allow_raw_access: properties.and_then(|r| r.allow_raw_access),
                }));
            }
        }
        operations.push(BatchOperationKind::SetAssetContent(
            SetAssetContentArguments {
                key: args.key,
                content_encoding: args.content_encoding,
                chunk_ids: Vec::new(),
                last_chunk: Some(args.content),
                sha256: args.sha256,
            },
        ));
        self.commit(None, operations, now)
    }

    fn commit(
        &mut self,
        batch: Option<BatchId>,
        operations: Vec<BatchOperationKind>,
        now: u64,
    ) -> Result<()> {
        self.commit_prehashed(batch, operations, now, Prehashed::default())
    }

    fn commit_prehashed(
        &mut self,
        batch: Option<BatchId>,
        operations: Vec<BatchOperationKind>,
        now: u64,
        prehashed: Prehashed,
    ) -> Result<()> {
        let steps = timed("plan", || {
            upload::plan_prehashed(&self.stores, batch, operations, prehashed)
        })?;
        match timed("apply", || {
            upload::apply(&mut self.stores, batch, steps, now)
        }) {
            Applied::Everything => self.rebuild_tree(),
            Applied::Keys(keys) => self.recertify(&keys),
        }
        Ok(())
    }

    // ---- certification ----

    /// Recomputes what is certified at every path that `keys` may answer,
    /// and the fallback (which depends on `/404.html` and `/index.html`).
    fn recertify(&mut self, keys: &BTreeSet<String>) {
        for key in keys {
            for path in std::iter::once(key.clone()).chain(aliases_of(key)) {
                let found = timed("resolve", || resolve(self.stores.assets.records(), &path));
                let hash = found
                    .as_ref()
                    .and_then(|(_, record)| certified_encoding(record).map(|(_, e)| e.sha256));
                // Both branches certify exactly the paths that resolve, so
                // a path new to v1 has nothing in v2 to replace either.
                let existed = self.tree.v1.get(&path).is_some();
                timed("v1_tree", || self.tree.v1.set(&path, hash));
                if normalized(&path) != path {
                    continue; // v2 answers such a path as its normal form
                }
                let certifications = timed("v2_response_hashes", || {
                    found
                        .map(|(_, record)| path_certifications(&record))
                        .unwrap_or_default()
                });
                let scope = Scope::Exact(path);
                timed("v2_tree", || {
                    if existed {
                        self.tree.v2.replace(&scope, certifications);
                    } else {
                        self.tree.v2.add(&scope, certifications);
                    }
                });
            }
        }
        timed("fallback", || self.recertify_fallback());
    }

    fn recertify_fallback(&mut self) {
        certify_fallback(&mut self.tree, self.stores.assets.records());
    }

    /// Builds the tree from the stored records (`derive_tree`).
    fn rebuild_tree(&mut self) {
        self.tree = derive_tree(self.stores.assets.records());
    }

    // ---- reads ----

    pub fn http_request(&self, context: &QueryContext<'_>, request: &HttpRequest) -> HttpResponse {
        http::http_request(&self.stores, &self.tree, context, request)
    }

    pub fn http_request_streaming_callback(
        &self,
        token: &StreamingCallbackToken,
    ) -> Result<Option<StreamingCallbackHttpResponse>> {
        http::streaming_callback(&self.stores, token)
    }

    pub fn get(&self, args: GetArguments) -> Result<EncodedAsset> {
        let record = self
            .stores
            .assets
            .get(&args.key)
            .ok_or_else(|| AssetError::AssetNotFound(args.key.clone()))?;
        let (name, encoding) = args
            .accept_encodings
            .iter()
            .find_map(|name| record.encodings.get_key_value(name))
            .ok_or_else(|| AssetError::NoAcceptableEncoding(args.key.clone()))?;
        Ok(EncodedAsset {
            content: ByteBuf::from(http::read_chunk(&self.stores, encoding, 0)),
            content_type: record.content_type.clone(),
            content_encoding: name.clone(),
            sha256: Some(ByteBuf::from(encoding.sha256.to_vec())),
            total_length: Nat::from(encoding.length),
        })
    }

    pub fn get_chunk(&self, args: GetChunkArguments) -> Result<GetChunkResponse> {
        let record = self
            .stores
            .assets
            .get(&args.key)
            .ok_or_else(|| AssetError::AssetNotFound(args.key.clone()))?;
        let encoding = record
            .encodings
            .get(&args.content_encoding)
            .ok_or_else(|| AssetError::EncodingNotFound {
                key: args.key.clone(),
                encoding: args.content_encoding.clone(),
            })?;
        if args
            .sha256
            .as_ref()
            .is_some_and(|sha| sha.as_slice() != encoding.sha256)
        {
            return Err(AssetError::StaleSha256 { key: args.key });
        }
        let index = http::chunk_index(&args.index, encoding).ok_or_else(|| {
            AssetError::ChunkIndexOutOfRange {
                key: args.key.clone(),
                index: args.index.clone(),
            }
        })?;
        Ok(GetChunkResponse {
            content: ByteBuf::from(http::read_chunk(&self.stores, encoding, index)),
        })
    }

    pub fn list(&self) -> Vec<AssetDetails> {
        self.stores
            .assets
            .iter()
            .map(|(key, record)| {
                let record = record.clone();
                AssetDetails {
                    key: key.clone(),
                    content_type: record.content_type,
                    encodings: record
                        .encodings
                        .into_iter()
                        .map(|(name, e)| AssetEncodingDetails {
                            content_encoding: name,
                            sha256: Some(ByteBuf::from(e.sha256.to_vec())),
                            length: Nat::from(e.length),
                            modified: Int::from(e.modified),
                        })
                        .collect(),
                }
            })
            .collect()
    }

    pub fn get_asset_properties(&self, key: &str) -> Result<AssetProperties> {
        let record = self
            .stores
            .assets
            .get(&key.to_string())
            .ok_or_else(|| AssetError::AssetNotFound(key.into()))?;
        Ok(AssetProperties {
            max_age: record.max_age,
            headers: record.headers,
            allow_raw_access: record.allow_raw_access,
            is_aliased: record.is_aliased,
        })
    }

    pub fn certified_tree(&self, certificate: Vec<u8>) -> CertifiedTreeResponse {
        CertifiedTreeResponse {
            certificate: ByteBuf::from(certificate),
            tree: ByteBuf::from(self.tree.full_tree()),
        }
    }

    /// How many chunks are stored, committed or in flight (for tests and
    /// for seeing that nothing leaks).
    pub fn stored_chunk_count(&self) -> u64 {
        self.stores.chunks.len()
    }

    // ---- permissions ----

    pub fn grant_permission(&mut self, caller: Caller, args: GrantPermission) -> Result<()> {
        access::require(
            &self.stores.permissions,
            caller,
            Permission::ManagePermissions,
        )?;
        access::grant(
            &mut self.stores.permissions,
            args.to_principal,
            args.permission,
        )
    }

    /// Managers may revoke anyone's permission; anyone may give up their own.
    pub fn revoke_permission(&mut self, caller: Caller, args: RevokePermission) -> Result<()> {
        if caller.principal != args.of_principal || caller.principal == Principal::anonymous() {
            access::require(
                &self.stores.permissions,
                caller,
                Permission::ManagePermissions,
            )?;
        }
        access::revoke(
            &mut self.stores.permissions,
            args.of_principal,
            args.permission,
        );
        Ok(())
    }

    pub fn list_permitted(&self, permission: Permission) -> Vec<Principal> {
        access::list(&self.stores.permissions, permission)
    }

    /// Only controllers may take ownership: every permission is revoked and
    /// the caller alone keeps Commit (and, as a controller, everything).
    pub fn take_ownership(&mut self, caller: Caller) -> Result<()> {
        access::require_controller(caller)?;
        access::revoke_all(&mut self.stores.permissions);
        access::grant(
            &mut self.stores.permissions,
            caller.principal,
            Permission::Commit,
        )
    }
}

/// The tree `records` certify, built in one pass over them, reading each
/// once: the same answers as `resolve`, without a lookup per path. Not
/// generic over the memory, so that `snapshot`'s probe shares this code.
pub(crate) fn derive_tree(all: &Records) -> CertifiedTree {
    let mut tree = CertifiedTree::default();
    // For each alias path, the best asset claiming it: (rank among the
    // path's alias targets, that asset's key).
    let mut aliases: BTreeMap<String, (usize, String)> = BTreeMap::new();
    // What an aliased asset certifies, for its aliases.
    let mut claimed: BTreeMap<String, (Hash, Vec<Certification>)> = BTreeMap::new();
    // v1's paths and v2's exact entries, added in the trees' order once
    // all are known (each insert then lands at the end of its level).
    let mut certified: BTreeMap<String, Hash> = BTreeMap::new();
    let mut exact: Vec<(String, Vec<Certification>)> = Vec::new();
    let mut records = all.iter();
    while let Some(entry) = timed("read_records", || records.next()) {
        let (key, record) = timed("read_records", || (entry.0.clone(), entry.1.clone()));
        let Some((_, encoding)) = certified_encoding(&record) else {
            continue; // no body yet: serves nothing
        };
        let hash = encoding.sha256;
        let certifications = timed("v2_response_hashes", || path_certifications(&record));
        certified.insert(key.clone(), hash);
        if normalized(&key) == key {
            exact.push((key.clone(), certifications.clone()));
        }
        if !record.aliased() {
            continue;
        }
        for alias in aliases_of(&key) {
            let rank = alias_targets(&alias)
                .iter()
                .position(|target| *target == key)
                .unwrap_or(usize::MAX);
            let best = aliases.entry(alias).or_insert((rank, key.clone()));
            if rank < best.0 {
                *best = (rank, key.clone());
            }
        }
        claimed.insert(key, (hash, certifications));
    }
    drop(records);
    // An asset stored under a path wins over any alias of it.
    for (alias, (_, key)) in aliases {
        if !certified.contains_key(&alias) {
            let (hash, certifications) = &claimed[&key];
            certified.insert(alias.clone(), *hash);
            if normalized(&alias) == alias {
                exact.push((alias, certifications.clone()));
            }
        }
    }
    // By segments, the order of the tree's levels (not of the strings:
    // `/a-b` sorts before `/a/b`, but segment `a` before `a-b`).
    exact.sort_by(|(a, _), (b, _)| a.split('/').cmp(b.split('/')));
    timed("v1_tree", || {
        for (path, hash) in certified {
            tree.v1.set(&path, Some(hash));
        }
    });
    timed("v2_tree", || {
        for (path, certifications) in exact {
            tree.v2.add(&Scope::Exact(path), certifications);
        }
    });
    timed("fallback", || certify_fallback(&mut tree, all));
    tree
}

fn certify_fallback(tree: &mut CertifiedTree, records: &Records) {
    let fallback = fallback(records);
    tree.v2
        .replace(&Scope::Fallback, fallback_certifications(&fallback));
}
