//! Granting, revoking and listing permissions.

use candid::Principal;

use super::{with_server, write};
use crate::types::*;

#[ic_cdk::update]
fn authorize(principal: Principal) {
    write(|server, caller, _| {
        server.grant_permission(
            caller,
            GrantPermission {
                to_principal: principal,
                permission: Permission::Commit,
            },
        )
    })
}

#[ic_cdk::update]
fn deauthorize(principal: Principal) {
    write(|server, caller, _| {
        server.revoke_permission(
            caller,
            RevokePermission {
                of_principal: principal,
                permission: Permission::Commit,
            },
        )
    })
}

#[ic_cdk::update]
fn list_authorized() -> Vec<Principal> {
    with_server(|server| server.list_permitted(Permission::Commit))
}

#[ic_cdk::update]
fn grant_permission(args: GrantPermission) {
    write(|server, caller, _| server.grant_permission(caller, args))
}

#[ic_cdk::update]
fn revoke_permission(args: RevokePermission) {
    write(|server, caller, _| server.revoke_permission(caller, args))
}

#[ic_cdk::update]
fn list_permitted(args: ListPermitted) -> Vec<Principal> {
    with_server(|server| server.list_permitted(args.permission))
}

#[ic_cdk::update]
fn take_ownership() {
    write(|server, caller, _| server.take_ownership(caller))
}
