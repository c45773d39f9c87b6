//! Shared integration-test harness: a real RabbitMQ vhost per test ([`broker`]) and the real
//! `minhu` binary run as a child process ([`gateway`]), a raw HTTP client ([`http`]), the golden-fixture runner ([`golden`]), copies of the
//! sample routing folder ([`routing`]), and a moved wall clock for child processes
//! ([`faketime`]).
#![allow(dead_code)]

pub mod broker;
pub mod faketime;
pub mod gateway;
pub mod golden;
pub mod http;
pub mod routing;
