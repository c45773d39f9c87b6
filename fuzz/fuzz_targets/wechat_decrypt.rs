//! WeChat safe mode: decrypting an `Encrypt` value (base64, AES-CBC, PKCS#7, length prefix,
//! AppId), then parsing what came out.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_wechat::crypto::Cipher;

const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";

fuzz_target!(|data: &[u8]| {
    let Ok(cipher) = Cipher::new(KEY) else { return };
    // Raw text as the Encrypt value, and the same bytes sealed properly (to reach the parser
    // behind the decryption with arbitrary plaintext).
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cipher.decrypt(text);
        let sealed = cipher.encrypt(text, "wx5d8f1a2b3c4d5e6f", [7; 16]);
        if let Ok(d) = cipher.decrypt(&sealed) {
            let _ = minhu_adapter_wechat::xml::parse(&d.xml);
        }
    }
});
