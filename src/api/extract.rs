//! Extractors whose rejections are `AppError`s, so that malformed input comes out as
//! problem+json naming what was wrong, like every other error.

use axum::extract::{FromRequest, FromRequestParts};

use crate::error::AppError;

/// `axum::extract::Query`, rejecting with a 400 problem that names the parameter.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path`, rejecting with a 400 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// `axum::Json`, rejecting with a 400 (or 413) problem.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);
