//! Shared integration-test harness: a real RabbitMQ vhost per test ([`broker`]), or one on the
//! three-node cluster ([`cluster`]), and the real `minhu` binary run as a child process
//! ([`gateway`]), the department side's helpers ([`handling`]), a raw HTTP client ([`http`]),
//! the golden-fixture runner ([`golden`]), copies of the sample routing folder ([`routing`]), a
//! moved wall clock for child processes ([`faketime`]), headless Chromium for the console
//! ([`browser`]), the interop tests' Python venv ([`python`]), and PostgreSQL started by
//! `scripts/pg.sh` ([`pg`]).
#![allow(dead_code)]

pub mod broker;
pub mod browser;
pub mod cluster;
pub mod faketime;
pub mod gateway;
pub mod golden;
pub mod handling;
pub mod http;
pub mod pg;
pub mod python;
pub mod routing;
