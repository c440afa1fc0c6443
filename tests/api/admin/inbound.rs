//! A disabled tenant's inbound is held in its queue, not forwarded, and delivered once enabled.

use awc::http::{Method, StatusCode};
use serde_json::json;

use super::ADMIN;
use crate::helpers::KEY_A;
use crate::helpers::count;
use crate::helpers::eventually;
use crate::inbound_telegram::spawn_polling;

fn pending_of(db: &std::path::Path, tenant: &str) -> i64 {
    count(
        db,
        &format!("inbound_events WHERE tenant_id = '{tenant}' AND state = 'pending'"),
    )
}

#[actix_web::test]
async fn a_disabled_tenants_inbound_is_held_and_delivered_after_enable() {
    let r = spawn_polling(&[("MUX_ADMIN_TOKEN", ADMIN)]).await;
    let claimed = r.claim(KEY_A, "A1", "s-a").await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let disabled = r
        .admin(Method::POST, "/v1/admin/tenants/tenant-a/disable", None)
        .await;
    assert_eq!(disabled.status, StatusCode::OK);

    r.tg().push_text(1, 100, "sent while disabled");
    let db = r.db_path.clone();
    eventually("the message is queued for tenant-a", || {
        pending_of(&db, "tenant-a") == 1
    })
    .await;
    eventually("the update is acknowledged to the platform", || {
        r.tg().pending_updates() == 0
    })
    .await;
    // Given the forwarder every chance to (wrongly) deliver it.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(r.oc().attempts("tenant-a"), 0, "held, not forwarded");
    let a = r.admin_tenant("tenant-a").await;
    assert_eq!(a.expect("tenant-a")["queueDepth"], json!(1));

    let enabled = r
        .admin(Method::POST, "/v1/admin/tenants/tenant-a/enable", None)
        .await;
    assert_eq!(enabled.status, StatusCode::OK);
    eventually("the held message is delivered", || {
        r.oc().accepted("tenant-a").len() == 1
    })
    .await;
    assert_eq!(
        r.oc().accepted("tenant-a")[0].body["body"],
        json!("sent while disabled")
    );
    // The fake records the delivery before it answers; the service marks it delivered after.
    eventually("the delivery is recorded", || {
        pending_of(&db, "tenant-a") == 0
    })
    .await;
    r.stop().await;
}
