//! Authentication: password and token secrets. Who may do what is decided in
//! [`crate::domain::policy`]; signing in, accounts and tokens are the
//! [`crate::accounts`] service's; the HTTP side (cookies, bearer tokens, CSRF) is
//! [`crate::api::auth`]; accounts are stored by [`crate::store::accounts`].

pub mod secret;
