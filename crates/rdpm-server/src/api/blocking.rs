//! Engine and storage calls from handlers: they block, so they run off the
//! async executor.

use crate::error::ApiError;

/// Runs `f` off the async executor, and answers its error the way the API
/// does (an engine error through its one mapping).
pub(crate) async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("a blocking task failed", &e))?
        .map_err(Into::into)
}
