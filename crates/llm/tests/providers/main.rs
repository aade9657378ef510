//! Black-box tests of the providers against local fake servers speaking each wire format.

mod anthropic;
mod common;
mod echo;
mod openai;
mod resilience;
