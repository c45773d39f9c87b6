//! The spot a report names: where on its road or in its community the problem is ("银行旁",
//! "幼儿园门口", "后门", "3号楼下"), and whether two spots are the same, different or cannot
//! be told apart.
//!
//! A Chinese address runs from the largest unit to the smallest: district, street, community or
//! road ([`Kind::Place`](super::lexicon::Kind::Place) words end each), then the spot. A spot
//! is a landmark and a position:
//! - a landmark is a kind from the lexicon ("银行"), a name ending like a landmark ("体育馆",
//!   "工商银行": at most [`MAX_NAME`](super::lexicon::MAX_NAME) characters and an ending), or a
//!   numbered one ("3号楼");
//! - a position says where at the landmark ("旁", "对面", "下", "南门") or, with no landmark,
//!   where at the place itself ("后门", "西侧路口": positions that stand alone).
//!
//! The spot remembers the place it is in, the smallest unit written before it ("东五路",
//! "桃农小区"): "3号楼" of two communities is not one spot. A spot followed by a place ending
//! was part of a place's name ("解放门街道"), not a spot. An address names its spot last; a
//! description names it right after a place, so the first one counts there. Only the address is
//! read when it names one: it is the field channels fill in for exactly this.
mod read;

/// Most characters a spot keeps with its place (longer ones are cut at the end).
const MAX_CHARS: usize = 24;

/// Most characters of the place kept before a spot ("大兴东路社区").
const MAX_PLACE: usize = 8;

/// A spot: the place it is in (possibly unknown), then landmark characters (possibly none), then
/// position characters (possibly none, not both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spot {
    chars: Box<[char]>,
    place: u8,
    landmark: u8,
    /// The sides its position names ([`sides`]), computed once: relations are taken in the
    /// index's hot loop.
    sides: u16,
}

/// How two reports' spots relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// One or both name no spot, or they cannot be told apart ("南门" / "医院南门").
    Unknown,
    /// The same landmark (or one inside the other's name) at compatible positions.
    Same,
    /// Different landmarks, or opposite sides of one.
    Different,
}

impl Spot {
    /// A spot from its place, landmark and position (landmark or position must be given).
    pub fn new(place: &[char], landmark: &[char], position: &[char]) -> Option<Spot> {
        if landmark.is_empty() && position.is_empty() {
            return None;
        }
        let place = &place[place.len().saturating_sub(MAX_PLACE)..];
        let landmark = &landmark[..landmark.len().min(MAX_CHARS - place.len())];
        let position = &position[..position.len().min(MAX_CHARS - place.len() - landmark.len())];
        Some(Spot {
            chars: place
                .iter()
                .chain(landmark)
                .chain(position)
                .copied()
                .collect(),
            place: place.len() as u8,
            landmark: landmark.len() as u8,
            sides: sides(position),
        })
    }

    /// The place it is in ("东五路"); empty when the text names none before it.
    pub fn place(&self) -> &[char] {
        &self.chars[..usize::from(self.place)]
    }

    pub fn landmark(&self) -> &[char] {
        &self.chars[usize::from(self.place)..usize::from(self.place + self.landmark)]
    }

    pub fn position(&self) -> &[char] {
        &self.chars[usize::from(self.place + self.landmark)..]
    }

    /// Bytes it holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.chars.len() * std::mem::size_of::<char>()
    }

    /// Place, landmark and position as one text ("东五路银行旁").
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Lengths in characters of the place and the landmark in [`Spot::text`].
    pub fn lengths(&self) -> (u8, u8) {
        (self.place, self.landmark)
    }

    /// Reads a spot back from [`Spot::text`] and [`Spot::lengths`].
    pub fn from_text(text: &str, (place, landmark): (u8, u8)) -> Option<Spot> {
        let chars: Vec<char> = text.chars().collect();
        let (p, rest) = chars.split_at_checked(usize::from(place))?;
        let (l, pos) = rest.split_at_checked(usize::from(landmark))?;
        Spot::new(p, l, pos)
    }

    /// How this spot relates to `other`'s.
    pub fn relation(&self, other: &Spot) -> Relation {
        let (ca, cb) = (self.place(), other.place());
        let places_agree = ca.ends_with(cb) || cb.ends_with(ca);
        // The common case first: the same words.
        if self.chars[ca.len()..] == other.chars[cb.len()..] && self.landmark == other.landmark {
            return if places_agree {
                Relation::Same
            } else {
                Relation::Unknown
            };
        }
        let (la, lb) = (self.landmark(), other.landmark());
        let (pa, pb) = (self.position(), other.position());
        let named = match (la.is_empty(), lb.is_empty()) {
            // Two landmarks: one must be inside the other's name ("银行" / "工商银行",
            // "7号" / "7号楼"), at positions that are not opposite sides.
            (false, false) if contains(la, lb) || contains(lb, la) => {
                if opposite(self.sides, other.sides) {
                    Relation::Different
                } else {
                    Relation::Same
                }
            }
            (false, false) => Relation::Different,
            // Positions of the place itself: "北门口" is at "北门", "后门" is not at "东侧".
            (true, true) if contains(pa, pb) || contains(pb, pa) => Relation::Same,
            (true, true) => Relation::Different,
            // A landmark against a bare position: "医院南门" may be the "南门" someone else meant;
            // "银行旁" is not the "后门", nor "公交站" the "北门口".
            _ if !pa.is_empty() && !pb.is_empty() && (contains(pa, pb) || contains(pb, pa)) => {
                Relation::Unknown
            }
            _ => Relation::Different,
        };
        // The same words in two places ("3号楼" of two communities) may be one spot or not:
        // which place is which ("早慈巷小区" in "贡院门社区") is for the place signal to say. A
        // place read with a word before it ("反映东五路") is still that place; one not written
        // is no other place.
        if named == Relation::Same && !places_agree {
            Relation::Unknown
        } else {
            named
        }
    }
}

/// How the spots of two reports relate; [`Relation::Unknown`] when either names none.
pub fn relation(a: Option<&Spot>, b: Option<&Spot>) -> Relation {
    match (a, b) {
        (Some(a), Some(b)) => a.relation(b),
        _ => Relation::Unknown,
    }
}

fn contains(hay: &[char], needle: &[char]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Opposite sides: compass directions, front and back, above and below, inside and outside.
/// One bit per side; the axes are the groups of bits in [`AXIS_MASKS`].
const SIDES: [char; 10] = ['东', '西', '南', '北', '前', '后', '上', '下', '内', '外'];
const AXIS_MASKS: [u16; 4] = [0b1111, 0b11 << 4, 0b11 << 6, 0b11 << 8];

/// The sides a position names, as bits of [`SIDES`].
fn sides(position: &[char]) -> u16 {
    SIDES
        .iter()
        .enumerate()
        .filter(|(_, c)| position.contains(c))
        .fold(0, |m, (i, _)| m | 1 << i)
}

/// Whether two positions are on opposite sides: on some axis both name a side and none is the
/// same ("南门" / "北门口", "桥上" / "桥下").
fn opposite(a: u16, b: u16) -> bool {
    AXIS_MASKS
        .iter()
        .any(|m| a & m != 0 && b & m != 0 && a & b & m == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::lexicon::Lexicon;

    fn rel(a: (&str, &str), b: (&str, &str)) -> Relation {
        let s = |(l, p): (&str, &str)| {
            let (l, p): (Vec<char>, Vec<char>) = (l.chars().collect(), p.chars().collect());
            Spot::new(&[], &l, &p).unwrap()
        };
        s(a).relation(&s(b))
    }

    #[test]
    fn relations() {
        use Relation::*;
        assert_eq!(rel(("银行", "旁"), ("幼儿园", "门口")), Different);
        assert_eq!(rel(("银行", "旁"), ("银行", "门口")), Same);
        assert_eq!(rel(("银行", "旁"), ("工商银行", "")), Same);
        assert_eq!(rel(("医院", "南门"), ("医院", "北门")), Different);
        assert_eq!(rel(("桥", "上"), ("桥", "下")), Different);
        assert_eq!(rel(("7号楼", "下"), ("7号", "")), Same);
        assert_eq!(rel(("", "北门口"), ("", "北门")), Same);
        assert_eq!(rel(("", "北门口"), ("", "南门")), Different);
        assert_eq!(rel(("", "后门"), ("", "西侧路口")), Different);
        assert_eq!(rel(("", "后门"), ("银行", "旁")), Different);
        assert_eq!(rel(("", "南门"), ("医院", "南门")), Unknown);
        assert_eq!(rel(("公交站", ""), ("", "北门口")), Different);
        assert_eq!(
            relation(None, Spot::new(&[], &['桥'], &['下']).as_ref()),
            Unknown
        );
        // The same words in two places.
        let lex = Lexicon::builtin();
        let of = |a: &str| Spot::of(lex, a, "").unwrap();
        let here = of("莲湖区惠民北坊社区3号楼");
        assert_eq!(here.relation(&of("土门街道惠民北坊社区3号楼下")), Same);
        assert_eq!(here.relation(&of("大兴东路社区3号楼")), Unknown);
        assert_eq!(here.relation(&of("大兴东路社区5号楼")), Different);
        assert_eq!(
            here.relation(&of("3号楼")),
            Same,
            "a place unknown is no other place"
        );
    }

    #[test]
    fn text_round_trips() {
        let s = Spot::of(Lexicon::builtin(), "新城区解放门街道东五路医院南门", "").unwrap();
        assert_eq!(s.text(), "东五路医院南门");
        assert_eq!(s.place(), ['东', '五', '路']);
        assert_eq!(Spot::from_text(&s.text(), s.lengths()), Some(s));
    }
}
