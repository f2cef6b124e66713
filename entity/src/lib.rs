//! sea-orm entities for donornet, in generated style.
//!
//! Entities describe tables and nothing else: behaviour (validation, derivations, queries) lives
//! in the `donornet` crate (`src/domain`, `src/store`) so that regenerating an entity never
//! erases it.

pub mod region;

pub mod prelude {
    pub use super::region::Entity as Region;
}
