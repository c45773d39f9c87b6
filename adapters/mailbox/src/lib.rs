//! Mayor's mailbox adapter: raw e-mail (MIME) and web forms translated into `minhu.v1.Request`. No gateway internals.
#![forbid(unsafe_code)]
