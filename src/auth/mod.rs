//! Authentication: password and token secrets ([`secret`]) and who is calling ([`caller`]:
//! bearer tokens, the session cookie, the client's address), shared by the API and the pages.
//! Who may do what is decided in [`crate::domain::policy`]; signing in, accounts and tokens
//! are the [`crate::accounts`] service's; the API's CSRF rule and its sign-in endpoints are
//! in `api::auth`, the pages' in `web`; accounts are stored by [`crate::store::accounts`].

pub mod caller;
pub mod secret;

pub use caller::{Caller, Credential, client_address, identify};
