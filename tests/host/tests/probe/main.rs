//! The host's own tests, in one binary so the probe canister is compiled
//! once for all of them.

mod common;

mod certificate;
mod context_rules;
mod identity;
mod instructions;
mod link;
mod memory_limits;
mod queries;
mod rollback;
mod self_calls;
mod sizes;
mod upgrade;
