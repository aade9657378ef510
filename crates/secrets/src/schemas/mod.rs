//! Secret bodies: [`SecretPut`] (the value to store), [`SecretInfo`] and [`SecretList`] (what
//! a read shows: never the value), and the rules of names and values.

pub mod rules;
mod secret;

pub use secret::{SecretInfo, SecretList, SecretPut};
