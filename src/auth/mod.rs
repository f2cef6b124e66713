//! Authentication: password and token secrets. Who may do what is decided in
//! [`crate::domain::policy`]; the HTTP side (cookies, bearer tokens, CSRF) is in
//! [`crate::api::auth`]; accounts are stored by [`crate::store::accounts`].

pub mod secret;
