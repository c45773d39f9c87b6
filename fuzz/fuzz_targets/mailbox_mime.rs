//! An e-mail as the MTA hands it over (MIME, charsets, attachments, auto-reply filters).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = minhu_adapter_mailbox::translate_mail(data, &minhu_adapter_mailbox::Options::default());
});
