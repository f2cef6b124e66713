//! Database migrations for donornet, run identically on SQLite and PostgreSQL.
//!
//! One file per change, named `mYYYYMMDD_HHMMSS_what.rs`. A migration that has shipped is never
//! edited; a change to the schema is a new migration.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_regions;
mod m20261126_000001_create_points_and_audit;
mod m20261126_000002_add_region_version;
mod m20261126_000003_create_village_surveys;
mod m20261126_000004_create_coordinators;
mod m20261126_000005_create_accounts;
mod m20261126_000006_create_fleet;
mod m20261126_000007_create_plans;
mod m20261126_000008_create_drives;
mod m20261126_000009_create_bookings;
mod m20261126_000010_create_checklists;
mod m20261207_000011_create_group_requests;
mod m20261207_000012_outbox_by_hand;
mod m20261207_000013_create_hosts;
mod m20261207_000014_create_publicity_talks;
mod m20261207_000015_create_donor_roster;
mod m20261207_000016_create_appeals;
mod m20261207_000017_group_drives;
mod m20261207_000018_donor_withdraw_links;
mod m20261207_000019_group_request_appeal;
mod m20261207_000022_widen_audit_action;
mod m20261207_000023_create_roster_withdrawals;
mod m20261208_000024_create_inventory;
mod m20261208_000025_create_linkage;
mod m20261208_000026_create_rate_limits;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_regions::Migration),
            Box::new(m20261126_000001_create_points_and_audit::Migration),
            Box::new(m20261126_000002_add_region_version::Migration),
            Box::new(m20261126_000003_create_village_surveys::Migration),
            Box::new(m20261126_000004_create_coordinators::Migration),
            Box::new(m20261126_000005_create_accounts::Migration),
            Box::new(m20261126_000006_create_fleet::Migration),
            Box::new(m20261126_000007_create_plans::Migration),
            Box::new(m20261126_000008_create_drives::Migration),
            Box::new(m20261126_000009_create_bookings::Migration),
            Box::new(m20261126_000010_create_checklists::Migration),
            Box::new(m20261207_000011_create_group_requests::Migration),
            Box::new(m20261207_000012_outbox_by_hand::Migration),
            Box::new(m20261207_000013_create_hosts::Migration),
            Box::new(m20261207_000014_create_publicity_talks::Migration),
            Box::new(m20261207_000015_create_donor_roster::Migration),
            Box::new(m20261207_000016_create_appeals::Migration),
            Box::new(m20261207_000017_group_drives::Migration),
            Box::new(m20261207_000018_donor_withdraw_links::Migration),
            Box::new(m20261207_000019_group_request_appeal::Migration),
            Box::new(m20261207_000022_widen_audit_action::Migration),
            Box::new(m20261207_000023_create_roster_withdrawals::Migration),
            Box::new(m20261208_000024_create_inventory::Migration),
            Box::new(m20261208_000025_create_linkage::Migration),
            Box::new(m20261208_000026_create_rate_limits::Migration),
        ]
    }
}
