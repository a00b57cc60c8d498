//! The HTTP client alert webhooks are posted with, installed in the
//! engine's notifier.

use rdpm_engine::notify::{Posting, WebhookPoster, DELIVERY_ID_HEADER, SEND_TIMEOUT};

use crate::error::ServerError;

/// Posts webhooks with reqwest (rustls, bundled roots).
pub(crate) struct Webhooks {
    http: reqwest::Client,
}

impl Webhooks {
    pub(crate) fn new() -> Result<Webhooks, ServerError> {
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .user_agent(concat!("rdpm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ServerError::Task(format!("cannot build the webhook client: {e}")))?;
        Ok(Webhooks { http })
    }
}

impl WebhookPoster for Webhooks {
    fn post<'a>(
        &'a self,
        url: &'a str,
        delivery_id: String,
        body: serde_json::Value,
    ) -> Posting<'a> {
        Box::pin(async move {
            let response = self
                .http
                .post(url)
                .header(DELIVERY_ID_HEADER, delivery_id)
                .json(&body)
                .send()
                .await
                // The URL may carry a secret; the error is shown in alerts.
                .map_err(|e| format!("the webhook could not be reached: {}", e.without_url()))?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("the webhook answered HTTP {status}"))
            }
        })
    }
}
