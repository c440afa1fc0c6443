//! Unit tests of the registry and its exposition.
#![allow(clippy::unwrap_used)]

use super::*;

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{series} missing"))
        .parse()
        .unwrap()
}

#[test]
fn counters_move_under_their_labels() {
    let m = Metrics::new();
    m.auth_failed();
    m.auth_failed_in(AuthScope::Admin);
    m.auth_failed_in(AuthScope::Admin);
    m.outbound_sent(Channel::Telegram, 200);
    m.outbound_sent(Channel::Discord, 418);
    m.platform_429(Channel::Whatsapp);
    m.pairing(PairingOutcome::CodeClaimed);
    m.inbound_dead(Channel::Discord);
    let text = m.render();
    assert_eq!(
        sample(&text, "mux_auth_failures_total{scope=\"tenant\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "mux_auth_failures_total{scope=\"admin\"}"),
        2.0
    );
    assert_eq!(
        sample(
            &text,
            "mux_outbound_sends_total{channel=\"telegram\",status=\"200\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "mux_outbound_sends_total{channel=\"discord\",status=\"other\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "mux_platform_rate_limited_total{channel=\"whatsapp\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "mux_pairing_outcomes_total{outcome=\"code_claimed\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(&text, "mux_inbound_events_dead_total{channel=\"discord\"}"),
        1.0
    );
}

#[test]
fn histograms_are_cumulative_and_end_in_the_count() {
    let m = Metrics::new();
    m.forward_latency(3);
    m.forward_latency(40);
    m.forward_latency(60_000);
    m.writer_batch(3, Duration::from_millis(2));
    let text = m.render();
    assert_eq!(
        sample(&text, "mux_forward_latency_seconds_bucket{le=\"0.005\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "mux_forward_latency_seconds_bucket{le=\"0.05\"}"),
        2.0
    );
    assert_eq!(
        sample(&text, "mux_forward_latency_seconds_bucket{le=\"30\"}"),
        2.0
    );
    assert_eq!(
        sample(&text, "mux_forward_latency_seconds_bucket{le=\"+Inf\"}"),
        3.0
    );
    assert_eq!(sample(&text, "mux_forward_latency_seconds_count"), 3.0);
    assert_eq!(sample(&text, "mux_forward_latency_seconds_sum"), 60.043);
    assert_eq!(sample(&text, "mux_writer_batch_size_bucket{le=\"4\"}"), 1.0);
    assert_eq!(sample(&text, "mux_writer_batch_size_bucket{le=\"2\"}"), 0.0);
    assert_eq!(
        sample(&text, "mux_writer_commit_seconds_bucket{le=\"0.0025\"}"),
        1.0
    );
    assert_eq!(sample(&text, "mux_writer_commit_seconds_sum"), 0.002);
}

#[test]
fn gauges_hold_the_last_value_set() {
    let m = Metrics::new();
    m.set_queue(7, 42);
    m.set_queue(5, 9);
    let text = m.render();
    assert_eq!(sample(&text, "mux_inbound_queue_depth"), 5.0);
    assert_eq!(sample(&text, "mux_inbound_oldest_pending_age_seconds"), 9.0);
}

#[test]
fn every_sample_follows_its_type_line() {
    let text = Metrics::new().render();
    let mut typed: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.push(rest.split(' ').next().unwrap().to_owned());
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().unwrap();
            let base = typed.last().unwrap();
            assert!(name.starts_with(base.as_str()), "{name} outside {base}");
        }
    }
}

#[test]
fn actions_are_counted_by_channel_and_outcome() {
    let m = Metrics::new();
    m.outbound_action(Channel::Telegram, ActionOutcome::Skipped);
    m.outbound_action(Channel::Telegram, ActionOutcome::Skipped);
    m.outbound_action(Channel::Whatsapp, ActionOutcome::Sent);
    let text = m.render();
    let at = |channel: &str, outcome: &str| {
        sample(
            &text,
            &format!("mux_outbound_actions_total{{channel=\"{channel}\",outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(at("telegram", "skipped"), 2.0);
    assert_eq!(at("whatsapp", "sent"), 1.0);
    assert_eq!(at("discord", "failed"), 0.0);
}
