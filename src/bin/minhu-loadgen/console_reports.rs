//! The reports `minhu-loadgen console fill` opens cases with: a city's mix of channels,
//! categories, districts and urgencies over the sample routing's departments, each report
//! made unmergeable (its address carries one number of its own, and no other text carries
//! any), so every report opens a case of its own.
use std::time::SystemTime;

use minhu::pb;
use rand::Rng;

use crate::sample::{location, random_point};

/// (channel, share in percent). Most reports come by phone, then the city-management
/// platform and WeChat; the emergency lines' transfers are few.
const CHANNELS: &[(pb::Channel, u32)] = &[
    (pb::Channel::Hotline12345, 45),
    (pb::Channel::CityManagement, 12),
    (pb::Channel::Wechat, 10),
    (pb::Channel::GridPatrol, 8),
    (pb::Channel::WebPortal, 6),
    (pb::Channel::MayorMailbox, 5),
    (pb::Channel::Other, 2),
    (pb::Channel::Emergency110, 4),
    (pb::Channel::Emergency119, 3),
    (pb::Channel::Emergency120, 2),
    (pb::Channel::Emergency122, 3),
];

/// (category, what the citizen says). Texts carry no digits (see the module comment) and
/// carry the taxonomy's keywords, so channels that give no category get one inferred.
const KINDS: &[(&str, &str)] = &[
    ("env.fume", "楼下饭店油烟直接往楼上排"),
    ("env.fume", "夜市烧烤摊油烟很大"),
    ("noise.construction", "工地夜间施工噪音很大"),
    ("noise.square_dance", "广场舞音响声音太大"),
    ("noise.commercial", "商铺门口音箱叫卖扰民"),
    ("water.sewer", "下水道堵塞，污水漫到路上"),
    ("water.outage", "小区突然停水，一直没来水"),
    ("road.pothole", "路面塌陷有个大坑，车辆经过很危险"),
    ("road.manhole", "井盖缺失，行人容易掉下去"),
    ("light.streetlight", "小区门口路灯不亮好几天了"),
    ("env.garbage", "垃圾堆放没人清运"),
    ("traffic.parking", "消防通道被车辆长期占用"),
    ("market.street_vendor", "流动摊贩占道经营"),
    ("tree.fallen", "大风刮倒树枝挡住道路"),
    ("labor.wage", "老板拖欠工资两个月"),
];

/// The sample district codes with their names (the address starts with the name).
pub const DISTRICTS: &[(&str, &str)] = &[
    ("610102", "新城区"),
    ("610103", "碑林区"),
    ("610104", "莲湖区"),
    ("610111", "灞桥区"),
    ("610112", "未央区"),
    ("610113", "雁塔区"),
];

fn pick<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut n = rng.random_range(0..total.max(1));
    for (item, share) in items {
        if n < *share {
            return *item;
        }
        n -= share;
    }
    items[0].0
}

/// Report number `seq` of run `run_id`, reported now (the caller's clock).
pub fn request(run_id: &str, seq: u64) -> pb::Request {
    let mut rng = rand::rng();
    let channel = pick(&mut rng, CHANNELS);
    let (category, what) = KINDS[rng.random_range(0..KINDS.len())];
    let (district_code, district) = DISTRICTS[rng.random_range(0..DISTRICTS.len())];
    // WeChat and the web portal give no category: routing infers it from the words.
    let category = match channel {
        pb::Channel::Wechat | pb::Channel::WebPortal => "",
        _ => category,
    };
    let urgency = match rng.random_range(0..100) {
        0..3 => pb::Urgency::Critical,
        3..20 => pb::Urgency::Urgent,
        _ => pb::Urgency::Normal,
    };
    let address = format!("{district}测试路{}号", seq + 1);
    let description = format!("{address}{what}，已经持续好几天，请尽快处理，影响居民正常生活");
    // The hotline's operators type an address; the other channels give a point.
    let at = (channel != pb::Channel::Hotline12345).then(|| random_point(&mut rng));
    pb::Request {
        channel: channel as i32,
        source_system: "minhu-loadgen-console".into(),
        source_id: format!("console-{run_id}-{seq}"),
        reported_at: Some(SystemTime::now().into()),
        request_type: pb::RequestType::Complaint as i32,
        category: category.into(),
        title: String::new(),
        description,
        location: Some(location(address, district_code, at)),
        reporter: Some(pb::Reporter {
            phone: format!("139{:08}", rng.random_range(0..100_000_000u32)),
            ..Default::default()
        }),
        attachments: Vec::new(),
        urgency: urgency as i32,
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_carry_one_number_of_their_own() {
        for seq in [0, 41, 99_999] {
            let r = request("r", seq);
            let numbers: Vec<&str> = r
                .description
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .collect();
            assert_eq!(numbers, vec![(seq + 1).to_string()], "{}", r.description);
            let loc = r.location.as_ref().map(|l| l.district_code.as_str());
            assert!(DISTRICTS.iter().any(|d| Some(d.0) == loc));
        }
    }
}
