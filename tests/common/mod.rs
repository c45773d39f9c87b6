//! Shared integration-test harness: a real RabbitMQ vhost per test ([`broker`]) and the real
//! `minhu` binary run as a child process ([`gateway`]), and a raw HTTP client ([`http`]).
#![allow(dead_code)]

pub mod broker;
pub mod gateway;
pub mod http;
