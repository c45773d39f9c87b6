//! The scheduler's decisions on one unit, under a clock the test moves.
use super::*;
use crate::clocks::WorkingHours;
use crate::clocks::escalation::{Policy, Step, Target, Trigger};
use crate::router::calendar::Calendar;

const HOUR: i64 = 3_600_000;

fn wall(cal: &Calendar) -> Counting<'_> {
    Counting {
        calendar: cal,
        hours: WorkingHours::default(),
        around_the_clock: true,
    }
}

fn unit() -> Unit {
    Unit {
        started_at: 0,
        sign: Some(Clock {
            yellow_at: 2 * HOUR,
            red_at: 4 * HOUR,
        }),
        signed: false,
        complete: Clock {
            yellow_at: 10 * HOUR,
            red_at: 20 * HOUR,
        },
        sign_light: Light::Green,
        complete_light: Light::Green,
        returns: 0,
    }
}

fn policy() -> Policy {
    Policy {
        id: "p".into(),
        steps: vec![
            Step {
                trigger: Trigger::Unsigned { after_ms: 5 * HOUR },
                target: Target::Leader,
                repeat_ms: Some(2 * HOUR),
                max_sends: 3,
            },
            Step {
                trigger: Trigger::Red { after_days: 0 },
                target: Target::District,
                repeat_ms: None,
                max_sends: 1,
            },
            Step {
                trigger: Trigger::Returned { times: 2 },
                target: Target::City,
                repeat_ms: None,
                max_sends: 1,
            },
        ],
    }
}

/// Applies an evaluation to the unit, as the store does.
fn keep(u: &mut Unit, e: &Evaluation) {
    u.sign_light = e.sign_light;
    u.complete_light = e.complete_light;
}

#[test]
fn an_unsigned_unit_turns_yellow_then_red_then_escalates_and_repeats() {
    let cal = Calendar::EveryDay;
    let (k, p) = (wall(&cal), policy());
    let mut u = unit();
    let e = evaluate(&u, Some(&p), &[], &k, HOUR);
    assert!(e.lights.is_empty() && e.fired.is_empty());
    assert_eq!(e.next_at, Some(2 * HOUR));

    let e = evaluate(&u, Some(&p), &e.sent, &k, 2 * HOUR);
    assert_eq!(e.lights.len(), 1);
    assert_eq!(
        (e.lights[0].stage, e.lights[0].light),
        (Stage::SignFor, Light::Yellow)
    );
    assert_eq!(e.next_at, Some(4 * HOUR));
    keep(&mut u, &e);

    let e = evaluate(&u, Some(&p), &e.sent, &k, 4 * HOUR);
    assert_eq!(e.lights[0].light, Light::Red);
    assert_eq!(e.next_at, Some(5 * HOUR), "the unsigned step is next");
    keep(&mut u, &e);

    let e = evaluate(&u, Some(&p), &e.sent, &k, 5 * HOUR);
    assert_eq!(
        e.fired,
        vec![Fired {
            step: 0,
            send: 1,
            due_at: 5 * HOUR
        }]
    );
    assert_eq!(e.next_at, Some(7 * HOUR), "repeat after 2 h");
    let e = evaluate(&u, Some(&p), &e.sent, &k, 7 * HOUR);
    assert_eq!(e.fired[0].send, 2);
    let e = evaluate(&u, Some(&p), &e.sent, &k, 9 * HOUR);
    assert_eq!(e.fired[0].send, 3);
    assert_eq!(
        e.next_at,
        Some(10 * HOUR),
        "sent three times: only the completion clock"
    );
}

#[test]
fn a_late_look_sends_each_missed_threshold_once() {
    let cal = Calendar::EveryDay;
    let (k, p) = (wall(&cal), policy());
    let u = unit();
    // Down from hour 1 to hour 30: both sign-for lights, both completion lights, the unsigned
    // step once (not its three sends), the red step once.
    let e = evaluate(&u, Some(&p), &[], &k, 30 * HOUR);
    let lights: Vec<(Stage, Light, i64)> = e
        .lights
        .iter()
        .map(|l| (l.stage, l.light, l.crossed_at))
        .collect();
    assert_eq!(
        lights,
        vec![
            (Stage::SignFor, Light::Yellow, 2 * HOUR),
            (Stage::SignFor, Light::Red, 4 * HOUR),
            (Stage::Complete, Light::Yellow, 10 * HOUR),
            (Stage::Complete, Light::Red, 20 * HOUR),
        ]
    );
    let fired: Vec<(usize, u32)> = e.fired.iter().map(|f| (f.step, f.send)).collect();
    assert_eq!(fired, vec![(0, 1), (1, 1)]);
    // The next repeat counts from the catch-up, not from the missed schedule.
    assert_eq!(e.next_at, Some(32 * HOUR));
    // Looking again at the same instant sends nothing twice.
    let mut u2 = u.clone();
    keep(&mut u2, &e);
    let again = evaluate(&u2, Some(&p), &e.sent, &k, 30 * HOUR);
    assert!(again.lights.is_empty() && again.fired.is_empty());
}

#[test]
fn signing_stops_the_sign_for_clock_and_its_chain() {
    let cal = Calendar::EveryDay;
    let (k, p) = (wall(&cal), policy());
    let mut u = unit();
    u.signed = true;
    u.sign = None;
    let e = evaluate(&u, Some(&p), &[], &k, 6 * HOUR);
    assert!(e.lights.is_empty() && e.fired.is_empty());
    assert_eq!(e.next_at, Some(10 * HOUR));
    // Red plus nothing: the red step fires at the deadline, once.
    let e = evaluate(&u, Some(&p), &e.sent, &k, 20 * HOUR);
    assert_eq!(e.fired.len(), 1);
    assert_eq!(e.fired[0].step, 1);
    assert_eq!(
        e.next_at, None,
        "red, every step sent: nothing more to look at"
    );
}

#[test]
fn returns_fire_their_step_at_once_and_a_greener_light_is_silent() {
    let cal = Calendar::EveryDay;
    let (k, p) = (wall(&cal), policy());
    let mut u = unit();
    u.returns = 2;
    let e = evaluate(&u, Some(&p), &[], &k, 0);
    assert_eq!(e.fired.len(), 1);
    assert_eq!(e.fired[0].step, 2);
    // An approved extension put the deadline ahead: red → yellow, no event.
    u.complete_light = Light::Red;
    u.signed = true;
    let e = evaluate(&u, Some(&p), &e.sent, &k, 15 * HOUR);
    assert!(e.lights.is_empty());
    assert_eq!(e.complete_light, Light::Yellow);
}

#[test]
fn red_plus_working_days_counts_the_calendar() {
    let cal = Calendar::Weekdays;
    let k = Counting {
        calendar: &cal,
        hours: WorkingHours::default(),
        around_the_clock: false,
    };
    let p = Policy {
        id: "p".into(),
        steps: vec![Step {
            trigger: Trigger::Red { after_days: 1 },
            target: Target::City,
            repeat_ms: None,
            max_sends: 1,
        }],
    };
    // Red on Friday 20 November 2026 at 17:30 (the close): one working day later is Monday's
    // close, not Saturday's.
    let fri_close = 1_795_167_000_000; // 2026-11-20T17:30+08:00
    let mon_close = fri_close + 3 * 86_400_000;
    let mut u = unit();
    u.signed = true;
    u.sign = None;
    u.complete = Clock {
        yellow_at: fri_close - HOUR,
        red_at: fri_close,
    };
    let e = evaluate(&u, Some(&p), &[], &k, fri_close);
    assert_eq!(e.next_at, Some(mon_close));
}
