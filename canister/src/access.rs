//! Who may do what. Controllers may do everything; `Prepare` may create
//! batches and chunks, `Commit` may also commit and change assets, and
//! `ManagePermissions` may grant and revoke. The anonymous principal never
//! writes, whatever it was granted.

use candid::Principal;
use ic_stable_structures::Memory;

use crate::error::{AssetError, Result};
use crate::store::{PermissionCode, Permissions};
use crate::types::{Permission, SetPermissions};

/// Who is calling, as the API edge learned it from the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub principal: Principal,
    pub is_controller: bool,
}

impl Caller {
    pub fn controller(principal: Principal) -> Self {
        Self {
            principal,
            is_controller: true,
        }
    }

    pub fn user(principal: Principal) -> Self {
        Self {
            principal,
            is_controller: false,
        }
    }
}

fn permission_code(permission: Permission) -> PermissionCode {
    match permission {
        Permission::Commit => 0,
        Permission::ManagePermissions => 1,
        Permission::Prepare => 2,
    }
}

pub fn has_permission<M: Memory>(
    permissions: &Permissions<M>,
    principal: Principal,
    permission: Permission,
) -> bool {
    permissions.contains_key(&(permission_code(permission), principal))
}

/// Refuses `caller` unless it may act with `needed`.
pub fn require<M: Memory>(
    permissions: &Permissions<M>,
    caller: Caller,
    needed: Permission,
) -> Result<()> {
    if caller.principal == Principal::anonymous() {
        return Err(AssetError::AnonymousCaller);
    }
    let granted = caller.is_controller
        || has_permission(permissions, caller.principal, needed)
        // Committing includes preparing what is committed.
        || (needed == Permission::Prepare
            && has_permission(permissions, caller.principal, Permission::Commit));
    if granted {
        Ok(())
    } else {
        Err(AssetError::NotPermitted {
            caller: caller.principal,
            needs: needed,
        })
    }
}

pub fn require_controller(caller: Caller) -> Result<()> {
    if caller.is_controller && caller.principal != Principal::anonymous() {
        Ok(())
    } else {
        Err(AssetError::NotController {
            caller: caller.principal,
        })
    }
}

pub fn grant<M: Memory>(
    permissions: &mut Permissions<M>,
    principal: Principal,
    permission: Permission,
) -> Result<()> {
    if principal == Principal::anonymous() {
        return Err(AssetError::CannotGrantToAnonymous);
    }
    permissions.insert((permission_code(permission), principal), ());
    Ok(())
}

pub fn revoke<M: Memory>(
    permissions: &mut Permissions<M>,
    principal: Principal,
    permission: Permission,
) {
    permissions.remove(&(permission_code(permission), principal));
}

pub fn list<M: Memory>(permissions: &Permissions<M>, permission: Permission) -> Vec<Principal> {
    let code = permission_code(permission);
    permissions
        .keys_range((code, Principal::from_slice(&[]))..)
        .take_while(|(c, _)| *c == code)
        .map(|(_, principal)| principal)
        .collect()
}

/// Replaces the lists of principals holding each permission.
pub fn set_all<M: Memory>(permissions: &mut Permissions<M>, lists: SetPermissions) -> Result<()> {
    let SetPermissions {
        prepare,
        commit,
        manage_permissions,
    } = lists;
    let wanted = [
        (Permission::Prepare, prepare),
        (Permission::Commit, commit),
        (Permission::ManagePermissions, manage_permissions),
    ];
    if wanted
        .iter()
        .any(|(_, list)| list.contains(&Principal::anonymous()))
    {
        return Err(AssetError::CannotGrantToAnonymous);
    }
    for (permission, principals) in wanted {
        for old in list(permissions, permission) {
            revoke(permissions, old, permission);
        }
        for principal in principals {
            grant(permissions, principal, permission)?;
        }
    }
    Ok(())
}

/// Revokes every permission of everyone.
pub fn revoke_all<M: Memory>(permissions: &mut Permissions<M>) {
    let all: Vec<_> = permissions.keys().collect();
    for key in all {
        permissions.remove(&key);
    }
}
