//! WeChat official account and mini-program adapter: pure translation of pushes into `minhu.v1.Request`, plus the protocol pieces (signatures, AES "safe mode", passive replies). No gateway internals.
#![forbid(unsafe_code)]
