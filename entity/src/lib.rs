//! sea-orm entities for donornet, in generated style.
//!
//! Entities describe tables and nothing else: behaviour (validation, derivations, queries) lives
//! in the `donornet` crate (`src/domain`, `src/store`) so that regenerating an entity never
//! erases it.

pub mod api_token;
pub mod appeal;
pub mod appeal_template;
pub mod attendance;
pub mod audit_log;
pub mod blood_offer;
pub mod blood_request;
pub mod booking;
pub mod booking_part;
pub mod booking_slot;
pub mod chat_group;
pub mod checklist_item;
pub mod checklist_template;
pub mod coordinator;
pub mod donor;
pub mod donor_withdraw_link;
pub mod drive;
pub mod drive_stop;
pub mod group_request;
pub mod host;
pub mod host_contact;
pub mod inventory_history;
pub mod inventory_level;
pub mod inventory_stock;
pub mod login_failure;
pub mod outbox_message;
pub mod plan;
pub mod point;
pub mod point_coordinator;
pub mod publicity_talk;
pub mod recruitment_call;
pub mod recruitment_need;
pub mod recruitment_rule;
pub mod region;
pub mod roster_withdrawal;
pub mod session;
pub mod station;
pub mod station_inventory;
pub mod user;
pub mod user_scope;
pub mod vehicle;
pub mod village_survey;

pub mod prelude {
    pub use super::api_token::Entity as ApiToken;
    pub use super::appeal::Entity as Appeal;
    pub use super::appeal_template::Entity as AppealTemplate;
    pub use super::attendance::Entity as Attendance;
    pub use super::audit_log::Entity as AuditLog;
    pub use super::blood_offer::Entity as BloodOffer;
    pub use super::blood_request::Entity as BloodRequest;
    pub use super::booking::Entity as Booking;
    pub use super::booking_part::Entity as BookingPart;
    pub use super::booking_slot::Entity as BookingSlot;
    pub use super::chat_group::Entity as ChatGroup;
    pub use super::checklist_item::Entity as ChecklistItem;
    pub use super::checklist_template::Entity as ChecklistTemplate;
    pub use super::coordinator::Entity as Coordinator;
    pub use super::donor::Entity as Donor;
    pub use super::donor_withdraw_link::Entity as DonorWithdrawLink;
    pub use super::drive::Entity as Drive;
    pub use super::drive_stop::Entity as DriveStop;
    pub use super::group_request::Entity as GroupRequest;
    pub use super::host::Entity as Host;
    pub use super::host_contact::Entity as HostContact;
    pub use super::inventory_history::Entity as InventoryHistory;
    pub use super::inventory_level::Entity as InventoryLevel;
    pub use super::inventory_stock::Entity as InventoryStock;
    pub use super::outbox_message::Entity as OutboxMessage;
    pub use super::plan::Entity as Plan;
    pub use super::point::Entity as Point;
    pub use super::point_coordinator::Entity as PointCoordinator;
    pub use super::publicity_talk::Entity as PublicityTalk;
    pub use super::recruitment_call::Entity as RecruitmentCall;
    pub use super::recruitment_need::Entity as RecruitmentNeed;
    pub use super::recruitment_rule::Entity as RecruitmentRule;
    pub use super::region::Entity as Region;
    pub use super::roster_withdrawal::Entity as RosterWithdrawal;
    pub use super::session::Entity as Session;
    pub use super::station::Entity as Station;
    pub use super::station_inventory::Entity as StationInventory;
    pub use super::user::Entity as User;
    pub use super::user_scope::Entity as UserScope;
    pub use super::vehicle::Entity as Vehicle;
    pub use super::village_survey::Entity as VillageSurvey;
}
