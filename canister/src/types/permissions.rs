//! Permissions and the install/upgrade argument.

use candid::{CandidType, Deserialize, Principal};

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    Commit,
    ManagePermissions,
    Prepare,
}

impl Permission {
    pub const ALL: [Permission; 3] = [
        Permission::Commit,
        Permission::ManagePermissions,
        Permission::Prepare,
    ];
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Permission::Commit => "Commit",
            Permission::ManagePermissions => "ManagePermissions",
            Permission::Prepare => "Prepare",
        })
    }
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct GrantPermission {
    pub to_principal: Principal,
    pub permission: Permission,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct RevokePermission {
    pub of_principal: Principal,
    pub permission: Permission,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct ListPermitted {
    pub permission: Permission,
}

/// Sets the list of principals granted each permission.
#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct SetPermissions {
    pub prepare: Vec<Principal>,
    pub commit: Vec<Principal>,
    pub manage_permissions: Vec<Principal>,
}

#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct InitArgs {
    pub set_permissions: Option<SetPermissions>,
}

#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct UpgradeArgs {
    pub set_permissions: Option<SetPermissions>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub enum AssetCanisterArgs {
    Init(InitArgs),
    Upgrade(UpgradeArgs),
}
