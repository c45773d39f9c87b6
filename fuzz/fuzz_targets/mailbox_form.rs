//! The mayor's-mailbox web form, JSON and urlencoded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_mailbox::form::{Form, translate_form};

fuzz_target!(|data: &[u8]| {
    let opts = minhu_adapter_mailbox::Options::default();
    for form in [Form::from_json(data), Form::from_urlencoded(data)] {
        if let Ok(f) = form {
            let _ = translate_form(&f, &opts);
        }
    }
});
