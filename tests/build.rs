//! Sets `cfg(test_postgres)` when the tests are built for PostgreSQL (`TEST_DATABASE_URL`
//! names a postgres server), so PostgreSQL-only tests are `#[ignore]`d on SQLite and reported
//! as such, instead of passing without running.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(test_postgres)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        println!("cargo::rustc-cfg=test_postgres");
    }
}
