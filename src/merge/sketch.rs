//! What the index remembers of one report: a few hundred bytes that every signal can be
//! computed from, and their encoding in the store (`merge_members`), from which the index is
//! rebuilt at start-up.
use super::lexicon::Lexicon;
use super::signals;
use super::spot::Spot;
use crate::pb;

/// Bigram hashes kept of a report's description and address (a bottom-k sample beyond).
const TEXT_CAP: usize = 64;
/// Bigram hashes kept of its address alone.
const ADDR_CAP: usize = 32;
/// Characters of the address kept for the spot comparison.
const ADDRESS_CHARS: usize = 24;
/// Numbers kept.
const NUMBERS_CAP: usize = 4;

/// One report as the merge index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    /// The ticket's sequence number (stable id of the report inside the store).
    pub ticket_seq: i64,
    /// When the citizen reported it (`reported_at`, or acceptance when absent or later).
    pub at_ms: i64,
    /// WGS-84 position, when the channel gave one.
    pub pos: Option<(f32, f32)>,
    /// Hash of the reporter's phone, openid or e-mail; 0 when none.
    pub reporter: u32,
    /// Bigram hashes of description and address.
    pub text: Box<[u16]>,
    /// Bigram hashes of the address.
    pub addr: Box<[u16]>,
    /// The address, normalised and cut to [`ADDRESS_CHARS`] characters.
    pub address: Box<[char]>,
    /// Numbers mentioned in address and description.
    pub numbers: Box<[u32]>,
    /// The spot the report names ("银行旁"), if any.
    pub spot: Option<Spot>,
}

/// Flag in the position byte of the encoding: a spot follows the numbers. Sketches written
/// before spots existed have 0 or 1 there and decode with no spot.
const HAS_SPOT: u8 = 2;

impl Sketch {
    /// Sketches a request, reading its spot with `lex`. `accepted_ms` bounds the report time: a
    /// clock ahead of ours does not make a report newer than its arrival.
    pub fn of(req: &pb::Request, lex: &Lexicon, ticket_seq: i64, accepted_ms: i64) -> Sketch {
        let at_ms = req
            .reported_at
            .as_ref()
            .map(crate::time::timestamp_to_ms)
            .filter(|t| *t > 0)
            .map_or(accepted_ms, |t| t.min(accepted_ms));
        let loc = req.location.clone().unwrap_or_default();
        let pos = (loc.has_coordinates && loc.lat.is_finite() && loc.lng.is_finite())
            .then_some((loc.lat as f32, loc.lng as f32));
        let reporter = req.reporter.as_ref().map_or(0, reporter_hash);
        let mut address = signals::normalise(&loc.address);
        address.truncate(ADDRESS_CHARS);
        let texts = [
            req.title.as_str(),
            req.description.as_str(),
            loc.address.as_str(),
        ];
        Sketch {
            ticket_seq,
            at_ms,
            pos,
            reporter,
            text: signals::bigrams(&texts, TEXT_CAP).into(),
            addr: signals::bigrams(&[&loc.address], ADDR_CAP).into(),
            address: address.into(),
            numbers: signals::numbers(&texts, NUMBERS_CAP).into(),
            spot: Spot::of(lex, &loc.address, &req.description),
        }
    }

    /// Bytes this sketch holds on the heap and inline.
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.text.len() * 2
            + self.addr.len() * 2
            + self.address.len() * 4
            + self.numbers.len() * 4
            + self.spot.as_ref().map_or(0, Spot::heap_bytes)
    }

    /// Appends the store encoding (little-endian, length-prefixed; see [`Sketch::decode`]).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend(self.ticket_seq.to_le_bytes());
        out.extend(self.at_ms.to_le_bytes());
        let spot = if self.spot.is_some() { HAS_SPOT } else { 0 };
        match self.pos {
            Some((lat, lng)) => {
                out.push(1 | spot);
                out.extend(lat.to_le_bytes());
                out.extend(lng.to_le_bytes());
            }
            None => out.push(spot),
        }
        out.extend(self.reporter.to_le_bytes());
        out.push(self.text.len() as u8);
        self.text.iter().for_each(|h| out.extend(h.to_le_bytes()));
        out.push(self.addr.len() as u8);
        self.addr.iter().for_each(|h| out.extend(h.to_le_bytes()));
        let address: String = self.address.iter().collect();
        out.push(address.len() as u8);
        out.extend(address.as_bytes());
        out.push(self.numbers.len() as u8);
        self.numbers
            .iter()
            .for_each(|n| out.extend(n.to_le_bytes()));
        if let Some(s) = &self.spot {
            let text = s.text();
            let (place, landmark) = s.lengths();
            out.push(place);
            out.push(landmark);
            out.push(text.len() as u8);
            out.extend(text.as_bytes());
        }
    }

    /// Reads every sketch of an encoded list; `None` if the bytes are damaged.
    pub fn decode_all(mut bytes: &[u8]) -> Option<Vec<Sketch>> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            out.push(Self::decode(&mut bytes)?);
        }
        Some(out)
    }

    fn decode(b: &mut &[u8]) -> Option<Sketch> {
        let ticket_seq = i64::from_le_bytes(take(b)?);
        let at_ms = i64::from_le_bytes(take(b)?);
        let flags = take::<1>(b)?[0];
        let pos = match flags & 1 {
            0 => None,
            _ => Some((f32::from_le_bytes(take(b)?), f32::from_le_bytes(take(b)?))),
        };
        let reporter = u32::from_le_bytes(take(b)?);
        let n = take::<1>(b)?[0] as usize;
        let text = (0..n)
            .map(|_| take(b).map(u16::from_le_bytes))
            .collect::<Option<_>>()?;
        let n = take::<1>(b)?[0] as usize;
        let addr = (0..n)
            .map(|_| take(b).map(u16::from_le_bytes))
            .collect::<Option<_>>()?;
        let n = take::<1>(b)?[0] as usize;
        let (s, rest) = b.split_at_checked(n)?;
        let address = std::str::from_utf8(s).ok()?.chars().collect();
        *b = rest;
        let n = take::<1>(b)?[0] as usize;
        let numbers = (0..n)
            .map(|_| take(b).map(u32::from_le_bytes))
            .collect::<Option<_>>()?;
        let spot = if flags & HAS_SPOT != 0 {
            let [place, landmark, n] = take::<3>(b)?;
            let (s, rest) = b.split_at_checked(usize::from(n))?;
            *b = rest;
            Some(Spot::from_text(
                std::str::from_utf8(s).ok()?,
                (place, landmark),
            )?)
        } else {
            None
        };
        Some(Sketch {
            ticket_seq,
            at_ms,
            pos,
            reporter,
            text,
            addr,
            address,
            numbers,
            spot,
        })
    }
}

fn take<const N: usize>(b: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = b.split_first_chunk::<N>()?;
    *b = rest;
    Some(*head)
}

/// Encodes a list of sketches for the store.
pub fn encode_all(members: &[Sketch]) -> Vec<u8> {
    let mut out = Vec::with_capacity(members.len() * 160);
    members.iter().for_each(|m| m.encode(&mut out));
    out
}

/// The reporter's identity as a hash: digits of the phone, else the openid, else the e-mail.
fn reporter_hash(r: &pb::Reporter) -> u32 {
    let phone: String = r.phone.chars().filter(char::is_ascii_digit).collect();
    // The last 11 digits: "+86 139…" and "139…" are one phone.
    let phone = &phone[phone.len().saturating_sub(11)..];
    let key = if phone.len() >= 5 {
        format!("p:{phone}")
    } else if !r.wechat_openid.is_empty() {
        format!("w:{}", r.wechat_openid)
    } else if !r.email.trim().is_empty() {
        format!("e:{}", r.email.trim().to_lowercase())
    } else {
        return 0;
    };
    let h = signals::fnv1a(key.as_bytes());
    // 0 means "nobody", so a real reporter never hashes to it.
    ((h ^ (h >> 32)) as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex() -> &'static Lexicon {
        Lexicon::builtin()
    }

    fn req() -> pb::Request {
        pb::Request {
            description: "惠民北坊社区3号楼垃圾站周边垃圾成堆".into(),
            location: Some(pb::Location {
                address: "莲湖区土门街道惠民北坊社区3号楼".into(),
                district_code: "610104".into(),
                lat: 34.27,
                lng: 108.89,
                has_coordinates: true,
                ..Default::default()
            }),
            reporter: Some(pb::Reporter {
                phone: "+86 139 1234 5678".into(),
                ..Default::default()
            }),
            reported_at: Some(crate::time::ms_to_timestamp(1_000)),
            ..Default::default()
        }
    }

    #[test]
    fn encoding_round_trips_and_rejects_damage() {
        let s = Sketch::of(&req(), lex(), 7, 5_000);
        assert_eq!(s.at_ms, 1_000, "reported_at, not acceptance");
        assert_eq!(&*s.numbers, &[3]);
        assert_eq!(
            s.spot.as_ref().map(Spot::text).as_deref(),
            Some("惠民北坊社区3号楼")
        );
        let mut plain = s.clone();
        plain.spot = None;
        plain.pos = None;
        let bytes = encode_all(&[s.clone(), plain.clone(), s.clone()]);
        assert_eq!(Sketch::decode_all(&bytes), Some(vec![s.clone(), plain, s]));
        assert_eq!(Sketch::decode_all(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn sketches_written_before_spots_decode_without_one() {
        let mut s = Sketch::of(&req(), lex(), 7, 5_000);
        s.spot = None;
        let mut bytes = Vec::new();
        s.encode(&mut bytes);
        // The encoding of the previous release: flags byte 1 (position), nothing after numbers.
        assert_eq!(bytes[16], 1);
        assert_eq!(Sketch::decode_all(&bytes), Some(vec![s]));
    }

    #[test]
    fn the_same_phone_written_differently_is_one_reporter() {
        let a = Sketch::of(&req(), lex(), 1, 5_000);
        let mut r = req();
        r.reporter = Some(pb::Reporter {
            phone: "13912345678".into(),
            ..Default::default()
        });
        assert_eq!(Sketch::of(&r, lex(), 2, 5_000).reporter, a.reporter);
        r.reporter = None;
        assert_eq!(Sketch::of(&r, lex(), 2, 5_000).reporter, 0);
    }

    #[test]
    fn a_report_time_in_the_future_counts_as_arrival() {
        let mut r = req();
        r.reported_at = Some(crate::time::ms_to_timestamp(9_000));
        assert_eq!(Sketch::of(&r, lex(), 1, 5_000).at_ms, 5_000);
    }
}
