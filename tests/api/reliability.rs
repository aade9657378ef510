//! Faults from outside: text PostgreSQL cannot store, a database that drops connections,
//! slow or encoded request bodies.

mod encoding;
mod nul;
mod slow_body;
mod unavailable;
